"""Durable state of channel subscriptions: what each channel subscribed to, the Quay notifications
the bot made for it, and the Slack messages that group events (a build's stages, a minute of pushes).

Synchronous and short, like the rest of `bot/store`; callers run it through `Database.run`. An event
and the outbox rows it causes are written in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.outbox import Payload, add_to_outbox
from bot.store.tables import EventMessage, OutboxItem, Subscription, SubscriptionHook


@dataclass(frozen=True)
class SubscriptionRecord:
    id: int
    channel_id: str
    namespace: str
    repository: str | None  # None: every repository of the namespace
    events: tuple[str, ...]
    token_hash: str
    created_by: str
    created_at: float

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.repository}" if self.repository else self.namespace

    def covers(self, namespace: str, repository: str) -> bool:
        return namespace == self.namespace and self.repository in (None, repository)


@dataclass(frozen=True)
class Hook:
    subscription_id: int
    repository: str
    event: str
    notification_uuid: str


@dataclass(frozen=True)
class Grouped:
    """An event that may join a message already posted: `key` names the group (per channel)."""

    key: str
    window: float  # seconds from the group's first event during which later events join it
    merge: Callable[[dict[str, Any] | None], dict[str, Any]]  # the group's data with this event in it
    render: Callable[[dict[str, Any]], Payload]
    thread_line: str | None = None  # said in the message's thread when the event joins a group


def _record(row: Subscription) -> SubscriptionRecord:
    return SubscriptionRecord(
        row.id,
        row.channel_id,
        row.namespace,
        row.repository or None,
        tuple(row.events.split()),
        row.token_hash,
        row.created_by,
        row.created_at,
    )


class SubscriptionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Subscriptions ------------------------------------------------------------------------------

    def find(self, channel_id: str, namespace: str, repository: str | None) -> SubscriptionRecord | None:
        with self.db.session() as session:
            row = session.scalars(
                select(Subscription).where(
                    Subscription.channel_id == channel_id,
                    Subscription.namespace == namespace,
                    Subscription.repository == (repository or ""),
                )
            ).one_or_none()
            return _record(row) if row else None

    def by_token_hash(self, token_hash: str) -> SubscriptionRecord | None:
        with self.db.session() as session:
            row = session.scalars(select(Subscription).where(Subscription.token_hash == token_hash)).one_or_none()
            return _record(row) if row else None

    def get(self, subscription_id: int) -> SubscriptionRecord | None:
        with self.db.session() as session:
            row = session.get(Subscription, subscription_id)
            return _record(row) if row else None

    def all(self) -> list[SubscriptionRecord]:
        with self.db.session() as session:
            return [_record(row) for row in session.scalars(select(Subscription).order_by(Subscription.id))]

    def for_channel(self, channel_id: str) -> list[tuple[SubscriptionRecord, int]]:
        """This channel's subscriptions, each with the number of Quay notifications made for it."""
        with self.db.session() as session:
            counts = dict(
                session.execute(
                    select(SubscriptionHook.subscription_id, func.count())
                    .join(Subscription, Subscription.id == SubscriptionHook.subscription_id)
                    .where(Subscription.channel_id == channel_id)
                    .group_by(SubscriptionHook.subscription_id)
                ).all()
            )
            rows = session.scalars(
                select(Subscription)
                .where(Subscription.channel_id == channel_id)
                .order_by(Subscription.namespace, Subscription.repository)
            )
            return [(_record(row), int(counts.get(row.id, 0))) for row in rows]

    def create(
        self,
        channel_id: str,
        namespace: str,
        repository: str | None,
        events: Sequence[str],
        token_hash: str,
        user_id: str,
        now: float,
    ) -> SubscriptionRecord:
        with self.db.session() as session, session.begin():
            row = Subscription(
                channel_id=channel_id,
                namespace=namespace,
                repository=repository or "",
                events=" ".join(events),
                token_hash=token_hash,
                created_by=user_id,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return _record(row)

    def set_events(self, subscription_id: int, events: Sequence[str]) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(Subscription).where(Subscription.id == subscription_id).values(events=" ".join(events))
            )

    def set_token_hash(self, subscription_id: int, token_hash: str) -> None:
        with self.db.session() as session, session.begin():
            session.execute(
                update(Subscription).where(Subscription.id == subscription_id).values(token_hash=token_hash)
            )

    def delete(self, subscription_id: int) -> None:
        with self.db.session() as session, session.begin():
            session.execute(delete(SubscriptionHook).where(SubscriptionHook.subscription_id == subscription_id))
            session.execute(delete(Subscription).where(Subscription.id == subscription_id))

    # The notifications made for them ------------------------------------------------------------

    def hooks(self, subscription_id: int) -> list[Hook]:
        with self.db.session() as session:
            rows = session.scalars(
                select(SubscriptionHook)
                .where(SubscriptionHook.subscription_id == subscription_id)
                .order_by(SubscriptionHook.repository, SubscriptionHook.event)
            )
            return [Hook(r.subscription_id, r.repository, r.event, r.notification_uuid) for r in rows]

    def add_hook(self, subscription_id: int, repository: str, event: str, uuid: str, now: float) -> None:
        with self.db.session() as session, session.begin():
            session.merge(
                SubscriptionHook(
                    subscription_id=subscription_id,
                    repository=repository,
                    event=event,
                    notification_uuid=uuid,
                    created_at=now,
                )
            )

    def forget_hooks(self, subscription_id: int, keys: Collection[tuple[str, str]]) -> None:
        """Forget (repository, event) hooks: deleted by the bot, or gone with their repository."""
        with self.db.session() as session, session.begin():
            for repository, event in keys:
                session.execute(
                    delete(SubscriptionHook).where(
                        SubscriptionHook.subscription_id == subscription_id,
                        SubscriptionHook.repository == repository,
                        SubscriptionHook.event == event,
                    )
                )

    def own_notification_uuids(self) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(SubscriptionHook.notification_uuid)))

    # Events to Slack ----------------------------------------------------------------------------

    def post_event(self, channel_id: str, message: Payload | Grouped, now: float) -> int:
        """Queue an event's message; one that joins a group edits the group's message instead (and
        adds a thread line), or, while that message is still waiting in the outbox, rewrites it."""
        with self.db.session() as session, session.begin():
            if isinstance(message, Grouped):
                return self._post_grouped(session, channel_id, now, message)
            return add_to_outbox(session, channel_id, "post", message, now)

    def _post_grouped(self, session: Session, channel_id: str, now: float, grouped: Grouped) -> int:
        row = session.get(EventMessage, (channel_id, grouped.key), with_for_update=True)
        if row is None or now - row.opened_at > grouped.window:
            data = grouped.merge(None)
            item_id = add_to_outbox(session, channel_id, "post", grouped.render(data), now)
            if row is None:
                row = EventMessage(channel_id=channel_id, group_key=grouped.key)
                session.add(row)
            row.outbox_item_id, row.opened_at, row.updated_at, row.data = item_id, now, now, json.dumps(data)
            return item_id
        data = grouped.merge(json.loads(row.data))
        self._edit(session, row, grouped.render(data), now, data)
        if grouped.thread_line is not None:
            thread = {"text": grouped.thread_line}
            return add_to_outbox(session, channel_id, "thread", thread, now, parent_id=row.outbox_item_id)
        return row.outbox_item_id

    def amend_group(self, channel_id: str, grouped: Grouped, now: float) -> bool:
        """Edit a group's message with what was learnt after it was posted (who pushed); False when
        the group is no longer kept. Never opens a group, and says nothing in its thread."""
        with self.db.session() as session, session.begin():
            row = session.get(EventMessage, (channel_id, grouped.key), with_for_update=True)
            if row is None:
                return False
            data = grouped.merge(json.loads(row.data))
            self._edit(session, row, grouped.render(data), now, data)
            return True

    @staticmethod
    def _edit(session: Session, row: EventMessage, payload: Payload, now: float, data: dict[str, Any]) -> None:
        """The group's message says `payload` now: rewritten while it, or an edit of it, waits in the
        outbox (two quick changes are one edit in Slack), else edited."""
        row.data, row.updated_at = json.dumps(data), now
        posted, text = row.outbox_item_id, json.dumps(payload)
        waiting = (OutboxItem.id == posted) | ((OutboxItem.parent_id == posted) & (OutboxItem.kind == "update"))
        rewritten = session.execute(
            update(OutboxItem).where(waiting, OutboxItem.state == "pending").values(payload=text)
        )
        if rewritten.rowcount == 0:  # type: ignore[attr-defined]
            add_to_outbox(session, row.channel_id, "update", payload, now, parent_id=posted)

    def forget_groups_before(self, before: float) -> int:
        with self.db.session() as session, session.begin():
            done = session.execute(delete(EventMessage).where(EventMessage.updated_at < before))
            return int(done.rowcount)  # type: ignore[attr-defined]
