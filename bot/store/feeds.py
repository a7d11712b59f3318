"""Where the watch is in each namespace's usage logs, and which source it uses to see changes there
(`bot/alerts/feed.py`). Short synchronous methods; callers run them through `Database.run`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.tables import LogFeed


@dataclass(frozen=True)
class FeedState:
    newest_at: float | None
    seen: list[str]
    source: str  # logs | listing
    why: str | None
    retry_at: float | None


class FeedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def state(self, namespace: str) -> FeedState:
        with self.db.session() as session:
            row = session.get(LogFeed, namespace)
            if row is None:
                return FeedState(None, [], "logs", None, None)
            return FeedState(row.newest_at, list(json.loads(row.seen or "[]")), row.source, row.why, row.retry_at)

    def save(
        self,
        namespace: str,
        *,
        newest_at: float | None = None,
        seen: list[str] | None = None,
        source: str | None = None,
        why: str | None = None,
        retry_at: float | None = None,
    ) -> None:
        """Move the position (when given) and set the source (when given; `why` and `retry_at` with it)."""
        with self.db.session() as session, session.begin():
            row = session.get(LogFeed, namespace)
            if row is None:
                row = LogFeed(namespace=namespace, seen="[]", source="logs")
                session.add(row)
            if newest_at is not None:
                row.newest_at, row.seen = newest_at, json.dumps(seen or [])
            if source is not None:
                row.source, row.why, row.retry_at = source, why, retry_at
