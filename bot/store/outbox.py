"""The outbox: Slack messages kept until Slack has taken them, sent in order per channel.

Whatever cannot be posted at once goes here in the same transaction as the state change that caused
it (an alert's, a subscription event's), or as the fallback for a reply response_url lost; the sender
(`bot/slack/outbox.py`) claims each channel's head row, so a row is sent by one sender at a time.
Every method is synchronous and short; callers run them through `Database.run`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.tables import OutboxItem

Payload = dict[str, Any]

# Set when a transaction of this process that added outbox rows has committed: the sender then looks
# at once instead of at its next idle poll (`bot/slack/outbox.py`).
OUTBOX_ADDED = threading.Event()


@event.listens_for(Session, "after_commit")
def _signal_outbox_added(session: Session) -> None:
    if session.info.pop("outbox_added", False):
        OUTBOX_ADDED.set()


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel_id: str
    kind: str
    payload: Payload
    attempts: int
    parent_ts: str | None
    parent_state: str | None
    user_id: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel_id: str
    kind: str
    state: str
    attempts: int
    created_at: float
    last_error: str | None
    text: str


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, channel_id: str, payload: Payload, now: float, *, user_id: str | None = None) -> int:
        """A plain message for the channel, or, with `user_id`, an ephemeral one for that user."""
        with self.db.session() as session, session.begin():
            kind = "ephemeral" if user_id else "post"
            return add_to_outbox(session, channel_id, kind, payload, now, user_id=user_id)

    def claim_due(self, now: float, holder: str, claim_seconds: float, *, skip: Collection[str] = ()) -> list[Outgoing]:
        """Claim the head of each channel's queue, if it is due: strict order per channel, and a row is
        sent by one sender at a time. A claim lapses after `claim_seconds` (its sender died)."""
        with self.db.session() as session, session.begin():
            heads = (
                select(OutboxItem.channel_id, func.min(OutboxItem.id).label("head"))
                .where(OutboxItem.state.in_(("pending", "sending")))
                .group_by(OutboxItem.channel_id)
                .subquery()
            )
            candidates = session.scalars(
                select(OutboxItem.id)
                .join(heads, OutboxItem.id == heads.c.head)
                .where(
                    ((OutboxItem.state == "pending") & (OutboxItem.next_attempt_at <= now))
                    | ((OutboxItem.state == "sending") & (OutboxItem.claim_expires_at < now)),
                    OutboxItem.channel_id.not_in(sorted(skip)),
                )
            ).all()
            claimed: list[int] = []
            for item_id in candidates:
                # Conditional: of two senders racing for a row, exactly one changes it.
                taken = session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id == item_id,
                        (OutboxItem.state == "pending") | (OutboxItem.claim_expires_at < now),
                        OutboxItem.state.in_(("pending", "sending")),
                    )
                    .values(state="sending", claimed_by=holder, claim_expires_at=now + claim_seconds)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(item_id)
            items = session.scalars(select(OutboxItem).where(OutboxItem.id.in_(claimed))).all()
            parents = {
                p.id: p
                for p in session.scalars(
                    select(OutboxItem).where(OutboxItem.id.in_([i.parent_id for i in items if i.parent_id]))
                )
            }
            return [
                Outgoing(
                    i.id,
                    i.channel_id,
                    i.kind,
                    json.loads(i.payload),
                    i.attempts,
                    parents[i.parent_id].ts if i.parent_id in parents else None,
                    parents[i.parent_id].state if i.parent_id in parents else None,
                    i.user_id,
                )
                for i in sorted(items, key=lambda i: i.id)
            ]

    def mark_sent(self, item_id: int, holder: str, ts: str | None, now: float) -> bool:
        """False when the claim had lapsed and another sender took the row (it may be sent twice)."""
        with self.db.session() as session, session.begin():
            values: dict[str, Any] = {"state": "sent", "sent_at": now, "attempts": OutboxItem.attempts + 1}
            if ts:
                values["ts"] = ts
            done = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.claimed_by == holder, OutboxItem.state == "sending")
                .values(**values)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def mark_retry(self, item_id: int, holder: str, next_attempt_at: float, error: str, *, count: bool = True) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.claimed_by == holder, OutboxItem.state == "sending")
                .values(
                    state="pending",
                    next_attempt_at=next_attempt_at,
                    attempts=OutboxItem.attempts + (1 if count else 0),
                    last_error=error[:500],
                    claim_expires_at=None,
                )
            )

    def mark_dead(self, item_id: int, error: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(OutboxItem).where(OutboxItem.id == item_id).values(state="dead", last_error=error[:500])
            )

    def depth(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).where(OutboxItem.state.in_(("pending", "sending")))) or 0)

    def dead_count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).where(OutboxItem.state == "dead")) or 0)

    def outbox_rows(self, states: Sequence[str], limit: int = 200) -> list[OutboxRow]:
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxItem).where(OutboxItem.state.in_(states)).order_by(OutboxItem.id).limit(limit)
            )
            return [
                OutboxRow(
                    r.id,
                    r.channel_id,
                    r.kind,
                    r.state,
                    r.attempts,
                    r.created_at,
                    r.last_error,
                    str(json.loads(r.payload).get("text", "")),
                )
                for r in rows
            ]

    def retry_item(self, item_id: int, now: float) -> bool:
        """A dead row goes back in its channel's queue (at its original place: order is by id)."""
        with self.db.session() as session, session.begin():
            done = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.state == "dead")
                .values(state="pending", attempts=0, next_attempt_at=now, claimed_by=None, claim_expires_at=None)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def drop_item(self, item_id: int) -> bool:
        """Set a pending or dead row aside for good; its edits and thread lines follow it."""
        with self.db.session() as session, session.begin():
            done = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.state.in_(("pending", "dead")))
                .values(state="dropped", last_error="dropped by an operator")
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def add_to_outbox(
    session: Session,
    channel_id: str,
    kind: str,
    payload: Payload,
    now: float,
    alert_id: int | None = None,
    parent_id: int | None = None,
    user_id: str | None = None,
) -> int:
    """One outbox row, in the caller's transaction; its id."""
    item = OutboxItem(
        user_id=user_id,
        channel_id=channel_id,
        alert_id=alert_id,
        kind=kind,
        payload=json.dumps(payload),
        created_at=now,
        next_attempt_at=now,
        attempts=0,
        state="pending",
        parent_id=parent_id,
    )
    session.add(item)
    session.flush()
    session.info["outbox_added"] = True
    return item.id
