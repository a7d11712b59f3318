"""The bot's HTTP routes: `POST /slack/events` (HTTP mode), `POST /quay/events/<token>` (Quay's
webhooks for subscriptions, in every mode), `/quay/oauth/start` and `/quay/oauth/callback` (linking
a person's Quay account: `bot/slack/oauth_pages.py`), `GET /healthz` and `GET /metrics`.

Slash commands, button clicks and events are acknowledged as soon as the bot's own checks pass
(signature over the raw bytes, then the shape of Bolt's one parse), before Bolt runs, with an empty
200; Bolt then runs in the request's turn (`bot/slack/serving.py`). While the bot drains, every
route but `/metrics` answers 503.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import aiohttp.http_exceptions
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response

from bot.slack import oauth_pages
from bot.slack.refusals import Refusals
from bot.slack.replays import request_keys
from bot.slack.requests import bolt_request, classify, parse_body, signature_problem, told_rate_limited
from bot.slack.serving import Serving, start_in_turn
from bot.subscriptions.receiver import MAX_BODY

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT = 2.0
MAX_SLACK_BODY = 1024 * 1024  # Slack's largest payloads (a modal's full state) are far below this
BODY_TIMEOUT = 10.0  # a body still arriving after this long is a slow client, not Slack or Quay
READ_CHUNK = 64 * 1024


class UnparsableRequests(logging.Filter):
    """aiohttp answers a request it cannot parse (a request line over 8 KiB, bad headers) with 400 by
    itself, then logs the parser's traceback at ERROR, once per request: anyone could fill the log.
    Those become one line a minute, with how many there were; any other error is logged as it was."""

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self.unsaid = 0
        self.said_at = -every

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, aiohttp.http_exceptions.HttpProcessingError):
            return True
        self.unsaid += 1
        now = time.monotonic()
        if now - self.said_at < self.every:
            return False
        record.msg, record.args = "refused requests the HTTP server could not parse (answered 400)", ()
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        record.__dict__["count"], record.__dict__["kind"] = self.unsaid, type(error).__name__
        self.said_at, self.unsaid = now, 0
        return True


def quiet_unparsable_requests() -> None:
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, UnparsableRequests) for f in server.filters):
        server.addFilter(UnparsableRequests())


class BodyProblem(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, however it arrives (one write or many, Content-Length or chunked), up to
    `limit` bytes and within `BODY_TIMEOUT` seconds. `request.content.read(n)` alone returns what has
    arrived so far, so a Quay delivery split across two TCP segments was read in half."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyProblem(413, "request body too large")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise BodyProblem(413, "request body too large")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyProblem(408, "request body not received in time") from None
    except (aiohttp.ClientPayloadError, aiohttp.http_exceptions.HttpProcessingError, ConnectionError):
        raise BodyProblem(400, "request body could not be read") from None
    return b"".join(chunks)


def build_web_app(bot: Serving, draining: asyncio.Event, *, slack: bool = True) -> web.Application:
    quiet_unparsable_requests()
    secret = bot.settings.slack_signing_secret
    refusals = Refusals(bot.metrics)

    async def events(request: web.Request) -> web.StreamResponse:
        if not slack or bot.settings.effective_mode != "http" or secret is None:
            return web.json_response({"error": "this bot runs in Socket Mode"}, status=404)
        if draining.is_set():
            refusals.refused("draining")
            return web.json_response({"error": "the bot is restarting"}, status=503)
        try:
            body = await read_body(request, MAX_SLACK_BODY)
        except BodyProblem as unread:
            refusals.refused("malformed")
            return web.json_response({"error": unread.reason}, status=unread.status)
        # The signature first, then the one parse of the body, then its shape, before Bolt runs.
        problem = signature_problem(secret.get_secret_value(), body, request.headers)
        if problem is not None:
            refusals.refused(problem)
            return web.json_response({"error": "invalid request"}, status=401)
        fields = parse_body(body, request.headers.get("Content-Type"))
        verdict = "malformed" if fields is None else classify(fields)
        if fields is None or verdict == "malformed":
            refusals.refused("malformed")
            return web.json_response({"error": "malformed request"}, status=400)
        if verdict == "unsupported":
            refusals.refused("unsupported")
            return web.json_response({"error": "this app does not handle that kind of request"}, status=404)
        if verdict == "rate_limited":
            told_rate_limited(fields)
            return web.Response(status=200)
        if verdict == "ignored":
            refusals.refused("unsupported")
            return web.Response(status=200)
        parsed = bolt_request(fields, body, request.query_string, request.headers)
        if parsed is None:
            refusals.refused("malformed")
            return web.json_response({"error": "malformed request"}, status=400)
        # Slash commands, clicks and events: their ack carries no body, so it goes before Bolt runs,
        # and Bolt runs once the request's turn for a work slot has come (`bot/work.py`).
        # A modal submission waits for Bolt: its ack may carry `response_action: errors`.
        keys = request_keys(fields, request.headers.get("X-Slack-Signature"))
        if verdict in ("command", "action", "event"):
            start_in_turn(bot, lambda: bot.slack.async_dispatch(parsed), parsed.body, "a Slack request", keys)
            return web.Response(status=200)
        if not await bot.replays.first_time(keys):
            return web.Response(status=200)  # a modal's submission taken before: it has closed already
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
        try:
            body = await read_body(request, MAX_BODY)
        except BodyProblem as problem:
            bot.metrics.events_received.labels("too_large" if problem.status == 413 else "unreadable").inc()
            return web.Response(status=problem.status)
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
    if bot.identities is not None:  # every mode: Quay sends the browser back here
        app.add_routes(oauth_pages.routes(bot.identities, draining))
    return app
