"""Approval requests: a command its requester confirmed, waiting for another member of the channel.

Like confirmations, each decision is one conditional UPDATE (pending -> running | rejected |
withdrawn), so double clicks, two approvers at once and two replicas decide it once; the row
survives restarts.
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
from bot.store.tables import Approval

Decision = Literal["running", "rejected", "withdrawn"]
NotDecided = Literal["unknown", "expired", "used"]


@dataclass(frozen=True)
class PendingApproval:
    id: str
    team_id: str
    channel_id: str
    requester_id: str
    command: str
    expires_at: float
    state: str
    decided_by: str | None = None
    result: str | None = None

    def requester(self) -> Caller:
        return Caller(self.team_id, self.channel_id, self.requester_id)


@dataclass(frozen=True)
class Decided:
    approval: PendingApproval


@dataclass(frozen=True)
class Undecided:
    why: NotDecided
    approval: PendingApproval | None


def _snapshot(row: Approval) -> PendingApproval:
    return PendingApproval(
        row.id,
        row.team_id,
        row.channel_id,
        row.requester_id,
        row.command,
        row.expires_at,
        row.state,
        row.decided_by,
        row.result,
    )


class ApprovalStore:
    def __init__(self, db: Database, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.clock = clock

    async def create(self, requester: Caller, command: str) -> PendingApproval:
        now = self.clock()
        row = Approval(
            id=secrets.token_urlsafe(18),
            team_id=requester.team_id,
            channel_id=requester.channel_id,
            requester_id=requester.user_id,
            command=command,
            created_at=now,
            expires_at=now + self.ttl,
            state="pending",
        )

        def insert() -> PendingApproval:
            with self.db.session() as session, session.begin():
                session.add(row)
            return _snapshot(row)

        return await self.db.run(insert)

    async def get(self, approval_id: str) -> PendingApproval | None:
        def work() -> PendingApproval | None:
            with self.db.session() as session:
                row = session.get(Approval, approval_id)
                return _snapshot(row) if row is not None else None

        return await self.db.run(work)

    async def decide(self, approval_id: str, user_id: str, to_state: Decision) -> Decided | Undecided:
        """Take the pending request into `to_state` for `user_id`; exactly one caller ever decides it.
        Who may decide (not the requester, or only the requester) is checked by the caller."""
        now = self.clock()

        def work() -> Decided | Undecided:
            with self.db.session() as session, session.begin():
                taken = session.execute(
                    update(Approval)
                    .where(Approval.id == approval_id, Approval.state == "pending", Approval.expires_at > now)
                    .values(state=to_state, decided_by=user_id, decided_at=now)
                    .execution_options(synchronize_session=False)
                )
                row = session.get(Approval, approval_id)
                if row is None:
                    return Undecided("unknown", None)
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return Decided(_snapshot(row))
                if row.state == "pending":  # expired: said once, never run
                    session.execute(
                        update(Approval)
                        .where(Approval.id == approval_id, Approval.state == "pending")
                        .values(state="expired", decided_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    session.refresh(row)
                    return Undecided("expired" if row.state == "expired" else "used", _snapshot(row))
                return Undecided("used", _snapshot(row))

        return await self.db.run(work)

    async def finish(self, approval_id: str, state: str, result: str) -> bool:
        def work() -> bool:
            with self.db.session() as session, session.begin():
                done = session.execute(
                    update(Approval)
                    .where(Approval.id == approval_id, Approval.state == "running")
                    .values(state=state, result=result[:2000])
                )
                return bool(done.rowcount == 1)  # type: ignore[attr-defined]

        return await self.db.run(work)

    async def reap_interrupted(self, older_than: float) -> int:
        """Approved requests whose run never finished (their bot died mid-way): never run again."""

        def work() -> int:
            with self.db.session() as session, session.begin():
                result = session.execute(
                    update(Approval)
                    .where(Approval.state == "running", Approval.decided_at < older_than)
                    .values(state="interrupted")
                )
                return int(result.rowcount)  # type: ignore[attr-defined]

        return await self.db.run(work)
