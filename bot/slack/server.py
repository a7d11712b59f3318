"""Serving: `POST /slack/events` (HTTP mode), `POST /quay/events/<token>` (Quay's webhooks for
subscriptions, in every mode), `GET /healthz`, `GET /metrics`, and Socket Mode.

In Socket Mode the same HTTP server still runs, for health checks and metrics.

Slash commands and button clicks are acknowledged as soon as the bot's own checks pass (signature
over the raw bytes, then the shape), before Bolt runs: in HTTP mode with an empty 200, in Socket Mode
with the envelope's ack. Bolt then runs in the background, and the work behind each reply waits for
one of a bounded number of slots (`bot/work.py`).

SIGHUP reloads the access file (it is also reloaded whenever its content changes).

On SIGTERM or SIGINT the bot drains: `/healthz` answers 503, new requests are refused and the Socket
Mode connection is closed (Slack sends to the bot's other connections, if any), commands
already taken finish for up to `QUAYBOT_SHUTDOWN_GRACE_SECONDS`, replies that cannot be sent stay in
the outbox, and the process exits 0 whatever state the Socket Mode connection is in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.access import AccessPolicy
from bot.access_reload import AccessReloader
from bot.alerts.runner import WatchLoop
from bot.blocks.message import plain
from bot.i18n import t
from bot.interactions import Reply
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.background import Background
from bot.slack.delivery import ReplyDelivery
from bot.slack.identity import BotIdentity
from bot.slack.requests import bolt_request, caller_of, classify, valid_signature
from bot.slack.tokens import app_token_problem
from bot.store.db import Database
from bot.subscriptions.receiver import MAX_BODY, EventReceiver
from bot.work import WorkGate

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT = 2.0
SOCKET_ATTEMPT_TIMEOUT = 30.0
SOCKET_MAX_BACKOFF = 60.0
# After the grace period, each of the two tellings gets this long (Kubernetes waits 30 s, the grace is 20).
TELL_SECONDS = 3.0
STOPPED_FIRST = ":x: quaybot was restarting and did not get to this, so nothing was done. Run it again in a minute."
STOPPED_DURING = (
    ":warning: quaybot was restarting while it did this and had to stop, so whether Quay did it is unknown. "
    "Check before running it again."
)


class CannotListen(Exception):
    """The HTTP server could not bind its address; nothing was started."""


class Serving(Protocol):
    """What the server needs of the bot (`bot.app.Bot` has it); no import of `bot.app` here."""

    settings: Settings
    policy: AccessPolicy
    db: Database
    metrics: Metrics
    slack: AsyncApp
    watch: WatchLoop
    identity: BotIdentity
    gate: WorkGate
    reloader: AccessReloader
    receiver: EventReceiver
    background: Background
    delivery: ReplyDelivery

    def aclose(self) -> Awaitable[None]: ...


def build_web_app(bot: Serving, draining: asyncio.Event, *, slack: bool = True) -> web.Application:
    secret = bot.settings.slack_signing_secret

    async def events(request: web.Request) -> web.StreamResponse:
        if not slack or bot.settings.effective_mode != "http" or secret is None:
            return web.json_response({"error": "this bot runs in Socket Mode"}, status=404)
        if draining.is_set():
            return web.json_response({"error": "the bot is restarting"}, status=503)
        body = await request.read()
        # The signature first, then Bolt's parse (the only one), then its shape, before Bolt runs.
        if not valid_signature(secret.get_secret_value(), body, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        parsed = bolt_request(body, request.query_string, request.headers)
        verdict = "malformed" if parsed is None else classify(parsed.body)
        if parsed is None or verdict == "malformed":
            return web.json_response({"error": "malformed request"}, status=400)
        if verdict == "unsupported":
            return web.json_response({"error": "this app does not handle that kind of request"}, status=404)
        # Slash commands, clicks and events: their ack carries no body, so it goes before Bolt runs,
        # and Bolt runs once the request's turn for a work slot has come (`bot/work.py`).
        # A modal submission waits for Bolt: its ack may carry `response_action: errors`.
        if verdict in ("command", "action", "event"):
            start_in_turn(bot, lambda: bot.slack.async_dispatch(parsed), parsed.body, "a Slack request")
            return web.Response(status=200)
        try:
            response = await bot.slack.async_dispatch(parsed)
        except Exception:
            log.exception("Bolt failed on a request")
            return web.json_response({"error": "internal error"}, status=500)
        return await to_aiohttp_response(response)

    async def quay_events(request: web.Request) -> web.StreamResponse:
        """Quay's webhook deliveries for subscriptions (`bot/subscriptions/receiver.py`)."""
        if draining.is_set():
            return web.Response(status=503)
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413)
        body = await request.content.read(MAX_BODY + 1)
        verdict = await bot.receiver.receive(request.match_info["token"], request.query.get("event", ""), body)
        return web.Response(status=verdict.status)

    pinging: list[asyncio.Future[None]] = []

    async def health(request: web.Request) -> web.StreamResponse:
        if draining.is_set():
            return web.json_response({"status": "draining"}, status=503)
        # At most one ping in flight: a hung database cannot make health checks pile up threads.
        if not pinging or pinging[0].done():
            pinging[:] = [asyncio.ensure_future(bot.db.run(bot.db.ping))]
        try:
            await asyncio.wait_for(asyncio.shield(pinging[0]), HEALTH_TIMEOUT)
        except Exception as error:
            log.warning("health check failed: the database does not answer", extra={"error": type(error).__name__})
            return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bot.metrics.render(), content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes(
        [
            web.post(EVENTS_PATH, events),
            web.post("/quay/events/{token}", quay_events),
            web.get("/healthz", health),
            web.get("/metrics", metrics),
        ]
    )
    return app


