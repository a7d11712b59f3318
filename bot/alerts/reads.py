"""The watch's reads of notification lists: within the request budget (`PriorityLimiter`, follow-ups
before listings before the rotation), a few at a time per kind (each kind has slots of its own,
so follow-ups never wait behind rotation reads holding slots), never the same repository twice at
once, and what each read saw recorded in batches (one transaction for many repositories).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.alerts.announce import Announcer
from bot.alerts.decide import Seen
from bot.alerts.schedule import event_pending, next_read
from bot.metrics import Metrics
from bot.quay import (
    QuayClient,
    QuayError,
    QuayForbidden,
    QuayNotFound,
    QuayRateLimited,
    QuayUnauthorized,
    QuayUnavailable,
)
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef
from bot.quay.worker import QUAY, WorkerTiming
from bot.store.db import Database
from bot.store.inventory import Check, InventoryEntry, InventoryStore

log = logging.getLogger(__name__)
OBSERVE_BATCH = 50
# Read priorities: lower goes first.
FOLLOW_UP, LISTING, ROTATION = 0, 1, 2
# Events that fire only after something Quay's usage logs show (a push: `push_repo`, `create_tag`):
# a notification on one of them can only start failing after an entry the feed acts on. Not a test
# from Quay's UI, which is not logged: its failure is seen at the next push, or by `notify list`.
LOGGED_EVENTS = frozenset({"repo_push"})


@dataclass(frozen=True)
class WatchSettings:
    interval: float = 60.0  # the longest time between two listings (push hints)
    inventory_interval: float = 600.0  # repositories with notifications are re-read at least this often
    concurrency: int = 4
    requests_per_second: float = 5.0
    hints: bool = True
    listing_share: float = 0.5  # of the budget, at most, for the listing
    shortest_period: float = 10.0
    # How often a namespace's usage logs are read (`feed.py`); 0: never. A push's first read is 7 s
    # after it (`WorkerTiming.after_event`) and Quay logs it within half a second, so a read every 5 s
    # has it in time; reading more often sees no failure sooner and costs a page more per read (at 10
    # pulls a second, every 3 s took two pages a read where 5 s takes three).
    feed_every: float = 5.0
    timing: WorkerTiming = QUAY

    @property
    def rotation(self) -> int:
        """K of the earlier schedule: cold repositories were each read once every K sweeps."""
        return max(1, round(self.inventory_interval / self.interval))


class PriorityLimiter:
    """A token bucket (at most `rate` requests a second, bursts of up to `rate`) whose waiters are
    served by priority, then in order of arrival."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None

    async def acquire(self, priority: int = 0) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._serve())
        await future

    async def _serve(self) -> None:
        while self._waiters:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1:
                await asyncio.sleep((1 - self.tokens) / self.rate)
                continue
            _, _, future = heapq.heappop(self._waiters)
            if future.done():  # its waiter was cancelled
                continue
            self.tokens -= 1
            future.set_result(None)


def _failing_since(pushed_at: float | None, now: float, logged_since: float | None) -> float:
    """When the event that made a failing notification fail happened, as far as the watch can tell:
    the logged push; else, where the logs show every event that fires it and have been read without
    a gap since `logged_since`, with no push here, before then (a first pass finds webhooks that
    failed once, weeks ago: read every 20 s for two minutes, each would cost six reads); else now,
    the first read that saw it."""
    if pushed_at is not None:
        return pushed_at
    return min(logged_since, now) if logged_since is not None else now


@dataclass
class NamespaceReport:
    namespace: str
    repositories: int = 0
    checked: int = 0
    notifications: int = 0
    new_alerts: int = 0
    edits: int = 0
    thread_lines: int = 0
    pushed: int = 0
    stopped: str | None = None


