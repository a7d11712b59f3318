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

# "command" and "action" (block_actions) can be acked before Bolt runs; "ok" is anything else accepted.
Verdict = Literal["command", "action", "ok", "malformed", "unsupported"]
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


def classify(body: bytes, content_type: str) -> Verdict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "malformed"
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        data = _object(text)
        if data is None:
            return "malformed"
        # No Events API subscription: only Slack's URL check may come as JSON.
        return "ok" if data.get("type") == "url_verification" else "unsupported"
    form = parse_qs(text, keep_blank_values=True)
    if "payload" not in form:
        # A slash command: flat form fields, which Bolt reads as strings.
        return "command" if "command" in form else "ok"
    payload = _object(form["payload"][0]) if len(form["payload"]) == 1 else None
    if payload is None:
        return "malformed"
    if payload.get("type") != "block_actions":
        return "unsupported"  # the bot has no modals, shortcuts or other interactions
    try:
        _BlockActions.model_validate(payload)
    except ValidationError:
        return "malformed"
    return "action"


def _object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
