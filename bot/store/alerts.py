"""Durable state of the failure watcher: alerts per channel, mutes, the lease. The messages alerts
cause go to the outbox (`bot/store/outbox.py`) in the same transaction; what the watcher knows of
each namespace's repositories is the inventory (`bot/store/inventory.py`).

Every method is synchronous and short; callers run them through `Database.run`. It only persists:
what to say is decided in `bot/alerts/` and rendered before any transaction starts. State changes
and the Slack messages they cause are written in one transaction, so a crash cannot leave one
without the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.outbox import Payload, add_to_outbox
from bot.store.tables import (
    Alert,
    Lease,
    Mute,
    OutboxItem,
    Subscription,
    SubscriptionHook,
)


@dataclass(frozen=True)
class AlertRecord:
    """What one channel has been told about one notification, as stored."""

    channel: str
    uuid: str
    namespace: str
    repository: str
    state: str
    failures: int
    event: str
    method: str
    target: str  # masked
    title: str | None
    parent_item_id: int | None
    in_digest: bool = False  # its parent message is a digest of several alerts

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.uuid)


@dataclass(frozen=True)
class AlertWrite:
    """A new state for one alert row, with the messages it causes on its existing parent message."""

    channel: str
    uuid: str
    namespace: str
    repository: str
    state: str
    failures: int
    event: str
    method: str
    target: str
    title: str | None
    expected: tuple[str, int] | None  # (state, failures) the decision was made on; None: no row yet
    new_episode: bool = False  # a new alert: the old parent message no longer applies
    messages: tuple[tuple[str, Payload], ...] = ()  # ("update" | "thread", payload) on the parent

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.uuid)


@dataclass(frozen=True)
class NewPost:
    """A new parent message announcing one alert, or several (a digest)."""

    channel: str
    payload: Payload
    alerts: tuple[str, ...]  # notification UUIDs
    digest: bool = False


@dataclass(frozen=True)
class Snapshot:
    records: dict[tuple[str, str], AlertRecord]
    muted: set[tuple[str, str]]
    # The bot's own webhooks among the notifications: uuid -> the channels that subscribed through it.
    subscribers: dict[str, tuple[str, ...]] = field(default_factory=dict)


class Conflict(Exception):
    """Another watcher changed an alert between the snapshot and the write: decide again."""


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Alerts --------------------------------------------------------------------------------------

    def snapshot(
        self, namespace: str, repositories: Iterable[str], now: float, *, also_uuids: Iterable[str] = ()
    ) -> Snapshot:
        """What the channels were told about these repositories' notifications, and what is muted among
        those and `also_uuids` (notifications just seen, which may have no alert row yet)."""
        also_uuids = list(also_uuids)
        with self.db.session() as session:
            rows = session.scalars(
                select(Alert).where(Alert.namespace == namespace, Alert.repository.in_(sorted(set(repositories))))
            ).all()
            snapshot = self._snapshot(session, rows, now, also_uuids)
            subscribers: dict[str, tuple[str, ...]] = {}
            seen = sorted({*also_uuids, *(r.notification_uuid for r in rows)})
            if seen:
                for uuid, channel in session.execute(
                    select(SubscriptionHook.notification_uuid, Subscription.channel_id)
                    .join(Subscription, Subscription.id == SubscriptionHook.subscription_id)
                    .where(SubscriptionHook.notification_uuid.in_(seen))
                ):
                    subscribers[uuid] = (*subscribers.get(uuid, ()), channel)
            return Snapshot(snapshot.records, snapshot.muted, subscribers)

    def notification_snapshot(self, uuid: str, now: float) -> Snapshot:
        with self.db.session() as session:
            rows = session.scalars(select(Alert).where(Alert.notification_uuid == uuid)).all()
            return self._snapshot(session, rows, now)

    def _snapshot(
        self, session: Session, rows: Sequence[Alert], now: float, also_uuids: Iterable[str] = ()
    ) -> Snapshot:
        parents = sorted({r.parent_item_id for r in rows if r.parent_item_id is not None})
        digests: set[int] = set()
        if parents:
            digests = set(
                session.scalars(select(OutboxItem.id).where(OutboxItem.id.in_(parents), OutboxItem.kind == "digest"))
            )
        records = {(r.channel_id, r.notification_uuid): _record(r, r.parent_item_id in digests) for r in rows}
        return Snapshot(records, self._muted(session, [*(r.notification_uuid for r in rows), *also_uuids], now))

    def apply(self, writes: Sequence[AlertWrite], posts: Sequence[NewPost], now: float) -> None:
        """Store alert states and queue their messages, in one transaction; `Conflict` (nothing written)
        when a row is no longer what the decision was made on."""
        if not writes:
            return
        try:
            with self.db.session() as session, session.begin():
                keys = {w.key for w in writes}
                rows: dict[tuple[str, str], Alert] = {
                    (a.channel_id, a.notification_uuid): a
                    for a in session.scalars(
                        # Row locks (PostgreSQL) make a second watcher wait and then see this one's
                        # change, so even two leaders cannot announce the same change twice.
                        select(Alert)
                        .where(Alert.notification_uuid.in_(sorted({uuid for _, uuid in keys})))
                        .with_for_update()
                    )
                    if (a.channel_id, a.notification_uuid) in keys
                }
                for write in writes:
                    row = rows.get(write.key)
                    found = (row.state, row.failures) if row is not None else None
                    if found != write.expected:
                        raise Conflict(f"{write.key}: expected {write.expected}, found {found}")
                    if row is None:
                        row = Alert(channel_id=write.channel, notification_uuid=write.uuid)
                        session.add(row)
                        rows[write.key] = row
                    row.namespace, row.repository = write.namespace, write.repository
                    row.state, row.failures, row.updated_at = write.state, write.failures, now
                    row.event, row.method, row.target, row.title = write.event, write.method, write.target, write.title
                    if write.new_episode:
                        row.parent_item_id = None
                session.flush()
                for post in posts:
                    members = [rows[(post.channel, uuid)] for uuid in post.alerts]
                    kind = "digest" if post.digest else "alert"
                    item_id = add_to_outbox(session, post.channel, kind, post.payload, now, alert_id=members[0].id)
                    for member in members:
                        member.parent_item_id = item_id
                for write in writes:
                    row = rows[write.key]
                    for kind, payload in write.messages:
                        if row.parent_item_id is not None:
                            add_to_outbox(session, write.channel, kind, payload, now, row.id, row.parent_item_id)
        except IntegrityError as error:  # another watcher inserted the same new alert first
            raise Conflict(str(error.orig)) from error

    # Mutes ---------------------------------------------------------------------------------------

    def open_alerts(self, channels: Sequence[str], limit: int = 20) -> list[AlertRecord]:
        """Alerts still failing or disabled in these channels, the latest first."""
        if not channels:
            return []
        with self.db.session() as session:
            rows = session.scalars(
                select(Alert)
                .where(Alert.channel_id.in_(sorted(channels)), Alert.state.in_(("failing", "disabled")))
                .order_by(Alert.updated_at.desc(), Alert.id.desc())
                .limit(limit)
            ).all()
            return [_record(row, False) for row in rows]

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

    # Where alerts stand -----------------------------------------------------------------------

    def alerting_repositories(self, namespace: str, states: Sequence[str]) -> set[str]:
        with self.db.session() as session:
            rows = session.scalars(
                select(Alert.repository).where(Alert.namespace == namespace, Alert.state.in_(states))
            )
            return set(rows)

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


def _record(row: Alert, in_digest: bool) -> AlertRecord:
    return AlertRecord(
        row.channel_id,
        row.notification_uuid,
        row.namespace,
        row.repository,
        row.state,
        row.failures,
        row.event,
        row.method,
        row.target,
        row.title,
        row.parent_item_id,
        in_digest,
    )
