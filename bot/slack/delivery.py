"""Replies to a request: through its response_url, retried; what still does not go through is kept
in the outbox (as a channel post or an ephemeral message) instead of being lost. The work behind a
reply runs in a bounded number of slots (`bot/work.py`)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncRespond
from sqlalchemy.exc import SQLAlchemyError

from bot import tracing
from bot.access import Caller
from bot.blocks.message import Message, plain
from bot.i18n import t
from bot.interactions import Reply
from bot.metrics import Metrics
from bot.retry_after import retry_after_seconds
from bot.store.db import Database
from bot.store.outbox import OutboxStore
from bot.work import Busy, WorkGate

log = logging.getLogger(__name__)
JSON = {"Content-Type": "application/json; charset=utf-8"}
DATABASE_DOWN = (
    ":x: The bot's database is not answering, so nothing was done. Try again in a minute; if it keeps "
    "happening, an operator can check `/healthz` and the bot's logs."
)
BUSY = ":hourglass: The bot is busy right now, so nothing was done. Try again in a minute."
INTERNAL = (
    ":x: The bot hit an internal error (incident {incident}). Check the result before trying again; an operator "
    "can find the details in the bot's logs."
)


class ReplyDelivery:
    """Sends replies through response_url, retrying; what still does not go through is kept in the
    outbox (as a channel post or an ephemeral message) instead of being lost."""

    def __init__(
        self,
        db: Database,
        store: OutboxStore,
        metrics: Metrics,
        *,
        gate: WorkGate | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.gate = gate or WorkGate(16, 1000, metrics)
        self.db = db
        self.store = store
        self.metrics = metrics
        self.attempts = attempts
        self.backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        """One shared HTTP session for all response_url posts: no new connection (and TLS
        handshake) per reply."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def answer(
        self,
        respond: AsyncRespond,
        caller: Caller,
        work: Callable[[], Awaitable[list[Reply]]],
        *,
        what: str = "slack.request",
        locale: str = "en",
    ) -> None:
        with tracing.span(what, {"slack.channel": caller.channel_id, "slack.user": caller.user_id}):
            replies = await self._in_slot(caller, work, locale)
            for reply in replies:
                with tracing.span("slack.reply", {"slack.in_channel": reply.message.in_channel}):
                    await self.send(respond, caller, reply)
        for reply in replies:
            if reply.follow_up is not None:
                await self._follow_up(respond, caller, reply.follow_up)

    async def post(
        self,
        caller: Caller,
        work: Callable[[], Awaitable[list[Reply]]],
        *,
        what: str = "slack.request",
        locale: str = "en",
    ) -> None:
        """For work with no response_url (a submitted form): its replies go through the outbox, to the
        channel, or to the user alone there, as the typed command's would."""
        with tracing.span(what, {"slack.channel": caller.channel_id, "slack.user": caller.user_id}):
            for reply in await self._in_slot(caller, work, locale):
                await self._keep(caller, _payload(reply.message), lost=False)

    async def _in_slot(self, caller: Caller, work: Callable[[], Awaitable[list[Reply]]], locale: str) -> list[Reply]:
        """The work's replies, done in one of the bounded slots; "busy" when none is free soon."""
        try:
            async with self.gate.slot():
                return await self._run(work, locale)
        except Busy:
            self.metrics.commands_busy.inc()
            log.warning("busy: a command was turned away", extra={"channel": caller.channel_id})
            return [Reply(plain(t(locale, BUSY)))]

    async def _run(self, work: Callable[[], Awaitable[list[Reply]]], locale: str) -> list[Reply]:
        try:
            return await work()
        except SQLAlchemyError:
            log.exception("the database failed while handling a request")
            return [Reply(plain(t(locale, DATABASE_DOWN)))]
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("handling failed", extra={"incident": incident})
            return [Reply(plain(t(locale, INTERNAL, incident=incident)))]

    async def _follow_up(
        self, respond: AsyncRespond, caller: Caller, follow_up: Callable[[], Awaitable[Message | None]]
    ) -> None:
        """A later word on the same request (response_url takes 5 messages within 30 minutes)."""
        try:
            message = await follow_up()
        except Exception:
            log.exception("a follow-up failed")
            return
        if message is not None:
            await self.send(respond, caller, Reply(message))

    async def send(self, respond: AsyncRespond, caller: Caller, reply: Reply) -> None:
        payload = _payload(reply.message)
        body = json.dumps({**payload, "replace_original": reply.replace_original}).encode()
        for attempt in range(self.attempts):
            status, retry_after = 0, None
            try:
                if respond.response_url is None:
                    break
                # A plain JSON POST, as slack_sdk's webhook client makes, without its re-encoding of
                # the body on every call and its debug line that formats the whole body.
                async with self._http().post(respond.response_url, data=body, headers=JSON) as response:
                    await response.read()
                    status = response.status
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("response_url did not answer", extra={"error": type(error).__name__})
            except Exception:
                # Not the network: a bug of ours. Say so loudly; the reply is still kept below.
                log.exception("sending a reply failed")
            if 200 <= status < 300:
                return
            self.metrics.slack_failures.labels("respond").inc()
            if status in (400, 403, 404, 410):
                break  # expired, used up or refused: retrying the same URL cannot help
            if attempt + 1 < self.attempts:
                await asyncio.sleep(retry_after if retry_after is not None else self.backoff * 2**attempt)
        await self._keep(caller, payload)

    async def _keep(self, caller: Caller, payload: dict[str, Any], *, lost: bool = True) -> None:
        """Hand the reply to the outbox: response_url lost it (`lost`), or there is none."""
        user = None if payload["response_type"] == "in_channel" else caller.user_id
        message = {"text": payload["text"], "blocks": payload["blocks"]}
        try:
            await self.db.run(lambda: self.store.enqueue(caller.channel_id, message, time.time(), user_id=user))
            if lost:
                log.warning("reply kept in the outbox after response_url failed", extra={"channel": caller.channel_id})
        except Exception:
            log.exception("a reply could not be sent nor kept", extra={"channel": caller.channel_id})


def _payload(message: Message) -> dict[str, Any]:
    try:
        return message.to_dict()
    except Exception:
        # Block Kit refused what we built (a bug of ours): the words still reach the user.
        log.exception("a reply could not be rendered as Block Kit; sending its text")
        return plain(message.text[:3000], in_channel=message.in_channel).to_dict()
