"""Delivers the outbox to Slack: once, in order per channel, about one message per second per channel.

A message Slack does not take (5xx, 429, network) stays in the outbox and is tried again later,
honouring Retry-After; one Slack refuses for good (unknown channel, bad blocks) is set aside and
logged, so it cannot block its channel forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.store.alerts import AlertStore, Outgoing
from bot.store.db import Database

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


class OutboxSender:
    def __init__(
        self,
        db: Database,
        store: AlertStore,
        client: AsyncWebClient,
        metrics: Metrics,
        *,
        per_channel_interval: float = 1.0,
        backoff_base: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.store = store
        self.client = client
        self.metrics = metrics
        self.per_channel_interval = per_channel_interval
        self.backoff_base = backoff_base
        self.clock = clock
        self.last_sent: dict[str, float] = {}

    async def send_due(self) -> int:
        now = self.clock()
        items = await self.db.run(lambda: self.store.due(now))
        sent = 0
        for item in items:
            if now - self.last_sent.get(item.channel_id, 0.0) < self.per_channel_interval:
                continue  # Slack allows about one message per second per channel
            sent += await self._send(item)
        self.metrics.outbox_depth.set(await self.db.run(self.store.depth))
        return sent

    async def _send(self, item: Outgoing) -> int:
        text, blocks = item.payload.get("text", ""), item.payload.get("blocks")
        try:
            if item.kind in ("alert", "post"):
                response: Any = await self.client.chat_postMessage(channel=item.channel_id, text=text, blocks=blocks)
            elif item.kind == "ephemeral":
                response = await self.client.chat_postEphemeral(
                    channel=item.channel_id, user=item.user_id or "", text=text, blocks=blocks
                )
            elif item.parent_ts is None:
                if item.parent_state == "dead":
                    await self.db.run(lambda: self.store.mark_dead(item.id, "its alert was never delivered"))
                else:  # the parent is still on its way (it is earlier in this channel's queue)
                    await self.db.run(lambda: self.store.mark_retry(item.id, self.clock() + 1, "waiting for parent"))
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
        except Exception as error:  # network, timeouts, bodies that are not JSON
            await self._failed(item, 0, type(error).__name__, {})
            return 0
        now = self.clock()
        ts = response.get("ts") if hasattr(response, "get") else None
        await self.db.run(lambda: self.store.mark_sent(item.id, ts, now))
        self.last_sent[item.channel_id] = now
        self.metrics.outbox_sent.labels(item.kind).inc()
        return 1

    async def _failed(self, item: Outgoing, status: int, error: str, headers: Any) -> None:
        self.metrics.slack_failures.labels(item.kind).inc()
        if status == 429:
            retry_after = retry_after_seconds(headers.get("Retry-After") if headers else None) or 1.0
            delay = retry_after
        elif error in PERMANENT:
            log.error(
                "Slack refused an alert message for good",
                extra={"channel": item.channel_id, "error": error, "hint": _hint(error)},
            )
            await self.db.run(lambda: self.store.mark_dead(item.id, error))
            return
        else:
            delay = min(MAX_BACKOFF, self.backoff_base * (2**item.attempts))
        log.warning(
            "Slack did not take a message; it stays in the outbox",
            extra={"channel": item.channel_id, "status": status, "error": error, "retry_in": delay},
        )
        await self.db.run(lambda: self.store.mark_retry(item.id, self.clock() + delay, f"{status} {error}"))


def retry_after_seconds(value: Any) -> float | None:
    """A Retry-After header value in seconds, if it is a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _hint(error: str) -> str:
    if error == "not_in_channel":
        return "invite the bot to the channel, or add the chat:write.public scope"
    if error == "channel_not_found":
        return "check the channel ID in the access file"
    return ""
