"""What may reach Bolt: signed bodies of the shapes Bolt's parsing assumes.

The body is parsed once, by Bolt (`bolt_request`), and the checks read Bolt's result: they cannot
disagree with Bolt about what a body says (which of two `payload` fields counts, whether it is
JSON). Bolt's parsing fails on some malformed bodies, and its listeners on others (a `payload` that
is not an object, block_actions with no actions, a user that is a number): such requests get a
plain 400 instead of a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.access import Caller

# "command", "action" (block_actions) and "event" (Events API) can be acked before Bolt runs: their
# ack has no body. "ok" is anything else accepted (a view submission, whose ack may carry errors).
Verdict = Literal["command", "action", "event", "ok", "malformed", "unsupported"]
EVENTS = frozenset({"app_home_opened"})
COMMAND = "/quay"  # the one slash command the manifest declares
MAX_AGE = 300  # Slack's own window: a request older than five minutes is refused


SignatureProblem = Literal["unsigned", "signature_stale", "signature_mismatch"]


def signature_problem(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> SignatureProblem | None:
    """What is wrong with Slack's v0 signature over the raw bytes, or None when it is right
    (slack_sdk's verifier decodes the bytes first and fails on bytes that are not UTF-8)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp", ""), lowered.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature.startswith("v0="):
        return "unsigned"
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


def bolt_request(body: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest | None:
    """Bolt's request for a signed body, or None when Bolt cannot read it."""
    try:
        return AsyncBoltRequest(body=body.decode("utf-8"), query=query, headers=dict(headers))
    except Exception:  # bad UTF-8 or JSON, or Bolt's field lookups on a value of the wrong type
        return None


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
            return "unsupported"  # only the events the manifest subscribes to
        return _shaped(_EventCallback, body, "event")
    if kind == "url_verification":
        return "ok"
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