def start_in_turn(bot: Serving, dispatch: Callable[[], Awaitable[object]], body: object, name: str) -> None:
    """An acked request, in both modes: Bolt runs it when its turn for a work slot comes; if the bot
    stops before it is done, its user is told whether it ever started."""
    work = bot.gate.run(
        dispatch,
        unstarted=lambda: tell_stopped(bot, body, STOPPED_FIRST),
        interrupted=lambda: tell_stopped(bot, body, STOPPED_DURING),
    )
    bot.background.start(work, name)


async def tell_stopped(bot: Serving, body: object, message: str) -> None:
    """The bot is stopping before this acked request was done (`STOPPED_FIRST`: it never started;
    `STOPPED_DURING`: it was cut off): its user hears so, through its response_url, else the outbox.
    Requests without one (events) are not told."""
    if not isinstance(body, dict) or not isinstance(body.get("response_url"), str):
        return
    caller = caller_of(body)
    text = t(bot.policy.locale_of(caller.channel_id), message)
    await bot.delivery.send(AsyncRespond(response_url=body["response_url"]), caller, Reply(plain(text)))


class AckFirstSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode: the envelope of a slash command, a click or an event is acked before Bolt runs,
    and Bolt runs once the request's turn for a work slot has come; one whose payload Bolt could not
    read is acked and dropped."""

    def __init__(self, app: AsyncApp, app_token: str, bot: Serving) -> None:
        super().__init__(app, app_token)
        self.bot = bot

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        # The same shape checks as over HTTP. Only Slack can send here, but a payload Bolt cannot
        # read would crash it after the ack all the same; Slack resends an envelope left unacked.
        verdict = classify(req.payload)
        if verdict in ("command", "action", "event"):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            start_in_turn(self.bot, lambda: run_async_bolt_app(self.app, req), req.payload, "a Socket Mode request")
            return
        if verdict != "ok" or req.payload.get("type") != "view_submission":
            # Malformed, or nothing this app handles (no ssl_check or url_verification comes this way).
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            log.warning("a Socket Mode request was dropped", extra={"envelope": req.type, "verdict": verdict})
            return
        started = asyncio.get_running_loop().time()
        response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, response, started)


class Server:
    """The running bot: start, then `wait()` until stopped.

    `slack=False` is `quaybot watch`: the failure watch alone, with health and metrics.
    """

    def __init__(self, bot: Serving, *, slack: bool = True, watch: bool = True) -> None:
        self.bot = bot
        self.slack = slack
        self.watch = watch
        self.background = bot.background
        self.draining = asyncio.Event()
        self.runner = web.AppRunner(
            build_web_app(bot, self.draining, slack=slack), access_log=None, handle_signals=False
        )
        self.socket: AckFirstSocketModeHandler | None = None
        self.port: int | None = None
        self._stop = asyncio.Event()
        self._watch_stop = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._socket_task: asyncio.Task[None] | None = None
        self._identity_task: asyncio.Task[None] | None = None
        self._reload_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.bot.settings
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.http_host, settings.http_port)
        try:
            await site.start()
        except OSError as error:  # the port is taken, or the host is not an address of this machine
            raise CannotListen(
                f"cannot listen on {settings.http_host}:{settings.http_port} ({error.strerror or error}); "
                "QUAYBOT_HTTP_HOST and QUAYBOT_HTTP_PORT choose where"
            ) from error
        self.port = _bound_port(self.runner, settings.http_port)
        self.bot.metrics.up.set(1)
        mode = settings.effective_mode if self.slack else "watch"
        log.info(
            f"quaybot listening on http://{settings.http_host}:{self.port} ({mode} mode)",
            extra={"host": settings.http_host, "port": self.port, "mode": mode},
        )
        self._reload_task = asyncio.create_task(self.bot.reloader.run(self._stop))
        if self.slack:
            self._identity_task = asyncio.create_task(self.bot.identity.resolve())
        if self.watch:
            # Also delivers replies that response_url lost, so it runs even without alert channels.
            self._watch_task = asyncio.create_task(self.bot.watch.run(self._watch_stop))
            if not self.bot.policy.alert_namespaces():
                log.info("no channel has alerts: true; the notification watch is off")
        if self.slack and settings.effective_mode == "socket":
            assert settings.slack_app_token is not None
            self.socket = AckFirstSocketModeHandler(
                self.bot.slack, settings.slack_app_token.get_secret_value(), self.bot
            )
            self._socket_task = asyncio.create_task(self._keep_connected(self.socket))

    async def _keep_connected(self, handler: AckFirstSocketModeHandler) -> None:
        """Connect with growing backoff, one log line an attempt; a refused app token is said once."""
        client = handler.client
        delay = 1.0
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            try:
                client.wss_uri = await asyncio.wait_for(client.issue_new_wss_url(), SOCKET_ATTEMPT_TIMEOUT)
                await asyncio.wait_for(client.connect(), SOCKET_ATTEMPT_TIMEOUT)  # type: ignore[no-untyped-call]
                log.info("connected to Slack in Socket Mode")
                return  # from here slack_sdk's own monitor reconnects when the connection drops
            except SlackApiError as error:
                code = str(error.response.get("error", ""))
                problem = app_token_problem(code)
                if problem is not None:
                    log.error(f"{problem}. Socket Mode cannot connect; /healthz and alerts keep running.")
                    return
                reason = code or "error"
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"[:200]
            log.warning(
                f"cannot connect to Slack in Socket Mode (attempt {attempt}); retrying in {delay:.0f} s",
                extra={"reason": reason, "attempt": attempt, "retry_in": delay},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(SOCKET_MAX_BACKOFF, delay * 2)

    def stop(self) -> None:
        self._stop.set()

    async def wait(self) -> None:
        await self._stop.wait()

    async def close_watch(self) -> None:
        if self._watch_task is not None:
            self._watch_stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._watch_task, 10)
            self._watch_task = None

    async def drain(self) -> None:
        """Stop taking new work and let what was taken finish, within the grace period."""
        self.draining.set()
        await self._hang_up()
        grace = self.bot.settings.shutdown_grace_seconds
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        await self.background.wait(grace)  # Bolt's own step, up to each listener taking its slot
        finished = await self.bot.gate.drained(max(0.0, deadline - loop.time()))
        if not finished:
            not_started = await self.bot.gate.abandon_waiting(within=TELL_SECONDS)
            cut_off = await self.bot.gate.interrupt_running(within=TELL_SECONDS)
            log.warning(
                "the grace period ended with commands not done; their users were told",
                extra={"not_started": not_started, "cut_off": cut_off},
            )

    async def _hang_up(self) -> None:
        """Socket Mode: close the connection, so that Slack sends new work to the bot's other
        connections (another replica's) instead of one that is stopping. What was taken still
        answers: replies go through response_url, not the socket."""
        await _cancelled(self._socket_task)  # no reconnecting
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close_async(), 5)  # type: ignore[no-untyped-call]
            self.socket = None

    async def close(self) -> None:
        self._stop.set()
        self.bot.metrics.up.set(0)
        await self.drain()
        for task in (self._identity_task, self._reload_task):
            await _cancelled(task)
        await self.close_watch()
        await self.runner.cleanup()
        await self.bot.aclose()


async def _cancelled(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked


async def serve(bot: Serving, *, slack: bool = True) -> None:
    """Run until SIGINT or SIGTERM."""
    server = Server(bot, slack=slack)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, server.stop)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, bot.reloader.reload_now)
    try:
        await server.start()
    except CannotListen:
        await server.close()
        raise
    try:
        await server.wait()
    finally:
        log.info("quaybot stopping")
        await server.close()
        log.info("quaybot stopped")
