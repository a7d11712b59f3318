"""The bot's HTTP routes: `POST /slack/events` (HTTP mode), `POST /quay/events/<token>` (Quay's
webhooks for subscriptions, in every mode), `GET /healthz` and `GET /metrics`.

Slash commands, button clicks and events are acknowledged as soon as the bot's own checks pass
(signature over the raw bytes, then the shape of Bolt's one parse), before Bolt runs, with an empty
200; Bolt then runs in the request's turn (`bot/slack/serving.py`). While the bot drains, every
route but `/metrics` answers 503.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response

from bot.slack.refusals import Refusals
from bot.slack.requests import bolt_request, classify, signature_problem
from bot.slack.serving import Serving, start_in_turn
from bot.subscriptions.receiver import MAX_BODY

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT = 2.0


def build_web_app(bot: Serving, draining: asyncio.Event, *, slack: bool = True) -> web.Application:
    secret = bot.settings.slack_signing_secret
    refusals = Refusals(bot.metrics)

    async def events(request: web.Request) -> web.StreamResponse:
        if not slack or bot.settings.effective_mode != "http" or secret is None:
            return web.json_response({"error": "this bot runs in Socket Mode"}, status=404)
        if draining.is_set():
            refusals.refused("draining")
            return web.json_response({"error": "the bot is restarting"}, status=503)
        body = await request.read()
        # The signature first, then Bolt's parse (the only one), then its shape, before Bolt runs.
        problem = signature_problem(secret.get_secret_value(), body, request.headers)
        if problem is not None:
            refusals.refused(problem)
            return web.json_response({"error": "invalid request"}, status=401)
        parsed = bolt_request(body, request.query_string, request.headers)
        verdict = "malformed" if parsed is None else classify(parsed.body)
        if parsed is None or verdict == "malformed":
            refusals.refused("malformed")
            return web.json_response({"error": "malformed request"}, status=400)
        if verdict == "unsupported":
            refusals.refused("unsupported")
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
