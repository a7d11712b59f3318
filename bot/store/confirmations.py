"""Pending confirmations of destructive commands: created on the command, claimed once on the click.

The claim is a single conditional UPDATE, so a double click, a Slack retry or two bot replicas
run the action at most once, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import update

from bot.access import Caller
from bot.store.db import Database
from bot.store.tables import Confirmation

Refusal = Literal["unknown", "not_requester", "expired", "used"]
INTERRUPTED = (
    "The bot stopped while carrying this out; whether Quay did it is unknown. It will not be run again: "
    "check Quay, then run the command again if needed."
)


@dataclass(frozen=True)
class Pending:
    id: str
    team_id: str
    channel_id: str
    user_id: str
    command: str
    expires_at: float
    state: str
    result: str | None = None


@dataclass(frozen=True)
class Claimed:
    pending: Pending


@dataclass(frozen=True)
class NotClaimed:
    why: Refusal
    pending: Pending | None


def _snapshot(row: Confirmation) -> Pending:
    return Pending(row.id, row.team_id, row.channel_id, row.user_id, row.command, row.expires_at, row.state, row.result)


class ConfirmationStore:
    def __init__(self, db: Database, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.clock = clock

    async def create(self, caller: Caller, command: str) -> Pending:
        now = self.clock()
        row = Confirmation(
            id=secrets.token_urlsafe(18),
            team_id=caller.team_id,
            channel_id=caller.channel_id,
            user_id=caller.user_id,
            command=command,
            created_at=now,
            expires_at=now + self.ttl,
            state="pending",
        )

        def insert() -> Pending:
            with self.db.session() as session, session.begin():
                session.add(row)
            return _snapshot(row)

        return await self.db.run(insert)

    async def claim(self, confirmation_id: str, user_id: str, *, to_state: str = "running") -> Claimed | NotClaimed:
        """Take a pending confirmation for `user_id`; exactly one caller ever gets `Claimed`."""
        now = self.clock()

        def work() -> Claimed | NotClaimed:
            with self.db.session() as session, session.begin():
                taken = session.execute(
                    update(Confirmation)
                    .where(
                        Confirmation.id == confirmation_id,
                        Confirmation.state == "pending",
                        Confirmation.user_id == user_id,
                        Confirmation.expires_at > now,
                    )
                    .values(state=to_state, claimed_at=now)
                    .execution_options(synchronize_session=False)
                )
                row = session.get(Confirmation, confirmation_id)
                if taken.rowcount == 1 and row is not None:  # type: ignore[attr-defined]
                    return Claimed(_snapshot(row))
                if row is None:
                    return NotClaimed("unknown", None)
                if row.state != "pending":
                    return NotClaimed("used", _snapshot(row))
                if row.user_id != user_id:
                    return NotClaimed("not_requester", _snapshot(row))
                # Say so once, and never run it; conditional, so that it cannot clobber a row another
                # transaction changed after this one read it.
                session.execute(
                    update(Confirmation)
                    .where(Confirmation.id == confirmation_id, Confirmation.state == "pending")
                    .values(state="expired", finished_at=now)
                    .execution_options(synchronize_session=False)
                )
                session.refresh(row)
                return NotClaimed("expired" if row.state == "expired" else "used", _snapshot(row))

        return await self.db.run(work)

    async def finish(self, confirmation_id: str, state: str, result: str, *, claimed_as: str = "running") -> bool:
        """Record the end of a claimed confirmation; only while it is still `claimed_as`, so a row the
        reaper marked `interrupted` meanwhile keeps saying so. False when it was not."""
        now = self.clock()

        def work() -> bool:
            with self.db.session() as session, session.begin():
                done = session.execute(
                    update(Confirmation)
                    .where(Confirmation.id == confirmation_id, Confirmation.state == claimed_as)
                    .values(state=state, finished_at=now, result=result[:2000])
                )
                return bool(done.rowcount == 1)  # type: ignore[attr-defined]

        return await self.db.run(work)

    async def reap_interrupted(self, older_than: float) -> int:
        """Confirmations claimed before `older_than` and never finished: their bot died mid-way.

        They are never run again; their row says what is known."""

        def work() -> int:
            with self.db.session() as session, session.begin():
                result = session.execute(
                    update(Confirmation)
                    .where(Confirmation.state == "running", Confirmation.claimed_at < older_than)
                    .values(state="interrupted", finished_at=self.clock(), result=INTERRUPTED)
                )
                return int(result.rowcount)  # type: ignore[attr-defined]

        return await self.db.run(work)

    async def get(self, confirmation_id: str) -> Pending | None:
        def work() -> Pending | None:
            with self.db.session() as session:
                row = session.get(Confirmation, confirmation_id)
                return _snapshot(row) if row else None

        return await self.db.run(work)
