"""Delivers the outbox to Slack: once, in order per channel, about one message per second per channel.

Each row is claimed before it is sent (`sending`, with this sender's id and a deadline), so two
senders, or a leader that lost its lease mid-send and the one after it, never send the same row.
A message Slack does not take (5xx, 429, network) stays in the outbox and is tried again later,
honouring Retry-After; one Slack refuses for good (unknown channel, bad blocks), or with an error
that keeps coming back, is set aside as dead and logged, so it cannot block its channel forever.
The one duplicate left: a process that dies after Slack took a message and before the row is marked.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.retry_after import retry_after_seconds
from bot.store.db import Database
from bot.store.outbox import OUTBOX_ADDED, OutboxStore, Outgoing

log = logging.getLogger(__name__)

# Errors that retrying will not fix.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "cant_update_message",
        "message_not_found",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
    }
)
MAX_BACKOFF = 300.0
# Errors that are neither permanent nor the network (an unknown `error`, a 4xx) get this many tries
# before the row is set aside as dead, so one bad message cannot block its channel for ever.
MAX_ATTEMPTS = 8
# A claimed row is ours for this long: longer than any send (slack_sdk's timeout is 30 s).
CLAIM_SECONDS = 120.0
GAUGES_EVERY = 5.0
# With nothing to send, look this often: for rows of other replicas and retries that come due.
# Rows this process adds are seen at once (OUTBOX_ADDED), so an idle bot does not query 4 times a second.
IDLE_POLL = 2.0


class OutboxSender:
    def __init__(
        self,
        db: Database,
        store: OutboxStore,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        holder: str | None = None,
        per_channel_interval: float = 1.0,
        backoff_base: float = 2.0,
        max_attempts: int = MAX_ATTEMPTS,
        claim_seconds: float = CLAIM_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.store = store
        self.client = client
        self.metrics = metrics
        self.holder = holder or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.per_channel_interval = per_channel_interval
        self.backoff_base = backoff_base
        self.max_attempts = max_attempts
        self.claim_seconds = claim_seconds
        self.clock = clock
        self.last_sent: dict[str, float] = {}
        self._gauges_at = 0.0
        self._quiet_until = 0.0

    async def send_due(self) -> int:
        now = self.clock()
        if now < self._quiet_until and not OUTBOX_ADDED.is_set():
            return 0
        OUTBOX_ADDED.clear()  # before claiming: a row committed after this wakes the next call
        # Slack allows about one message per second per channel.
        paced = {c for c, at in self.last_sent.items() if now - at < self.per_channel_interval}
        items = await self.db.run(lambda: self.store.claim_due(now, self.holder, self.claim_seconds, skip=paced))
        self._quiet_until = 0.0 if items else now + (self.per_channel_interval if paced else IDLE_POLL)
        sent = 0
        for item in items:
            sent += await self._send(item)
        if items or now - self._gauges_at >= GAUGES_EVERY:  # two counts, not on every idle tick
            self._gauges_at = now
            self.metrics.outbox_depth.set(await self.db.run(self.store.depth))
            self.metrics.outbox_dead.set(await self.db.run(self.store.dead_count))
        return sent

    async def _send(self, item: Outgoing) -> int:
        try:
            text, blocks = item.payload.get("text", ""), item.payload.get("blocks")
            if item.kind in ("alert", "digest", "post"):
                response: Any = await self.client.chat_postMessage(channel=item.channel_id, text=text, blocks=blocks)
            elif item.kind == "ephemeral":
                response = await self.client.chat_postEphemeral(
                    channel=item.channel_id, user=item.user_id or "", text=text, blocks=blocks
                )
            elif item.parent_ts is None:
                if item.parent_state in ("dead", "dropped"):
                    await self.db.run(lambda: self.store.mark_dead(item.id, "its alert was never delivered"))
                else:  # the parent is still on its way (it is earlier in this channel's queue)
                    later = self.clock() + 1
                    await self.db.run(
                        lambda: self.store.mark_retry(item.id, self.holder, later, "waiting for parent", count=False)
                    )
                return 0
            elif item.kind == "update":
                response = await self.client.chat_update(
                    channel=item.channel_id, ts=item.parent_ts, text=text, blocks=blocks
                )
            else:
                response = await self.client.chat_postMessage(
                    channel=item.channel_id, text=text, blocks=blocks, thread_ts=item.parent_ts
                )
        except SlackApiError as error:
            await self._failed(
                item, error.response.status_code, str(error.response.get("error", "")), error.response.headers
            )
            return 0
        except (aiohttp.ClientError, TimeoutError, OSError) as error:  # the network: retried until it is back
            await self._failed(item, 0, f"network: {type(error).__name__}", {}, network=True)
            return 0
        except Exception as error:
            # Not Slack's answer nor the network: a bug of ours, or a body that is not JSON. Tracebacks
            # are for the logs; the row gets the bounded tries of an unknown error.
            log.exception("sending an outbox message failed", extra={"channel": item.channel_id, "item": item.id})
            await self._failed(item, 0, f"{type(error).__name__}: {error}", {})
            return 0
        now = self.clock()
        ts = response.get("ts") if hasattr(response, "get") else None
        if not await self.db.run(lambda: self.store.mark_sent(item.id, self.holder, ts, now)):
            log.warning(
                "an outbox message was sent after its claim lapsed; another sender may send it too",
                extra={"channel": item.channel_id, "item": item.id},
            )
        self.last_sent[item.channel_id] = now
        self.metrics.outbox_sent.labels(item.kind).inc()
        return 1

    async def _failed(self, item: Outgoing, status: int, error: str, headers: Any, *, network: bool = False) -> None:
        self.metrics.slack_failures.labels(item.kind).inc()
        if status == 429:
            delay = retry_after_seconds(headers.get("Retry-After") if headers else None) or 1.0
        elif error in PERMANENT:
            await self._dead(item, error)
            return
        elif network or status >= 500:
            delay = min(MAX_BACKOFF, self.backoff_base * (2**item.attempts))
        elif item.attempts + 1 >= self.max_attempts:
            await self._dead(item, f"{status} {error}".strip() + f" after {item.attempts + 1} attempts")
            return
        else:
            delay = min(MAX_BACKOFF, self.backoff_base * (2**item.attempts))
        log.warning(
            "Slack did not take a message; it stays in the outbox",
            extra={"channel": item.channel_id, "status": status, "error": error, "retry_in": delay},
        )
        later = self.clock() + delay
        await self.db.run(lambda: self.store.mark_retry(item.id, self.holder, later, f"{status} {error}"))

    async def _dead(self, item: Outgoing, error: str) -> None:
        log.error(
            "Slack refused a message for good; it is set aside (quaybot outbox lists it)",
            extra={"channel": item.channel_id, "item": item.id, "error": error, "hint": _hint(error)},
        )
        self.metrics.outbox_dead_total.inc()
        await self.db.run(lambda: self.store.mark_dead(item.id, error))


def _hint(error: str) -> str:
    if error.startswith("not_in_channel"):
        return "invite the bot to the channel, or add the chat:write.public scope"
    if error == "channel_not_found":
        return "check the channel ID in the access file"
    return ""
