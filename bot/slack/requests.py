"""What may reach Bolt: signed bodies of the shapes Bolt's parsing assumes.

Bolt parses a request before it verifies it, and fails with a traceback on some malformed bodies
(a `payload` that is not an object, block_actions with no actions, a user that is a string). These
checks run after the signature check and before Bolt, so such requests get a plain 400.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# "command", "action" (block_actions) and "event" (Events API) can be acked before Bolt runs: their
# ack has no body. "ok" is anything else accepted (a view submission, whose ack may carry errors).
Verdict = Literal["command", "action", "event", "ok", "malformed", "unsupported"]
EVENTS = frozenset({"app_home_opened"})
MAX_AGE = 300  # Slack's own window: a request older than five minutes is refused


def valid_signature(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier decodes them first and fails on
    bytes that are not UTF-8)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lowered.get("x-slack-request-timestamp", ""), lowered.get("x-slack-signature", "")
    if not timestamp.isdigit() or not signature.startswith("v0="):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE:
        return False
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", signature)


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


class _View(_Loose):
    id: str
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


def classify(body: bytes, content_type: str) -> Verdict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "malformed"
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        data = _object(text)
        if data is None:
            return "malformed"
        if data.get("type") == "url_verification":
            return "ok"
        if data.get("type") != "event_callback" or (data.get("event") or {}).get("type") not in EVENTS:
            return "unsupported"  # only the events the manifest subscribes to
        return _shaped(_EventCallback, data, "event")
    form = parse_qs(text, keep_blank_values=True)
    if "payload" not in form:
        # A slash command: flat form fields, which Bolt reads as strings.
        return "command" if "command" in form else "ok"
    payload = _object(form["payload"][0]) if len(form["payload"]) == 1 else None
    if payload is None:
        return "malformed"
    if payload.get("type") == "view_submission":
        return _shaped(_ViewSubmission, payload, "ok")
    if payload.get("type") != "block_actions":
        return "unsupported"  # no shortcuts, no other interactions
    return _shaped(_BlockActions, payload, "action")


def _shaped(model: type[BaseModel], data: dict[str, Any], verdict: Verdict) -> Verdict:
    try:
        model.model_validate(data)
    except ValidationError:
        return "malformed"
    return verdict


def _object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
