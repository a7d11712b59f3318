"""What may reach Bolt: signed bodies of the shapes Bolt's parsing assumes.

The body is parsed once, here (`parse_body`), by key, and Bolt is handed the result: Bolt's own
parse guesses a form's kind from a substring, and the checks and Bolt cannot disagree about what a
body says when there is only one reading of it. Bolt's listeners fail on some bodies that parse (a
`payload` that is not an object, block_actions with no actions, a user that is a number): such
requests get a plain 400 instead of a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.access import Caller

log = logging.getLogger(__name__)

# "command", "action" (block_actions) and "event" (Events API) can be acked before Bolt runs: their
# ack has no body. "ok" is anything else accepted (a view submission, whose ack may carry errors).
# "rate_limited" is Slack telling the app that it dropped events for a minute: answered 200, and said.
# "ignored" is an event the app does not handle: answered 200 too, as Slack retries any other answer
# and turns off an app's event subscriptions when most deliveries fail.
Verdict = Literal["command", "action", "event", "ok", "rate_limited", "ignored", "malformed", "unsupported"]
EVENTS = frozenset({"app_home_opened"})
COMMAND = "/quay"  # the one slash command the manifest declares
MAX_AGE = 300  # Slack's own window: a request older than five minutes is refused
MAX_FIELDS = 64  # a slash command has about 15


SignatureProblem = Literal["unsigned", "malformed", "signature_stale", "signature_mismatch"]
# Slack's headers as Slack writes them: a Unix time in seconds and a hex SHA-256. Anything else
# (a timestamp of 400 digits, non-ASCII digits, a signature int() or compare_digest chokes on) is
# malformed, said before any arithmetic on it.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_problem(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> SignatureProblem | None:
    """What is wrong with Slack's v0 signature over the raw bytes, or None when it is right
    (slack_sdk's verifier decodes the bytes first and fails on bytes that are not UTF-8)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp"), lowered.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "unsigned"
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return "malformed"
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE:
        return "signature_stale"
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(f"v0={expected}", signature) else "signature_mismatch"


def valid_signature(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None) -> bool:
    return signature_problem(secret, body, headers, now) is None


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Named(_Loose):
    id: str


class _Action(_Loose):
    action_id: str
    value: str | None = None
    block_id: str | None = None


class _BlockActions(_Loose):
    type: Literal["block_actions"]
    user: _Named
    team: _Named | None = None
    channel: _Named | None = None
    container: dict[str, Any] | None = None
    enterprise: dict[str, Any] | None = None
    authorizations: list[dict[str, Any]] | None = None
    response_url: str | None = None
    actions: list[_Action] = Field(min_length=1, max_length=10)
    # Present only for clicks in a modal or the App Home, and then an object: Bolt reads it as one
    # (even to log a click no listener takes), so a `view` of null must not reach it.
    view: dict[str, Any] = Field(default_factory=dict)


class _View(_Loose):
    id: str
    type: str  # Bolt's matchers read it
    callback_id: str = Field(max_length=255)
    private_metadata: str = Field(default="", max_length=3000)
    state: dict[str, dict[str, dict[str, dict[str, Any]]]]


class _ViewSubmission(_Loose):
    type: Literal["view_submission"]
    user: _Named
    team: _Named | None = None
    view: _View


class _Event(_Loose):
    type: str
    user: str
    tab: str | None = None


class _EventCallback(_Loose):
    type: Literal["event_callback"]
    team_id: str
    event: _Event


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The fields of a signed body, read by key, or None when it is not of a shape Slack sends.

    Slack posts the Events API as JSON, slash commands as flat form fields, and interactivity as one
    form field `payload` holding JSON. Bolt tells the last two apart by looking for the substring
    "payload" anywhere in the body, so `/quay repo info team-a/payload-svc` became an empty
    interaction; here a form is interactivity only when it has a `payload` key.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == "application/json" or text.startswith("{"):  # Bolt reads a body that starts so as JSON too
        return _json_object(text)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return None  # a field given twice: Slack never sends one, and which would count is a guess
    if "payload" not in fields:
        return fields
    if len(fields) != 1:
        return None  # Slack's interactivity body is the payload alone
    return _json_object(fields["payload"])


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    return parsed if isinstance(parsed, dict) else None


def bolt_request(fields: dict[str, Any], raw: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest | None:
    """Bolt's request for fields already parsed (`parse_body`), or None when Bolt cannot take them.

    Bolt takes a parsed body only in its Socket Mode form; `mode` changes nothing else that this bot
    uses (Bolt's own signature check is off, behind `signature_problem`; no listener is lazy).
    """
    try:
        request = AsyncBoltRequest(body=fields, query=query, headers=dict(headers), mode="socket_mode")
    except Exception:  # Bolt's field lookups on a value of the wrong type
        return None
    request.raw_body = raw.decode("utf-8")
    return request


def classify(body: object) -> Verdict:
    """What Bolt parsed: a form's `payload`, an Events API document, or a slash command's fields."""
    if not isinstance(body, dict):
        return "malformed"
    kind = body.get("type")
    if kind == "block_actions":
        return _shaped(_BlockActions, body, "action")
    if kind == "view_submission":
        return _shaped(_ViewSubmission, body, "ok")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "malformed"
        if event["type"] not in EVENTS:
            return "ignored"  # only the events the manifest subscribes to are handled
        return _shaped(_EventCallback, body, "event")
    if kind == "url_verification":
        return "ok"
    if kind == "app_rate_limited":
        return "rate_limited"
    if kind is not None:
        return "unsupported"  # no shortcuts, no other interactions or events
    # Untyped: a slash command's flat form fields, or Slack's ssl_check, which Bolt answers itself.
    # Nothing else may reach Bolt: no listener takes it, and Bolt's log line for a request no
    # listener takes reads some fields (`view`) as objects whatever they hold.
    if "command" in body:
        if not isinstance(body["command"], str):
            return "malformed"
        return "command" if body["command"] == COMMAND else "unsupported"
    return "ok" if body.get("ssl_check") == "1" else "unsupported"


def _shaped(model: type[BaseModel], data: dict[str, Any], verdict: Verdict) -> Verdict:
    try:
        model.model_validate(data)
    except ValidationError:
        return "malformed"
    return verdict


def caller_of(body: Mapping[str, Any]) -> Caller:
    """Who sent a slash command (flat form fields) or a click (nested objects), and from where."""
    if "command" in body:
        return Caller(str(body.get("team_id") or ""), str(body.get("channel_id") or ""), str(body.get("user_id") or ""))
    user, team, channel, container = (_object_at(body, key) for key in ("user", "team", "channel", "container"))
    return Caller(
        str(team.get("id") or user.get("team_id") or ""),
        str(channel.get("id") or container.get("channel_id") or ""),
        str(user.get("id") or ""),
    )


def _object_at(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def told_rate_limited(body: Mapping[str, Any]) -> None:
    """Slack's `app_rate_limited`: it dropped this app's events for the minute named (30,000 an hour
    per workspace is Slack's limit), so an App Home may have missed being drawn."""
    log.warning(
        "Slack says it dropped events for this app for a minute (app_rate_limited)",
        extra={"team": str(body.get("team_id", ""))[:32], "minute": str(body.get("minute_rate_limited", ""))[:16]},
    )
