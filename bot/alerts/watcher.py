"""The watch: read the notifications of watched namespaces, soon enough to alert before Quay gives up.

Quay has no endpoint for all notifications of a namespace: it is one request per repository, and
Quay's worker takes a failing notification from its first failure to disabled in about 85 s. So the
watch reads what is likely to be failing first, within a requests-per-second budget shared by three
kinds of reads, in this order:

1. follow-ups: a repository whose `last_modified` moved (a push: its notifications fire now), one
   whose notification is failing (to see the count climb), one the bot itself just changed or
   tested; each read when Quay's worker has had its chance (`schedule.py`);
2. the listing: every repository with `last_modified=true`, 100 a page, once a period: the push
   hints. The period is as short as half the budget allows, at most the alert interval;
3. the rotation, with what is left: repositories never read (newest push first), then those with
   notifications not read for an inventory interval, then everything in name order from a stored
   cursor. It catches what no push shows (a notification added in Quay's UI, vulnerability and
   expiry events).

Everything the schedule needs (inventory, `last_modified`, due reads, the cursor) is stored, so a
restart resumes where it stopped. `WatchSettings.hints = False` keeps the earlier schedule (hot
every sweep, cold 1/K, no hints) for comparison in the benchmark. This module decides what to read;
the reads themselves, within the budget, are `reads.py`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from pydantic import SecretStr

from bot import tracing
from bot.access import AccessPolicy
from bot.alerts.announce import Announcer
from bot.alerts.reads import (
    FOLLOW_UP,
    LISTING,
    ROTATION,
    NamespaceReport,
    NotificationReads,
    PriorityLimiter,
    WatchSettings,
)
from bot.alerts.schedule import push_time
from bot.alerts.sources import ChangeSources
from bot.alerts.states import ALERTING
from bot.blocks.alerts import render_warning
from bot.i18n import Phrase
from bot.metrics import Metrics
from bot.quay import (
    QuayClient,
    QuayError,
    QuayRateLimited,
    QuayUnavailable,
)
from bot.store.alerts import AlertStore
from bot.store.db import Database
from bot.store.inventory import InventoryEntry, InventoryStore, Listed, NamespaceState

log = logging.getLogger(__name__)
PAGE_SIZE = 100  # Quay's repository list page


@dataclass
class SweepReport:
    seconds: float = 0.0
    namespaces: list[NamespaceReport] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return sum(n.checked for n in self.namespaces)


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class Watcher:
    def __init__(
        self,
        policy: AccessPolicy,
        quay: QuayClient,
        default_token: SecretStr | None,
        db: Database,
        store: AlertStore,
        metrics: Metrics,
        quay_url: str,
        settings: WatchSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.quay = quay
        self.default_token = default_token
        self.db = db
        self.store = store
        self.inventory_store = InventoryStore(db)
        self.metrics = metrics
        self.quay_url = quay_url
        self.settings = settings
        self.clock = clock
        self.limiter = PriorityLimiter(settings.requests_per_second)
        self.announcer = Announcer(db, store, quay_url, self.locale_of)
        self.sources = ChangeSources(self)
        self.reads = NotificationReads(
            settings, self.limiter, self.announcer, db, self.inventory_store, metrics, clock, self.sources.covered_since
        )
        self.sweeps = 0
        self._sizes: dict[str, int] = {}

    def locale_of(self, channel_id: str) -> str:
        return self.policy.locale_of(channel_id)  # the policy in force, which a reload swaps

    # Entry points --------------------------------------------------------------------------------

    def size_of(self, namespace: str) -> int:
        """Repositories the last listing found in the namespace."""
        return self._sizes.get(namespace, 0)

    def listing_period(self) -> float:
        """How often the listing would run where it is the source of the changes (`period`)."""
        return self.period()

    def period(self) -> float:
        """Seconds between two sweeps (listings): as often as the listing's share of the budget allows,
        at most the alert interval."""
        if not self.settings.hints:
            return self.settings.interval
        pages = sum(math.ceil(max(1, size) / PAGE_SIZE) for size in self._sizes.values()) or 1
        fastest = pages / (self.settings.requests_per_second * self.settings.listing_share)
        shortest = min(self.settings.shortest_period, self.settings.interval)
        return min(self.settings.interval, max(shortest, fastest))

    async def sweep(self) -> SweepReport:
        started = time.monotonic()
        deadline = started + self.period()
        report = SweepReport()
        with tracing.span("watch.sweep") as sweeping:
            # Namespaces side by side: the budget's priorities put every namespace's listing before
            # any namespace's rotation, so one large namespace cannot hold back another's push hints.
            report.namespaces = list(
                await asyncio.gather(
                    *(self._sweep_namespace(namespace, deadline) for namespace in self.policy.alert_namespaces())
                )
            )
            tracing.set_attributes(
                sweeping,
                {"watch.namespaces": len(report.namespaces), "watch.repositories_read": report.checked},
            )
        self.sweeps += 1
        report.seconds = time.monotonic() - started
        self.metrics.sweep_seconds.observe(report.seconds)
        return report

    async def follow_up(self) -> int:
        """Read the repositories whose follow-up is due; run between sweeps, often."""
        if not self.settings.hints:
            return 0
        done = 0
        for namespace in self.policy.alert_namespaces():
            watch = await self.db.run(lambda ns=namespace: self.inventory_store.namespace_state(ns))  # type: ignore[misc]
            if watch.warning:
                continue
            await self.sources.poll(namespace)
            report = NamespaceReport(namespace)
            with contextlib.suppress(_Stop):  # overloaded or no rights: the sweep reports it
                done += await self._follow_ups(self._client(namespace), namespace, report)
            self._count(report)
        return done

    # One namespace ---------------------------------------------------------------------------------

    def client(self, namespace: str) -> QuayClient:
        return self._client(namespace)

    def _client(self, namespace: str) -> QuayClient:
        return self.quay.with_token(self.policy.token_for(namespace, self.default_token))

    async def _sweep_namespace(self, namespace: str, deadline: float) -> NamespaceReport:
        report = NamespaceReport(namespace)
        client = self._client(namespace)
        now = self.clock()
        watch = await self.db.run(lambda: self.inventory_store.namespace_state(namespace))
        inventory_due = watch.listed_at is None or now - watch.listed_at >= self.settings.inventory_interval
        if watch.warning and not inventory_due:
            report.stopped = "warned"  # retried with the next inventory interval, not every sweep
            return report
        try:
            # With hints, every sweep lists, unless the usage logs show the namespace's changes; then
            # only every inventory interval, to heal what a feed could miss.
            if self.settings.hints:
                await self.sources.resume(namespace)
            feeding = self.sources.feeding(namespace)
            # During a first pass the logs feed without a gap, a listing heals nothing: the pass reads
            # every repository, the logs show new and deleted ones. Its pages go to the pass instead.
            passing = feeding and watch.listed_at is not None and watch.first_pass_done_at is None
            if (inventory_due and not passing) or (self.settings.hints and not feeding):
                await self._list(client, namespace, now, report, listed_before=watch.listed_at is not None)
                self.sources.healed(namespace)
            if self.settings.hints:
                await self._follow_ups(client, namespace, report)
                await self._rotate(client, namespace, watch, deadline, report, everything=not feeding)
            else:
                await self._earlier_schedule(client, namespace, report)
            if watch.warning:
                await self.db.run(lambda: self.inventory_store.set_warning(namespace, None, now))
        except _Stop as stop:
            report.stopped = stop.reason
        self._count(report)
        return report

    def _count(self, report: NamespaceReport) -> None:
        self.metrics.alerts.labels("new").inc(report.new_alerts)
        self.metrics.alerts.labels("edit").inc(report.edits)
        self.metrics.alerts.labels("thread").inc(report.thread_lines)

    async def _list(
        self, client: QuayClient, namespace: str, now: float, report: NamespaceReport, *, listed_before: bool
    ) -> None:
        """List the namespace, page by page: a page's pushes are due for a read as soon as it is stored,
        without waiting for the rest of the listing."""
        hints = self.settings.hints
        names: list[str] = []
        page: list[Listed] = []
        pushed = 0

        async def store_page() -> int:
            batch = list(page)
            page.clear()
            found = await self.db.run(
                lambda: self.inventory_store.record_listed(
                    namespace, batch, now, hints=hints, listed_before=listed_before
                )
            )
            return len(found)

        try:
            async for repo in client.iter_repositories(
                namespace, last_modified=hints, pace=partial(self.limiter.acquire, LISTING)
            ):
                names.append(repo.name)
                page.append(Listed(repo.name, repo.last_modified, push_time(repo.last_modified, self.clock())))
                if len(page) >= PAGE_SIZE:
                    pushed += await store_page()
            pushed += await store_page()
        except (QuayRateLimited, QuayUnavailable) as error:
            raise _Stop(f"Quay is overloaded ({type(error).__name__}); backing off") from None
        except QuayError as error:
            reason = Phrase("Listing its repositories failed: {error}", error=error.phrase or error.message)
            await self._warn(namespace, reason, now)
            raise _Stop("cannot list repositories") from None
        removed = await self.db.run(lambda: self.inventory_store.finish_listing(namespace, names, now))
        self._sizes[namespace] = len(names)
        self.metrics.inventory_size.labels(namespace).set(len(names))
        report.repositories, report.pushed = len(names), pushed
        if pushed:
            log.info("pushes seen", extra={"namespace": namespace, "repositories": pushed})
        if removed:  # a deleted repository takes its notifications with it
            result = await self.announcer.observe(
                namespace, {name: [] for name in removed}, self.policy.alert_channels(namespace), self.clock()
            )
            report.edits += result.edits
            report.thread_lines += result.thread_lines

    async def _follow_ups(self, client: QuayClient, namespace: str, report: NamespaceReport) -> int:
        due = await self.db.run(lambda: self.inventory_store.due_checks(namespace, self.clock()))
        entries = [e for e in due if (namespace, e.name) not in self.reads.reading]
        await self._check(client, namespace, entries, report, FOLLOW_UP, "follow")
        return len(entries)

    async def _rotate(
        self,
        client: QuayClient,
        namespace: str,
        watch: NamespaceState,
        deadline: float,
        report: NamespaceReport,
        *,
        everything: bool = True,
    ) -> None:
        """What is left of the budget until the next listing: the first pass, stale repositories with
        notifications, then everything from the stored cursor (`watch`: as the sweep found it; only
        this method changes the cursor). Not `everything` where the usage logs show the namespace's
        changes: after the first pass only what no log shows needs reading (a notification's failure
        on an event no one logged, a vulnerability or an expiry), once an inventory interval."""
        inventory = await self.db.run(lambda: self.inventory_store.inventory(namespace))
        now = self.clock()
        order = _rotation_order(
            inventory, watch.rotation_cursor, now, self.settings.inventory_interval, everything=everything
        )
        unchecked = sum(1 for e in inventory if e.checked_at is None)
        self.metrics.first_pass_checked.labels(namespace).set(len(inventory) - unchecked)
        if unchecked and watch.first_pass_done_at is None:
            log.info(
                f"first pass {len(inventory) - unchecked:,} / {len(inventory):,}",
                extra={"namespace": namespace, "checked": len(inventory) - unchecked, "repositories": len(inventory)},
            )
        by_name = {e.name: e for e in inventory}
        read: list[int] = []
        try:
            await self._check(
                client,
                namespace,
                [by_name[name] for name, _ in order],
                report,
                ROTATION,
                "rotation",
                deadline=deadline,
                read=read,
            )
        finally:
            first_pass_done = not unchecked and bool(inventory) and watch.first_pass_done_at is None
            done_at = self.clock() if first_pass_done else None
            # The cursor moves to the furthest repository read in name order (the others come first).
            in_name_order = [i for i in read if order[i][1]]
            cursor = order[max(in_name_order)][0] if in_name_order else watch.rotation_cursor
            await self.db.run(lambda: self.inventory_store.save_rotation(namespace, cursor, done_at))
            if first_pass_done:
                log.info("first pass done", extra={"namespace": namespace, "repositories": len(inventory)})

    async def _earlier_schedule(self, client: QuayClient, namespace: str, report: NamespaceReport) -> None:
        """Hot every sweep, cold 1/K per sweep, no hints: kept to compare against."""
        inventory = await self.db.run(lambda: self.inventory_store.inventory(namespace))
        alerting = await self.db.run(lambda: self.store.alerting_repositories(namespace, sorted(ALERTING)))
        report.repositories = len(inventory)
        rotation = self.settings.rotation
        await self._check(
            client,
            namespace,
            [
                entry
                for entry in inventory
                if entry.has_notifications
                or entry.name in alerting
                or zlib.crc32(entry.name.encode()) % rotation == self.sweeps % rotation
            ],
            report,
            ROTATION,
            "rotation",
        )

    # Reading -------------------------------------------------------------------------------------

    async def _check(
        self,
        client: QuayClient,
        namespace: str,
        entries: Iterable[InventoryEntry],
        report: NamespaceReport,
        priority: int,
        reason: str,
        *,
        deadline: float | None = None,
        read: list[int] | None = None,
    ) -> None:
        """Read these repositories' notifications (`NotificationReads.check`); stop the namespace's
        sweep when Quay is overloaded, and say once when the token lacks repo:admin."""
        channels = self.policy.alert_channels(namespace)
        stopped = await self.reads.check(
            channels, client, namespace, entries, report, priority, reason, deadline=deadline, read=read
        )
        if stopped == "no-admin":
            no_admin = Phrase("Quay refused to list notifications (403): the token lacks repo:admin here.")
            await self._warn(namespace, no_admin, self.clock())
            raise _Stop("token lacks repo:admin")
        if stopped:
            raise _Stop(stopped)

    async def _warn(self, namespace: str, reason: Phrase, now: float) -> None:
        """Once per namespace (until it is cleared): each alert channel is told in its language."""
        posts = []
        for channel in self.policy.alert_channels(namespace):
            locale = self.locale_of(channel)
            posts.append((channel, render_warning(namespace, reason.said(locale), locale).to_dict()))
        if await self.db.run(lambda: self.inventory_store.set_warning(namespace, str(reason), now, posts=posts)):
            log.warning("watch disabled for a namespace", extra={"namespace": namespace, "reason": str(reason)})


def _rotation_order(
    inventory: list[InventoryEntry], cursor: str | None, now: float, stale_after: float, *, everything: bool = True
) -> list[tuple[str, bool]]:
    """(name, advances the cursor): never read (newest push first), then repositories with notifications
    not read for `stale_after`, then all in name order starting after the cursor. Each name once.
    Not `everything` (the usage logs show the namespace's changes): of the stale, only those with a
    notification whose failure no log entry would announce."""
    never = sorted((e for e in inventory if e.checked_at is None), key=lambda e: -(e.last_modified or 0))
    stale = sorted(
        (
            e
            for e in inventory
            if e.has_notifications
            and (everything or e.unlogged is not False)
            and e.checked_at is not None
            and now - e.checked_at >= stale_after
        ),
        key=lambda e: e.checked_at or 0.0,
    )
    names = [e.name for e in inventory]  # already in name order
    start = next((i for i, name in enumerate(names) if cursor is not None and name > cursor), 0)
    order: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for name, advances in itertools.chain(
        ((e.name, False) for e in never),
        ((e.name, False) for e in stale),
        ((name, True) for name in (names[start:] + names[:start] if everything else [])),
    ):
        if name not in seen:
            seen.add(name)
            order.append((name, advances))
    return order
