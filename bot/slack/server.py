"""The running bot: its HTTP server (`bot/slack/web.py`), Socket Mode (`bot/slack/socket_mode.py`),
the failure watch, the access file's reloading, and their start and stop.

SIGHUP reloads the access file (it is also reloaded whenever its content changes).

On SIGTERM or SIGINT the bot drains: `/healthz` answers 503, new requests are refused and the Socket
Mode connection is closed (Slack sends to the bot's other connections, if any), commands already
taken finish for up to `QUAYBOT_SHUTDOWN_GRACE_SECONDS` (then those still waiting are not started
and those still running are cut off, and their users told), replies that cannot be sent stay in the
outbox, and the process exits 0 whatever state the Socket Mode connection is in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.slack.serving import TELL_SECONDS, Serving
from bot.slack.socket_mode import AckFirstSocketModeHandler, keep_connected
from bot.slack.web import build_web_app

log = logging.getLogger(__name__)


class CannotListen(Exception):
    """The HTTP server could not bind its address; nothing was started."""


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
                log.info(
                    "no channel has alerts: true, so no notification is watched until one does "
                    "(the access file is reloaded without a restart)"
                )
        if self.slack and settings.effective_mode == "socket":
            assert settings.slack_app_token is not None
            self.socket = AckFirstSocketModeHandler(
                self.bot.slack, settings.slack_app_token.get_secret_value(), self.bot
            )
            self._socket_task = asyncio.create_task(
                keep_connected(self.socket, self._stop, self.bot.metrics.socket_connected)
            )

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
