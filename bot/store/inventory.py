"""The watcher's memory of each namespace: its repositories as last listed (the inventory), when each
is due for a read, the rotation's place, and the namespace's warning.

Every method is synchronous and short; callers run them through `Database.run`. A warning and the
channel posts that say it are written in one transaction (`bot/store/outbox.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from bot.store.db import Database
from bot.store.outbox import Payload, add_to_outbox
from bot.store.tables import InventoryRepo, NamespaceWatch


@dataclass(frozen=True)
class InventoryEntry:
    name: str
    has_notifications: bool | None
    checked_at: float | None = None
    last_modified: int | None = None
    next_check_at: float | None = None
    pushed_at: float | None = None
    unlogged: bool | None = None  # some notification fires on an event the usage logs do not show


@dataclass(frozen=True)
class Listed:
    """A repository as the inventory listing showed it."""

    name: str
    last_modified: int | None  # None: no tags
    pushed_at: float | None = None  # when a push that moved `last_modified` happened, by the watcher's clock


@dataclass(frozen=True)
class Check:
    """The result of reading one repository's notifications."""

    has_notifications: bool
    next_check_at: float | None
    pushed_at: float | None
    unlogged: bool | None = None  # None: not known (a row from before revision 0007): read as before


@dataclass(frozen=True)
class NamespaceState:
    listed_at: float | None
    warning: str | None
    rotation_cursor: str | None
    first_pass_done_at: float | None


# `last_modified` stored for a repository listed without tags; NULL means "never listed with it".
NO_TAGS = 0


_ENTRY_COLUMNS = (
    InventoryRepo.name,
    InventoryRepo.has_notifications,
    InventoryRepo.checked_at,
    InventoryRepo.last_modified,
    InventoryRepo.next_check_at,
    InventoryRepo.pushed_at,
    InventoryRepo.unlogged,
)


class InventoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def inventory(self, namespace: str) -> list[InventoryEntry]:
        """The namespace's repositories in name order (plain rows: a listing can hold 10,000)."""
        with self.db.session() as session:
            rows = session.execute(
                select(*_ENTRY_COLUMNS).where(InventoryRepo.namespace == namespace).order_by(InventoryRepo.name)
            )
            return [InventoryEntry(*row) for row in rows]

    def replace_inventory(
        self, namespace: str, listed: Sequence[Listed], now: float, *, hints: bool = True
    ) -> tuple[list[str], list[str]]:
        """A whole listing at once: (removed, pushed), as `record_listed` and `finish_listing` give."""
        listed_before = self.namespace_state(namespace).listed_at is not None
        pushed = self.record_listed(namespace, listed, now, hints=hints, listed_before=listed_before)
        return self.finish_listing(namespace, [item.name for item in listed], now), pushed

    def record_listed(
        self, namespace: str, page: Sequence[Listed], now: float, *, hints: bool, listed_before: bool
    ) -> list[str]:
        """Store one page of the listing; return the repositories whose `last_modified` moved since the
        last listing (a push), or that are new since then: they are due for a read at once.

        A listing of 10,000 repositories comes every minute or so and almost nothing in it changes, so
        this compares plain values and writes only the rows that moved."""
        names = [item.name for item in page]
        with self.db.session() as session, session.begin():
            known: dict[str, tuple[int | None, float | None]] = {
                name: (stamp, due)
                for name, stamp, due in session.execute(
                    select(InventoryRepo.name, InventoryRepo.last_modified, InventoryRepo.next_check_at).where(
                        InventoryRepo.namespace == namespace, InventoryRepo.name.in_(names)
                    )
                )
            }
            pushed: list[str] = []
            new_rows: list[dict[str, Any]] = []
            for item in page:
                stamp = item.last_modified if item.last_modified is not None else NO_TAGS
                pushed_at = item.pushed_at if item.pushed_at is not None else now
                if item.name not in known:
                    moved = listed_before  # new since the last listing: made a moment ago
                    row: dict[str, Any] = {
                        "namespace": namespace,
                        "name": item.name,
                        "has_notifications": None,
                        "listed_at": now,
                        "last_modified": stamp,
                        "pushed_at": None,
                        "next_check_at": None,
                    }
                    if hints and moved:
                        pushed.append(item.name)
                        row.update(pushed_at=pushed_at, next_check_at=now)
                    new_rows.append(row)
                    continue
                before, due = known[item.name]
                if before == stamp:
                    continue
                # NULL: listed before `last_modified` was recorded; the first value is no push.
                values: dict[str, Any] = {"last_modified": stamp}
                if hints and before is not None:
                    pushed.append(item.name)
                    values["pushed_at"] = pushed_at
                    values["next_check_at"] = min(now, due) if due is not None else now
                session.execute(
                    update(InventoryRepo)
                    .where(InventoryRepo.namespace == namespace, InventoryRepo.name == item.name)
                    .values(**values)
                )
            if new_rows:
                session.execute(insert(InventoryRepo), new_rows)
            return pushed

    def finish_listing(self, namespace: str, names: Sequence[str], now: float) -> list[str]:
        """The listing is complete: forget the repositories it no longer has (returned)."""
        with self.db.session() as session, session.begin():
            known = set(session.scalars(select(InventoryRepo.name).where(InventoryRepo.namespace == namespace)))
            removed = sorted(known - set(names))
            if removed:
                session.execute(
                    delete(InventoryRepo).where(InventoryRepo.namespace == namespace, InventoryRepo.name.in_(removed))
                )
            watch = session.get(NamespaceWatch, namespace)
            if watch is None:
                watch = NamespaceWatch(namespace=namespace)
                session.add(watch)
            watch.listed_at = now
            return removed

    def record_checks(self, namespace: str, checks: Mapping[str, Check], now: float) -> None:
        with self.db.session() as session, session.begin():
            for name, check in checks.items():
                session.execute(
                    update(InventoryRepo)
                    .where(InventoryRepo.namespace == namespace, InventoryRepo.name == name)
                    .values(
                        has_notifications=check.has_notifications,
                        checked_at=now,
                        next_check_at=check.next_check_at,
                        pushed_at=check.pushed_at,
                        unlogged=check.unlogged,
                    )
                )

    def watch_soon(self, namespace: str, name: str, at: float, now: float, *, event_at: float | None = None) -> None:
        """Read a repository at `at`: the bot just changed or tested one of its notifications."""
        with self.db.session() as session, session.begin():
            row = session.get(InventoryRepo, (namespace, name))
            if row is None:  # made a moment ago, not listed yet
                row = InventoryRepo(namespace=namespace, name=name, has_notifications=True, listed_at=now)
                session.add(row)
            row.has_notifications = True
            row.next_check_at = min(at, row.next_check_at) if row.next_check_at is not None else at
            if event_at is not None:
                row.pushed_at = event_at

    def logged(self, namespace: str, name: str, kind: str, at: float, now: float) -> None:
        """What the usage logs say happened to a repository: a push or tag change (read it now; its
        notifications fire from `at`), a new repository (the first pass reads it), or one deleted."""
        with self.db.session() as session, session.begin():
            row = session.get(InventoryRepo, (namespace, name))
            if kind == "delete_repo":
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                row = InventoryRepo(namespace=namespace, name=name, has_notifications=None, listed_at=now)
                session.add(row)
                if kind == "create_repo":
                    return
            if kind == "create_repo" or row.has_notifications is False:
                return  # nothing there can fail (a notification added later is logged too)
            row.pushed_at = at
            row.next_check_at = min(now, row.next_check_at) if row.next_check_at is not None else now

    def due_checks(self, namespace: str, now: float) -> list[InventoryEntry]:
        with self.db.session() as session:
            rows = session.execute(
                select(*_ENTRY_COLUMNS)
                .where(InventoryRepo.namespace == namespace, InventoryRepo.next_check_at <= now)
                .order_by(InventoryRepo.next_check_at)
            )
            return [InventoryEntry(*row) for row in rows]

    def namespace_state(self, namespace: str) -> NamespaceState:
        with self.db.session() as session:
            watch = session.get(NamespaceWatch, namespace)
            if watch is None:
                return NamespaceState(None, None, None, None)
            return NamespaceState(watch.listed_at, watch.warning, watch.rotation_cursor, watch.first_pass_done_at)

    def save_rotation(self, namespace: str, cursor: str | None, first_pass_done_at: float | None) -> None:
        with self.db.session() as session, session.begin():
            watch = session.get(NamespaceWatch, namespace)
            if watch is None:
                watch = NamespaceWatch(namespace=namespace)
                session.add(watch)
            watch.rotation_cursor = cursor
            if first_pass_done_at is not None and watch.first_pass_done_at is None:
                watch.first_pass_done_at = first_pass_done_at

    def set_warning(
        self, namespace: str, warning: str | None, now: float, *, posts: Sequence[tuple[str, Payload]] = ()
    ) -> bool:
        """Record a warning; True if it is new, and then its `posts` (channel, message) are queued in
        the same transaction, so it is said once, and never lost to a crash in between."""
        with self.db.session() as session, session.begin():
            watch = session.get(NamespaceWatch, namespace)
            if watch is None:
                watch = NamespaceWatch(namespace=namespace)
                session.add(watch)
            is_new = warning is not None and watch.warning != warning
            watch.warning, watch.warned_at = warning, (now if warning else None)
            if is_new:
                for channel, payload in posts:
                    add_to_outbox(session, channel, "post", payload, now)
            return is_new
