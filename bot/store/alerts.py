"""Durable state of the failure watcher: alerts per channel, mutes, the outbox, the inventory, the lease.

Every method is synchronous and short; callers run them through `Database.run`. State changes and
the Slack messages they cause are written in one transaction, so a crash cannot leave one without
the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.alerts.states import ALERTING, State, state_of, transition
from bot.blocks.alerts import AlertView
from bot.store.db import Database
from bot.store.tables import Alert, InventoryRepo, Lease, Mute, NamespaceWatch, OutboxItem

Payload = dict[str, Any]


@dataclass(frozen=True)
class Seen:
    """A notification as the watcher saw it."""

    uuid: str
    event: str
    method: str
    target: str  # masked
    failures: int
    title: str | None = None


@dataclass(frozen=True)
class Renderers:
    alert: Callable[[AlertView], Payload]
    line: Callable[[str], Payload]


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


@dataclass
class ObserveResult:
    new_alerts: int = 0
    edits: int = 0
    thread_lines: int = 0
    muted: int = 0


@dataclass(frozen=True)
class InventoryEntry:
    name: str
    has_notifications: bool | None


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Observations --------------------------------------------------------------------------------

    def observe(
        self,
        namespace: str,
        repository: str,
        seen: Sequence[Seen],
        channels: Sequence[str],
        now: float,
        render: Renderers,
    ) -> ObserveResult:
        """Record what the notifications of one repository look like now; queue what to say."""
        return self.observe_many(namespace, {repository: seen}, channels, now, render)

    def observe_many(
        self,
        namespace: str,
        repositories: Mapping[str, Sequence[Seen]],
        channels: Sequence[str],
        now: float,
        render: Renderers,
    ) -> ObserveResult:
        """`observe` for several repositories of one namespace, in one transaction."""
        result = ObserveResult()
        if not repositories:
            return result
        with self.db.session() as session, session.begin():
            records: dict[tuple[str, str], Alert] = {
                (a.channel_id, a.notification_uuid): a
                for a in session.scalars(
                    # Row locks (PostgreSQL) make a second watcher wait and then see this one's
                    # change, so even two leaders cannot announce the same change twice.
                    select(Alert)
                    .where(Alert.namespace == namespace, Alert.repository.in_(sorted(repositories)))
                    .with_for_update()
                )
            }
            uuids = [s.uuid for items in repositories.values() for s in items]
            muted = self._muted(session, uuids + [r.notification_uuid for r in records.values()], now)
            for repository, seen in repositories.items():
                current = {s.uuid for s in seen}
                for channel in channels:
                    for item in seen:
                        record = records.get((channel, item.uuid))
                        self._apply(
                            session,
                            record,
                            channel,
                            namespace,
                            repository,
                            item,
                            state_of(item.failures),
                            (channel, item.uuid) in muted,
                            now,
                            render,
                            result,
                        )
                for (channel, uuid), record in records.items():
                    if record.repository == repository and uuid not in current and channel in channels:
                        gone = Seen(uuid, record.event, record.method, record.target, record.failures, record.title)
                        self._apply(
                            session,
                            record,
                            channel,
                            namespace,
                            repository,
                            gone,
                            "gone",
                            (channel, uuid) in muted,
                            now,
                            render,
                            result,
                        )
        return result

    def _apply(
        self,
        session: Session,
        record: Alert | None,
        channel: str,
        namespace: str,
        repository: str,
        item: Seen,
        new: State,
        muted: bool,
        now: float,
        render: Renderers,
        result: ObserveResult,
    ) -> None:
        old_state: State | None = record.state if record is not None else None  # type: ignore[assignment]
        change = transition(old_state, record.failures if record else 0, new, item.failures)
        if change is None:
            return
        if record is None:
            record = Alert(
                channel_id=channel,
                notification_uuid=item.uuid,
                namespace=namespace,
                repository=repository,
                state=change.state,
                failures=item.failures,
                event=item.event,
                method=item.method,
                target=item.target,
                title=item.title,
                updated_at=now,
            )
            session.add(record)
            session.flush()
        record.state = change.state
        record.failures = item.failures
        record.event, record.method, record.target, record.title = item.event, item.method, item.target, item.title
        record.updated_at = now
        view = _view(record)
        if change.new_alert:
            if muted:
                record.parent_item_id = None
                result.muted += 1
                return
            record.parent_item_id = self._enqueue(
                session, channel, "alert", render.alert(view), now, alert_id=record.id
            )
            result.new_alerts += 1
            return
        if record.parent_item_id is None:
            return  # never announced (muted at the time): nothing to edit
        if change.edit:
            self._enqueue(session, channel, "update", render.alert(view), now, record.id, record.parent_item_id)
            result.edits += 1
        if change.thread and not muted:
            self._enqueue(session, channel, "thread", render.line(change.thread), now, record.id, record.parent_item_id)
            result.thread_lines += 1

    def note_reset(self, uuid: str, user_id: str, now: float, render: Renderers) -> int:
        """Someone reset the failures from Slack: say so on every open alert of this notification."""
        with self.db.session() as session, session.begin():
            alerts = session.scalars(
                select(Alert).where(Alert.notification_uuid == uuid, Alert.state.in_(sorted(ALERTING)))
            ).all()
            for record in alerts:
                record.state, record.failures, record.updated_at = "recovered", 0, now
                if record.parent_item_id is not None:
                    view = _view(record)
                    self._enqueue(
                        session, record.channel_id, "update", render.alert(view), now, record.id, record.parent_item_id
                    )
                    self._enqueue(
                        session,
                        record.channel_id,
                        "thread",
                        render.line(f"Failures reset by <@{user_id}>."),
                        now,
                        record.id,
                        record.parent_item_id,
                    )
            return len(alerts)

    # Mutes ---------------------------------------------------------------------------------------

    def mute(self, channel_id: str, uuid: str, until: float, user_id: str) -> None:
        with self.db.session() as session, session.begin():
            existing = session.get(Mute, (channel_id, uuid))
            if existing is None:
                session.add(Mute(channel_id=channel_id, notification_uuid=uuid, until=until, by_user=user_id))
            else:
                existing.until, existing.by_user = until, user_id

    def _muted(self, session: Session, uuids: Iterable[str], now: float) -> set[tuple[str, str]]:
        wanted = sorted(set(uuids))
        if not wanted:
            return set()
        rows = session.scalars(select(Mute).where(Mute.notification_uuid.in_(wanted), Mute.until > now))
        return {(m.channel_id, m.notification_uuid) for m in rows}

    # Outbox --------------------------------------------------------------------------------------

    def enqueue(self, channel_id: str, payload: Payload, now: float, *, user_id: str | None = None) -> int:
        """A plain message for the channel, or, with `user_id`, an ephemeral one for that user."""
        with self.db.session() as session, session.begin():
            kind = "ephemeral" if user_id else "post"
            return self._enqueue(session, channel_id, kind, payload, now, user_id=user_id)

    def _enqueue(
        self,
        session: Session,
        channel_id: str,
        kind: str,
        payload: Payload,
        now: float,
        alert_id: int | None = None,
        parent_id: int | None = None,
        user_id: str | None = None,
    ) -> int:
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
        return item.id

    def due(self, now: float) -> list[Outgoing]:
        """The oldest pending item of each channel, if it is due: strict order per channel."""
        with self.db.session() as session:
            heads = (
                select(OutboxItem.channel_id, func.min(OutboxItem.id).label("head"))
                .where(OutboxItem.state == "pending")
                .group_by(OutboxItem.channel_id)
                .subquery()
            )
            items = session.scalars(
                select(OutboxItem).join(heads, OutboxItem.id == heads.c.head).where(OutboxItem.next_attempt_at <= now)
            ).all()
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
                for i in items
            ]

    def mark_sent(self, item_id: int, ts: str | None, now: float) -> None:
        with self.db.session() as session, session.begin():
            item = session.get(OutboxItem, item_id)
            if item is None:
                return
            item.state, item.sent_at, item.attempts = "sent", now, item.attempts + 1
            if ts and item.kind in ("alert", "post"):
                item.ts = ts

    def mark_retry(self, item_id: int, next_attempt_at: float, error: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(next_attempt_at=next_attempt_at, attempts=OutboxItem.attempts + 1, last_error=error[:500])
            )

    def mark_dead(self, item_id: int, error: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(OutboxItem).where(OutboxItem.id == item_id).values(state="dead", last_error=error[:500])
            )

    def depth(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).where(OutboxItem.state == "pending")) or 0)

    # Inventory -----------------------------------------------------------------------------------

    def inventory(self, namespace: str) -> list[InventoryEntry]:
        with self.db.session() as session:
            rows = session.scalars(select(InventoryRepo).where(InventoryRepo.namespace == namespace))
            return [InventoryEntry(r.name, r.has_notifications) for r in rows]

    def replace_inventory(self, namespace: str, names: Sequence[str], now: float) -> list[str]:
        """Store the repositories listed now; return those that disappeared."""
        with self.db.session() as session, session.begin():
            known = {
                r.name: r for r in session.scalars(select(InventoryRepo).where(InventoryRepo.namespace == namespace))
            }
            listed = set(names)
            for name in listed - set(known):
                session.add(InventoryRepo(namespace=namespace, name=name, has_notifications=None, listed_at=now))
            removed = sorted(set(known) - listed)
            if removed:
                session.execute(
                    delete(InventoryRepo).where(InventoryRepo.namespace == namespace, InventoryRepo.name.in_(removed))
                )
            watch = session.get(NamespaceWatch, namespace) or NamespaceWatch(namespace=namespace)
            watch.listed_at = now
            session.merge(watch)
            return removed

    def record_checks(self, namespace: str, checks: dict[str, bool], now: float) -> None:
        with self.db.session() as session, session.begin():
            for name, has in checks.items():
                session.execute(
                    update(InventoryRepo)
                    .where(InventoryRepo.namespace == namespace, InventoryRepo.name == name)
                    .values(has_notifications=has, checked_at=now)
                )

    def alerting_repositories(self, namespace: str) -> set[str]:
        with self.db.session() as session:
            rows = session.scalars(
                select(Alert.repository).where(Alert.namespace == namespace, Alert.state.in_(sorted(ALERTING)))
            )
            return set(rows)

    def namespace_watch(self, namespace: str) -> tuple[float | None, str | None]:
        with self.db.session() as session:
            watch = session.get(NamespaceWatch, namespace)
            return (watch.listed_at, watch.warning) if watch else (None, None)

    def set_warning(self, namespace: str, warning: str | None, now: float) -> bool:
        """Record a warning; True if it is new (and so should be posted once)."""
        with self.db.session() as session, session.begin():
            watch = session.get(NamespaceWatch, namespace)
            if watch is None:
                watch = NamespaceWatch(namespace=namespace)
                session.add(watch)
            is_new = warning is not None and watch.warning != warning
            watch.warning, watch.warned_at = warning, (now if warning else None)
            return is_new

    # Leadership ----------------------------------------------------------------------------------

    def try_lead(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        with self.db.session() as session, session.begin():
            taken = session.execute(
                update(Lease)
                .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
                .values(holder=holder, expires_at=now + ttl)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
            if session.get(Lease, name) is not None:
                return False
        try:
            with self.db.session() as session, session.begin():
                session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
            return True
        except IntegrityError:
            return False  # another replica inserted it first

    def release(self, name: str, holder: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=0))


def _view(record: Alert) -> AlertView:
    return AlertView(
        record.namespace,
        record.repository,
        record.notification_uuid,
        record.event,
        record.method,
        record.target,
        record.failures,
        record.state,
        record.title,
    )
