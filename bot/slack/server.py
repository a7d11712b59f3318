"""Serving: `POST /slack/events` (HTTP mode), `GET /healthz`, `GET /metrics`, and Socket Mode.

In Socket Mode the same HTTP server still runs, for health checks and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import Bot
from bot.slack.requests import classify, valid_signature

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT = 2.0


def build_web_app(bot: Bot, *, slack: bool = True) -> web.Application:
    secret = bot.settings.slack_signing_secret

    async def events(request: web.Request) -> web.StreamResponse:
        if not slack or bot.settings.effective_mode != "http" or secret is None:
            return web.json_response({"error": "this bot runs in Socket Mode"}, status=404)
        body = await request.read()
        # Bolt verifies too, but only after parsing, and it crashes on some malformed bodies:
        # check the signature, then the shape, before Bolt sees anything.
        if not valid_signature(secret.get_secret_value(), body, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        verdict = classify(body, request.headers.get("Content-Type", ""))
        if verdict == "malformed":
            return web.json_response({"error": "malformed request"}, status=400)
        if verdict == "unsupported":
            return web.json_response({"error": "this app does not handle that kind of request"}, status=404)
        try:
            response = await bot.slack.async_dispatch(await to_bolt_request(request))
        except Exception:
            log.exception("Bolt failed on a request")
            return web.json_response({"error": "internal error"}, status=500)
        return await to_aiohttp_response(response)

    async def health(request: web.Request) -> web.StreamResponse:
        try:
            await asyncio.wait_for(bot.db.run(bot.db.ping), HEALTH_TIMEOUT)
        except Exception as error:
            log.warning("health check failed: the database does not answer", extra={"error": type(error).__name__})
            return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bot.metrics.render(), content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", health), web.get("/metrics", metrics)])
    return app


class Server:
    """The running bot: start, then `wait()` until stopped.

    `slack=False` is `quaybot watch`: the failure watch alone, with health and metrics.
    """

    def __init__(self, bot: Bot, *, slack: bool = True, watch: bool = True) -> None:
        self.bot = bot
        self.slack = slack
        self.watch = watch
        self.runner = web.AppRunner(build_web_app(bot, slack=slack), access_log=None, handle_signals=False)
        self.socket: AsyncSocketModeHandler | None = None
        self.port: int | None = None
        self._stop = asyncio.Event()
        self._watch_stop = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        settings = self.bot.settings
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.http_host, settings.http_port)
        await site.start()
        self.port = _bound_port(self.runner, settings.http_port)
        self.bot.metrics.up.set(1)
        mode = settings.effective_mode if self.slack else "watch"
        log.info(
            f"quaybot listening on http://{settings.http_host}:{self.port} ({mode} mode)",
            extra={"host": settings.http_host, "port": self.port, "mode": mode},
        )
        if self.watch:
            # Also delivers replies that response_url lost, so it runs even without alert channels.
            self._watch_task = asyncio.create_task(self.bot.watch.run(self._watch_stop))
            if not self.bot.policy.alert_namespaces():
                log.info("no channel has alerts: true; the notification watch is off")
        if self.slack and settings.effective_mode == "socket":
            assert settings.slack_app_token is not None
            self.socket = AsyncSocketModeHandler(self.bot.slack, settings.slack_app_token.get_secret_value())
            await self.socket.connect_async()  # type: ignore[no-untyped-call]  # untyped in slack_bolt
            log.info("connected to Slack in Socket Mode")

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

    async def close(self) -> None:
        self.bot.metrics.up.set(0)
        await self.close_watch()
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close_async()  # type: ignore[no-untyped-call]
        await self.runner.cleanup()
        await self.bot.aclose()


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked


async def serve(bot: Bot, *, slack: bool = True) -> None:
    """Run until SIGINT or SIGTERM."""
    server = Server(bot, slack=slack)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, server.stop)
    await server.start()
    try:
        await server.wait()
    finally:
        log.info("quaybot stopping")
        await server.close()
