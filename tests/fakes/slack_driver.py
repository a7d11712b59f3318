"""Sends what Slack sends: signed slash commands and block_actions, to the bot's /slack/events.

The signature is computed here with hmac directly (an independent oracle), and cross-checked once
against slack_sdk's SignatureVerifier in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.slack_api import TEAM_ID, Call, FakeSlack

FORM = "application/x-www-form-urlencoded"


def signed_headers(secret: str, body: bytes, ts: int, content_type: str = FORM) -> dict[str, str]:
    base = b"v0:%d:" % ts + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Sent:
    status: int
    body: str
    latency: float
    response_url: str

    @property
    def response_id(self) -> str:
        return self.response_url.rsplit("/", 1)[-1]


class SlackDriver:
    def __init__(self, bot_url: str, signing_secret: str, slack: FakeSlack, team_id: str = TEAM_ID) -> None:
        self.bot_url = bot_url.rstrip("/")
        self.secret = signing_secret
        self.slack = slack
        self.team_id = team_id
        self.http = httpx.Client(trust_env=False, timeout=30)
        self.sent: list[tuple[bytes, dict[str, str]]] = []  # every signed body and its headers, for replays

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        body: bytes,
        *,
        ts: int | None = None,
        secret: str | None = None,
        content_type: str = FORM,
        tamper: bytes | None = None,
    ) -> httpx.Response:
        ts = int(time.time()) if ts is None else ts
        headers = signed_headers(self.secret if secret is None else secret, body, ts, content_type)
        self.sent.append((body, headers))
        return self.http.post(
            f"{self.bot_url}/slack/events", content=tamper if tamper is not None else body, headers=headers
        )

    def slash_body(self, text: str, *, user: str, channel: str, response_url: str, command: str = "/quay") -> bytes:
        return urlencode(
            self.slash_fields(text, user=user, channel=channel, response_url=response_url, command=command)
        ).encode()

    def slash_fields(
        self, text: str, *, user: str, channel: str, response_url: str, command: str = "/quay"
    ) -> dict[str, str]:
        """A slash command's fields: the form body over HTTP, the envelope's payload in Socket Mode."""
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0QUAYBOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.slack.new_trigger(),
        }

    def slash(self, text: str, *, user: str, channel: str, **kw: Any) -> Sent:
        response_url = self.slack.new_response_url()
        body = self.slash_body(text, user=user, channel=channel, response_url=response_url)
        started = time.monotonic()
        response = self.post(body, **kw)
        return Sent(response.status_code, response.text, time.monotonic() - started, response_url)

    def reply(self, sent: Sent, index: int = 0, timeout: float = 10.0) -> Call:
        """The `index`-th message the bot posted to this command's response_url."""
        return self.slack.wait_for(sent.response_id, count=index + 1, timeout=timeout)[index]

    def click(self, message: Call, action_id: str, *, user: str, channel: str, value: str | None = None) -> Sent:
        """Click a button the bot really rendered in `message` (a recorded response or post)."""
        block_id, element = _find_action(message.body.get("blocks") or [], action_id)
        response_url = self.slack.new_response_url()
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0QUAYBOT",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1790000000.000200",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "trigger_id": self.slack.new_trigger(),
            "team": {"id": self.team_id, "domain": "fake"},
            "channel": {"id": channel, "name": "ops"},
            "response_url": response_url,
            "message": {"ts": "1790000000.000200", "blocks": message.body.get("blocks")},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": element.get("text"),
                    "value": element.get("value") if value is None else value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.send_payload(payload, response_url)

    # Modals and the home tab ----------------------------------------------------------------------

    def opened_view(self, callback_id: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The `count`-th modal with this callback_id the bot opened, as the fake Slack stored it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = [
                c
                for c in self.slack.calls_to("views.open")
                if (c.body.get("view") or {}).get("callback_id") == callback_id
            ]
            if len(calls) >= count:
                view = calls[count - 1].body["view"]
                for stored in list(self.slack.views.values()):
                    if stored.get("callback_id") == callback_id and stored.get("blocks") == view.get("blocks"):
                        return stored
            time.sleep(0.02)
        raise AssertionError(f"no modal {callback_id} opened; calls: {[c.name for c in self.slack.calls]}")

    def _user(self, user: str) -> dict[str, Any]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id}

    def submit_view(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> httpx.Response:
        """Submit a modal with `values` as Slack's `view.state.values`: {block_id: {action_id: {...}}}."""
        payload = self.view_submission(view, values, user=user)
        return self.post(urlencode({"payload": json.dumps(payload)}).encode())

    def view_submission(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str) -> dict[str, Any]:
        """The payload Slack sends when a modal is submitted (over HTTP, or in a Socket Mode envelope)."""
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "fake"},
            "user": self._user(user),
            "api_app_id": "A0QUAYBOT",
            "token": "legacy-verification-token",
            "trigger_id": self.slack.new_trigger(),
            "view": {**view, "team_id": self.team_id, "state": {"values": values}, "app_id": "A0QUAYBOT"},
            "response_urls": [],
        }

    def select_in_view(
        self,
        view: dict[str, Any],
        block_id: str,
        action_id: str,
        value: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str,
    ) -> httpx.Response:
        """`value` chosen in a static select inside a modal (`dispatch_action`), with the form's
        `values` so far: block_actions with a view container."""
        action = {"block_id": block_id, "action_id": action_id, "type": "static_select"}
        action["selected_option"] = {"value": value}
        return self._act_in_view({**view, "state": {"values": values}}, action, user)

    def click_in_home(self, home: dict[str, Any], action_id: str, *, user: str) -> httpx.Response:
        """Click a button of the published home tab."""
        block_id, element = _find_action(home.get("blocks") or [], action_id)
        action = {"action_id": action_id, "block_id": block_id, "value": element.get("value"), "type": "button"}
        return self._act_in_view(home, action, user)

    def _act_in_view(self, view: dict[str, Any], action: dict[str, Any], user: str) -> httpx.Response:
        """block_actions as Slack sends it from a modal or the home tab: a view container, no response_url."""
        payload = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": "A0QUAYBOT",
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.slack.new_trigger(),
            "team": {"id": self.team_id, "domain": "fake"},
            "view": view,
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}).encode())

    def home_opened(self, user: str) -> httpx.Response:
        """The Events API's app_home_opened, as Slack POSTs it (JSON, signed)."""
        event = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0QUAYBOT",
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": self.team_id, "user_id": "U0QUAYBOT", "is_bot": True}],
        }
        return self.post(json.dumps(event).encode(), content_type="application/json")

    def send_payload(self, payload: dict[str, Any], response_url: str = "") -> Sent:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        started = time.monotonic()
        response = self.post(body)
        return Sent(response.status_code, response.text, time.monotonic() - started, response_url)


def _find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("type") == "section" and block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return block.get("block_id", "b1"), element
    raise AssertionError(f"no button {action_id} in {json.dumps(blocks)[:500]}")