class NotificationReads:
    def __init__(
        self,
        settings: WatchSettings,
        limiter: PriorityLimiter,
        announcer: Announcer,
        db: Database,
        inventory_store: InventoryStore,
        metrics: Metrics,
        clock: Callable[[], float],
        logged_since: Callable[[str], float | None] = lambda namespace: None,
    ) -> None:
        self.settings = settings
        # Since when every push logged in a namespace has been recorded (`ChangeSources.covered_since`).
        self.logged_since = logged_since
        self.limiter = limiter
        self.announcer = announcer
        self.db = db
        self.inventory_store = inventory_store
        self.metrics = metrics
        self.clock = clock
        self.slots = {priority: asyncio.Semaphore(settings.concurrency) for priority in (FOLLOW_UP, ROTATION)}
        self.reading: set[tuple[str, str]] = set()  # repositories being read now, by any path

    async def check(
        self,
        channels: list[str],
        client: QuayClient,
        namespace: str,
        entries: Iterable[InventoryEntry],
        report: NamespaceReport,
        priority: int,
        reason: str,
        *,
        deadline: float | None = None,
        read: list[int] | None = None,
    ) -> str | None:
        """Read these repositories' notifications (until `deadline`, by `time.monotonic`), record what
        changed for `channels`; `read` gets the positions of those read. The reason the reads
        stopped, if they did ("no-admin": the token lacks repo:admin)."""
        entries = list(entries)
        if not entries:
            return None
        stop: list[str] = []
        observed: dict[str, list[Seen]] = {}
        checks: dict[str, Check] = {}
        timing = self.settings.timing
        logged_since = self.logged_since(namespace)

        async def flush() -> None:
            # Observations are written in batches: one transaction for many repositories.
            batch, results = dict(observed), dict(checks)
            observed.clear()
            checks.clear()
            if not batch:
                return
            result = await self.announcer.observe(namespace, batch, channels, self.clock())
            now = self.clock()
            await self.db.run(lambda: self.inventory_store.record_checks(namespace, results, now))
            report.new_alerts += result.new_alerts
            report.edits += result.edits
            report.thread_lines += result.thread_lines

        def late() -> bool:
            return deadline is not None and time.monotonic() >= deadline

        async def one(position: int, entry: InventoryEntry) -> None:
            key = (namespace, entry.name)
            if stop or key in self.reading or late():
                return
            self.reading.add(key)
            try:
                # A slot first, so that at most `concurrency` reads of a kind wait for the budget.
                async with self.slots[priority]:
                    if stop or late():
                        return
                    await self.limiter.acquire(priority)
                    notifications = await self._read(client, namespace, entry.name, stop)
                if notifications is None:
                    return
                if read is not None:
                    read.append(position)
                now = self.clock()
                event_at = event_pending(now, entry.pushed_at, timing) if self.settings.hints else None
                failures = [n.number_of_failures for n in notifications]
                # While failing, `pushed_at` keeps when the spell began (the push, or the first read
                # that saw it): the reads every 20 s last as long as Quay may still retry.
                failing = any(0 < count < FAILURES_BEFORE_DISABLED for count in failures)
                logged = logged_since is not None and all(n.event in LOGGED_EVENTS for n in notifications)
                since = _failing_since(entry.pushed_at, now, logged_since if logged else None) if failing else None
                report.checked += 1
                report.notifications += len(notifications)
                self.metrics.watch_reads.labels(reason).inc()
                observed[entry.name] = [_seen(n) for n in notifications]
                checks[entry.name] = Check(
                    bool(notifications),
                    next_read(now, event_at, failures, timing, failing_since=since, changes_logged=logged)
                    if self.settings.hints
                    else None,
                    since if since is not None else event_at,
                    any(n.event not in LOGGED_EVENTS for n in notifications),
                )
                if len(observed) >= OBSERVE_BATCH:
                    await flush()
            finally:
                self.reading.discard(key)

        try:
            # A few workers share one iterator: nothing is started for the entries the deadline cuts
            # off (a rotation is handed all 10,000 repositories of a namespace, and reads a few).
            pending = iter(enumerate(entries))

            async def worker() -> None:
                for position, entry in pending:
                    if stop or late():
                        return
                    await one(position, entry)

            await asyncio.gather(*(worker() for _ in range(min(self.settings.concurrency, len(entries)))))
        finally:
            await flush()
        return stop[0] if stop else None

    async def _read(self, client: QuayClient, namespace: str, name: str, stop: list[str]) -> list[Notification] | None:
        ref = RepositoryRef(namespace, name)
        try:
            return await client.list_notifications(ref, verify_repository=False)
        except (QuayRateLimited, QuayUnavailable) as error:
            stop.append(f"Quay is overloaded ({type(error).__name__}); backing off")
        except QuayNotFound:
            pass  # deleted since the listing: the next listing drops it
        except (QuayForbidden, QuayUnauthorized):
            if await self._lacks_admin(client, ref):
                stop.append("no-admin")
        except QuayError as error:
            log.warning("could not read notifications", extra={"repository": str(ref), "error": error.message})
        return None

    async def _lacks_admin(self, client: QuayClient, ref: RepositoryRef) -> bool:
        """A 403 on a notification list: missing admin rights, or a repository deleted meanwhile?"""
        try:
            repository = await client.get_repository(ref, include_tags=False)
        except QuayError:
            return False  # gone (or invisible): the next listing drops it
        return not repository.can_admin


def _seen(notification: Notification) -> Seen:
    return Seen(
        notification.uuid,
        notification.event,
        notification.method,
        notification.target,
        notification.number_of_failures,
        notification.title,
    )
