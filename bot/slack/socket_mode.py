"""Socket Mode: the connection to Slack, kept up with backoff, and the handler of its envelopes.

The HTTP server still runs in this mode, for health checks, metrics and Quay's webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Gauge
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.refusals import Refusals
from bot.slack.replays import request_keys
from bot.slack.requests import classify, told_rate_limited
from bot.slack.serving import Serving, start_in_turn
from bot.slack.tokens import app_token_problem

log = logging.getLogger(__name__)
SOCKET_ATTEMPT_TIMEOUT = 30.0
SOCKET_MAX_BACKOFF = 60.0
REPORT_SECONDS = 2.0  # how often `quaybot_socket_mode_connected` is brought up to date


class AckFirstSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode: the envelope of a slash command, a click or an event is acked before Bolt runs,
    and Bolt runs once the request's turn for a work slot has come; one whose payload Bolt could not
    read is acked and dropped."""

    def __init__(self, app: AsyncApp, app_token: str, bot: Serving) -> None:
        super().__init__(app, app_token)
        self.bot = bot
        self.refusals = Refusals(bot.metrics)

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        # The same shape checks as over HTTP. Only Slack can send here, but a payload Bolt cannot
        # read would crash it after the ack all the same; Slack resends an envelope left unacked.
        verdict = classify(req.payload)
        if verdict in ("command", "action", "event"):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            keys = request_keys(req.payload, None)  # Slack's ids: a redelivered envelope is not run twice
            start_in_turn(
                self.bot, lambda: run_async_bolt_app(self.app, req), req.payload, "a Socket Mode request", keys
            )
            return
        if verdict == "rate_limited":
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            told_rate_limited(req.payload)
            return
        if verdict != "ok" or req.payload.get("type") != "view_submission":
            # Malformed, or nothing this app handles (no ssl_check or url_verification comes this way).
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            self.refusals.refused("malformed" if verdict == "malformed" else "unsupported")
            log.warning("a Socket Mode request was dropped", extra={"envelope": req.type, "verdict": verdict})
            return
        # A modal's submission: its ack may carry `response_action: errors`, so it waits for Bolt.
        started = asyncio.get_running_loop().time()
        if not await self.bot.replays.first_time(request_keys(req.payload, None)):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        try:
            response = await run_async_bolt_app(self.app, req)
        except Exception:
            log.exception("Bolt failed on a form submission")
            response = BoltResponse(status=500)
        if response.status != 200:
            # Bolt's adapter sends nothing for a result that is not 200 (a form no listener takes),
            # and Slack resends an envelope left unacked: ack it empty, which closes the form.
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await send_async_response(client, req, response, started)


async def keep_connected(handler: AckFirstSocketModeHandler, stop: asyncio.Event, connected: Gauge) -> None:
    """Connect with growing backoff, one log line an attempt; a refused app token is said once. Once
    connected, `connected` tells whether the connection is still up, until the bot stops."""
    try:
        if await _connect(handler.client, stop):
            await _report(handler.client, stop, connected)
    finally:
        connected.set(0)


async def _report(client: SocketModeClient, stop: asyncio.Event, connected: Gauge) -> None:
    """slack_sdk's own monitor reconnects when the connection drops; this only says whether it is up."""
    while not stop.is_set():
        try:
            up = await client.is_connected()
        except Exception:  # slack_sdk's state mid-change: not up, as far as anyone can say
            up = False
        connected.set(1 if up else 0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REPORT_SECONDS)


async def _connect(client: SocketModeClient, stop: asyncio.Event) -> bool:
    """Whether a connection was made (before the bot stopped, and with a token Slack takes)."""
    delay = 1.0
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            client.wss_uri = await asyncio.wait_for(client.issue_new_wss_url(), SOCKET_ATTEMPT_TIMEOUT)
            await asyncio.wait_for(client.connect(), SOCKET_ATTEMPT_TIMEOUT)  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            return True
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            problem = app_token_problem(code)
            if problem is not None:
                log.error(f"{problem}. Socket Mode cannot connect; /healthz and alerts keep running.")
                return False
            reason = code or "error"
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:200]
        log.warning(
            f"cannot connect to Slack in Socket Mode (attempt {attempt}); retrying in {delay:.0f} s",
            extra={"reason": reason, "attempt": attempt, "retry_in": delay},
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(SOCKET_MAX_BACKOFF, delay * 2)
    return False
