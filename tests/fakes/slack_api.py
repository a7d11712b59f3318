"""A fake Slack on 127.0.0.1: the Web API the bot calls (`SLACK_API_URL`) and the `response_url`s
the driver hands out. It records every call with its body, checks tokens and Block Kit the way
Slack does, answers like Slack (including 429 with Retry-After), and lets a test wait for a call
instead of sleeping.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes import blockkit

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM_ID, BOT_USER, BOT_ID = "T0TEAM", "U0QUAYBOT", "B0QUAYBOT"
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral"}
VIEW_METHODS = {"views.open", "views.update", "views.publish"}
TRIGGER_SECONDS = 3.0  # a trigger_id is good for one views.open within 3 s


@dataclass
class Call:
    kind: str  # "api" or "response"
    name: str  # API method, or the response_url id
    token: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """Everything a person would read in this message, for assertions."""
        return json.dumps({k: self.body.get(k) for k in ("text", "blocks")}, ensure_ascii=False)


@dataclass
class SlackFault:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


class FakeSlack:
    def __init__(self, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.faults: dict[str, list[SlackFault]] = {}
        self.socket_url: str | None = None
        self.response_posts: dict[str, int] = {}
        self.response_urls: dict[str, float] = {}  # id -> when the interaction that gave it happened
        # Channels the bot was never invited to: Slack refuses its posts there with not_in_channel.
        self.not_member: set[str] = set()
        self.auth_test_latency = 0.05  # Slack's own, roughly; the bot must not wait on it per request
        self.triggers: dict[str, float] = {}  # trigger_id -> when its interaction happened
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the view as last opened or updated
        self.homes: dict[str, dict[str, Any]] = {}  # user -> the home tab last published
        # The bot token's scopes (quaybot's manifest asks for these two) and the workspace's channels,
        # which Slack lists only with channels:read.
        self.scopes: set[str] = {"commands", "chat:write"}
        self.channels: dict[str, str] = {}  # name -> id
        self.now = time.time
        self._condition = threading.Condition()
        self._ts = 1_790_000_000.000100
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # Life cycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def new_response_url(self) -> str:
        """Usable 5 times within 30 minutes, as Slack's."""
        name = uuid.uuid4().hex
        with self._condition:
            self.response_urls[name] = self.now()
        return f"{self.url}/response/{name}"

    def new_trigger(self) -> str:
        trigger = f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        with self._condition:
            self.triggers[trigger] = self.now()
        return trigger

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # Test helpers -------------------------------------------------------------------------------

    def fail_next(self, name: str, fault: SlackFault, times: int = 1) -> None:
        with self._condition:
            self.faults.setdefault(name, []).extend([fault] * times)

    def calls_to(self, name: str) -> list[Call]:
        with self._condition:
            return [c for c in self.calls if c.name == name or (name == "response" and c.kind == "response")]

    def wait_for(
        self, name: str, predicate: Callable[[Call], bool] = lambda c: True, timeout: float = 10.0, count: int = 1
    ) -> list[Call]:
        """Block until `count` calls to `name` match; `name` is an API method, "response", or a response id."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                matching = [c for c in self.calls if _named(c, name) and predicate(c)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.kind, c.name) for c in self.calls]
                    raise AssertionError(f"no {count} x {name} within {timeout}s; calls seen: {seen}")
                self._condition.wait(remaining)

    def assert_no_call(
        self, name: str, within: float = 0.5, predicate: Callable[[Call], bool] = lambda c: True
    ) -> None:
        time.sleep(within)  # a negative needs a window; this is not a timing assertion
        with self._condition:
            found = [c for c in self.calls if _named(c, name) and predicate(c)]
        assert not found, f"unexpected {name}: {[c.body for c in found]}"

    # Serving ------------------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._condition:
            self.calls.append(call)
            self._condition.notify_all()

    def _take_fault(self, name: str) -> SlackFault | None:
        with self._condition:
            queue = self.faults.get(name)
            return queue.pop(0) if queue else None

    def _next_ts(self) -> str:
        with self._condition:
            self._ts += 1
            return f"{self._ts:.6f}"

    def answer_api(self, method: str, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        if method == "apps.connections.open":
            if token is not None and token.startswith(("xoxb-", "xoxp-")):
                return {"ok": False, "error": "not_allowed_token_type"}  # a bot or user token: not for this
            if token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}
            # Slack hands out a URL to a valid token; without a fake socket server, one nothing listens on.
            return {"ok": True, "url": self.socket_url or "ws://127.0.0.1:9/link/?ticket=unused"}
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            time.sleep(self.auth_test_latency)
            return {
                "ok": True,
                "url": "https://fake.slack.test/",
                "team": "Fake",
                "user": "quaybot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method == "conversations.list":
            if "channels:read" not in self.scopes:
                needed = "channels:read,groups:read,mpim:read,im:read"
                return {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(sorted(self.scopes)),
                }
            channels = [{"id": cid, "name": name, "is_channel": True} for name, cid in self.channels.items()]
            return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        if method in VIEW_METHODS:
            return self._view_call(method, body)
        if method in MESSAGE_METHODS:
            if not body.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if body["channel"] in self.not_member:
                return {"ok": False, "error": "not_in_channel"}
            if method == "chat.update" and not body.get("ts"):
                return {"ok": False, "error": "message_not_found"}
            problems = blockkit.problems(body)
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
            ts = body.get("ts") if method == "chat.update" else self._next_ts()
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            return {"ok": True, "channel": body["channel"], "ts": ts, "message": {"text": body.get("text"), "ts": ts}}
        return {"ok": False, "error": "unknown_method"}

    def _view_call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        view = body.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if method == "views.open":
            with self._condition:
                issued = self.triggers.pop(str(body.get("trigger_id")), None)
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}  # unknown, or already exchanged
            if self.now() - issued > TRIGGER_SECONDS:
                return {"ok": False, "error": "expired_trigger_id"}
        if method == "views.publish" and (view.get("type") != "home" or not body.get("user_id")):
            return {"ok": False, "error": "invalid_arguments"}
        if method == "views.update" and body.get("view_id") not in self.views:
            return {"ok": False, "error": "not_found"}
        problems = blockkit.view_problems(view)
        if problems:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
        view_id = body.get("view_id") or f"V{uuid.uuid4().hex[:10].upper()}"
        stored = {**view, "id": view_id, "hash": uuid.uuid4().hex, "state": {"values": {}}}
        with self._condition:
            if method == "views.publish":
                self.homes[str(body["user_id"])] = stored
            else:
                self.views[view_id] = stored
            self._condition.notify_all()
        return {"ok": True, "view": stored}


def _named(call: Call, name: str) -> bool:
    return call.name == name or (name == "response" and call.kind == "response")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        """`GET /_calls`: what was received, with arrival times (for a benchmark in another process);
        `GET /api/<method>?…`: a Web API call, as Slack takes them either way (slack_sdk GETs some)."""
        if self.path.startswith("/api/"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._serve_call(dict(parse_qsl(self.path.partition("?")[2], keep_blank_values=True)), headers)
            return
        if self.path != "/_calls":
            self._send(404, {"ok": False, "error": "not_found"})
            return
        with self.server.fake._condition:
            calls = [{"kind": c.kind, "name": c.name, "at": c.at} for c in self.server.fake.calls]
        self._send(200, {"ok": True, "calls": calls})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._serve_call(_parse_body(raw, headers.get("content-type", "")), headers)

    def _serve_call(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        fake = self.server.fake
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else body.get("token")
        if self.path.startswith("/api/"):
            kind, name = "api", self.path.removeprefix("/api/").split("?")[0]
        elif self.path.startswith("/response/"):
            kind, name = "response", self.path.removeprefix("/response/")
        else:
            self._send(404, {"ok": False, "error": "not_found"})
            return
        fake._record(Call(kind, name, token, body, headers))
        fault = fake._take_fault(name) or (fake._take_fault("response") if kind == "response" else None)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            slow_only = fault.delay and not fault.drop and fault.status == 200 and fault.body is None
            if slow_only:
                fault = None  # slow, then answered as usual
        if fault is not None:
            if fault.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(fault.status, fault.body or {"ok": False, "error": "fake_fault"}, fault.headers)
            return
        if kind == "response":
            problems = blockkit.problems(body)
            with fake._condition:
                fake.response_posts[name] = fake.response_posts.get(name, 0) + 1
                used = fake.response_posts[name]
                issued = fake.response_urls.get(name)
            if problems:
                self._send(400, {"ok": False, "error": "invalid_blocks", "errors": problems})
            elif issued is not None and fake.now() - issued > 30 * 60:
                self._send(404, {"ok": False, "error": "expired_url"})
            elif used > 5:
                self._send(404, {"ok": False, "error": "used_url"})
            else:
                self._send_text(200, "ok")
            return
        self._send(200, fake.answer_api(name, token, body))

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_text(status, json.dumps(body), "application/json; charset=utf-8", headers)

    def _send_text(
        self, status: int, text: str, content_type: str = "text/plain", headers: dict[str, str] | None = None
    ) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type or raw.lstrip().startswith(b"{"):
        try:
            data = json.loads(raw)
            return data if isinstance(data, dict) else {"_": data}
        except ValueError:
            return {"_raw": raw.decode(errors="replace")}
    form: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    for key in ("blocks", "attachments", "view"):
        if isinstance(form.get(key), str):
            with contextlib.suppress(ValueError):
                form[key] = json.loads(form[key])
    return form


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
