"""A Slack request runs once: a signed body posted again within Slack's five minutes (by whoever
captured it), and Slack's own retry of an event or a command already taken, are acked and dropped.

Each request is known by the hash of its signature and by Slack's id for it (a command's or a
click's `trigger_id`, an event's `event_id`: a retry has a new signature but the same id). The
check runs in the request's turn, after the ack: the ack never waits for the database, and a read
still works while the database does not answer (the check then lets it through and says so once a
minute; what changes things needs the database anyway).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from bot.metrics import Metrics
from bot.store.db import Database
from bot.store.guards import GuardStore

log = logging.getLogger(__name__)
WARN_EVERY = 60.0


def request_keys(body: Mapping[str, Any], signature: str | None) -> list[str]:
    """What identifies this request: its signature, if signed, and Slack's id for it, if it has one."""
    keys = [] if signature is None else [_key("sig", signature)]
    if body.get("type") == "event_callback":
        natural = body.get("event_id")
        kind = "event"
    else:
        natural = body.get("trigger_id")
        kind = "trigger"
    if isinstance(natural, str) and natural:
        keys.append(_key(kind, natural))
    return keys


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


class ReplayGuard:
    def __init__(self, db: Database, store: GuardStore, metrics: Metrics) -> None:
        self.db = db
        self.store = store
        self.metrics = metrics
        self._warned_at = -WARN_EVERY

    async def first_time(self, keys: list[str]) -> bool:
        """False for a request already taken; True for a new one, or when the database cannot say."""
        if not keys:
            return True
        try:
            first = await self.db.run(lambda: self.store.first_sighting(keys))
        except Exception as error:
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "replayed Slack requests cannot be told from new ones while the database does not answer",
                    extra={"error": type(error).__name__},
                )
            return True
        if not first:
            self.metrics.slack_refused.labels("replayed").inc()
            log.info("a Slack request seen before was acked and not run again")
        return first
