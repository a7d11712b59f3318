"""The audit log: one row for every change attempted through the bot, whatever came of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import select

from bot.access import Caller
from bot.store.db import Database
from bot.store.tables import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    at: float
    team_id: str
    channel_id: str
    user_id: str
    command: str
    namespace: str | None
    repository: str | None
    outcome: str
    quay_status: int | None
    detail: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class AuditLog:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def record(
        self,
        caller: Caller,
        command: str,
        outcome: str,
        *,
        namespace: str | None = None,
        repository: str | None = None,
        quay_status: int | None = None,
        detail: str | None = None,
    ) -> None:
        entry = AuditEntry(
            at=self.clock(),
            team_id=caller.team_id,
            channel_id=caller.channel_id,
            user_id=caller.user_id,
            command=command,
            namespace=namespace,
            repository=repository,
            outcome=outcome,
            quay_status=quay_status,
            detail=(detail or "")[:2000] or None,
        )

        def work() -> None:
            with self.db.session() as session, session.begin():
                session.add(entry)

        await self.db.run(work)

    def since(self, since: float) -> list[AuditRecord]:
        with self.db.session() as session:
            rows = session.scalars(
                select(AuditEntry).where(AuditEntry.at >= since).order_by(AuditEntry.at, AuditEntry.id)
            )
            return [_record(r) for r in rows]

    def for_user(self, user_id: str, limit: int = 10) -> list[AuditRecord]:
        """This user's latest rows, newest first (the App Home shows them)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.user_id == user_id)
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .limit(limit)
            )
            return [_record(r) for r in rows]


def _record(r: AuditEntry) -> AuditRecord:
    return AuditRecord(
        r.at,
        r.team_id,
        r.channel_id,
        r.user_id,
        r.command,
        r.namespace,
        r.repository,
        r.outcome,
        r.quay_status,
        r.detail,
    )
