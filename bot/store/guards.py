"""What the Slack side has already seen and opened, shared by every replica through the database:
the requests taken (so that a replayed or retried one is not run twice) and the modals opened (so
that only their own submissions are taken).

Both writes are single statements whose uniqueness the database enforces: two replicas taking the
same request at once see exactly one `True`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.tables import OpenedView, SeenRequest

# Slack's signature window is 5 minutes and its event retries come within about 5 more.
SEEN_KEPT_SECONDS = 15 * 60.0
VIEWS_KEPT_SECONDS = 24 * 3600.0  # a form left open overnight is opened again
PRUNE_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class View:
    view_id: str
    team_id: str
    user_id: str
    channel_id: str
    callback_id: str


class GuardStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._pruned_at = 0.0

    def first_sighting(self, keys: Sequence[str]) -> bool:
        """Record `keys` (all, or none); False when any of them was seen before."""
        now = self.clock()
        prune = now - self._pruned_at >= PRUNE_EVERY_SECONDS
        rows = [{"key": key, "seen_at": now} for key in dict.fromkeys(keys)]
        try:
            # Core, not the ORM: this runs for every request, and a session's bookkeeping cost about
            # as much CPU as the command it guards (bench row 4b).
            with self.db.engine.begin() as connection:
                if prune:
                    connection.execute(delete(SeenRequest).where(SeenRequest.seen_at < now - SEEN_KEPT_SECONDS))
                    connection.execute(delete(OpenedView).where(OpenedView.opened_at < now - VIEWS_KEPT_SECONDS))
                connection.execute(insert(SeenRequest), rows)
        except IntegrityError:
            return False
        if prune:
            self._pruned_at = now
        return True

    def remember_view(self, view: View) -> None:
        with self.db.session() as session, session.begin():
            session.merge(
                OpenedView(
                    view_id=view.view_id,
                    team_id=view.team_id,
                    user_id=view.user_id,
                    channel_id=view.channel_id,
                    callback_id=view.callback_id,
                    opened_at=self.clock(),
                )
            )

    def opened_view(self, view_id: str) -> View | None:
        with self.db.session() as session:
            row = session.scalars(
                select(OpenedView).where(
                    OpenedView.view_id == view_id, OpenedView.opened_at >= self.clock() - VIEWS_KEPT_SECONDS
                )
            ).first()
            if row is None:
                return None
            return View(row.view_id, row.team_id, row.user_id, row.channel_id, row.callback_id)

    def forget_view(self, view_id: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(delete(OpenedView).where(OpenedView.view_id == view_id))
