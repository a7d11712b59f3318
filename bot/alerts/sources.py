"""Which source shows the watch a namespace's changes: its usage logs (`feed.py`), read every few
seconds, or, where they cannot be read, the listing of its repositories, as before. The logs drive
the reads: a push or tag change is read at once on Quay's worker timeline from the entry's time, a
notification added, reset or deleted in Quay's UI is read at once, a new or deleted repository
changes the inventory at once. Where the logs are the source, the listing runs only every inventory
interval (to heal what a feed could miss) and the rotation reads only what no log shows."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict, deque
from functools import partial
from typing import TYPE_CHECKING

from bot.alerts.feed import NOTIFICATION_CHANGES, PUSHES, REPOSITORY_CHANGES, Change, Position, read_feed
from bot.alerts.reads import FOLLOW_UP
from bot.store.feeds import FeedStore

if TYPE_CHECKING:
    from bot.alerts.watcher import Watcher

log = logging.getLogger(__name__)
LISTING_PAGE = 100  # repositories a page of the listing holds
COST_WINDOW = 60.0  # seconds of log reads the feed's cost is averaged over before it is compared
FEED_FALLBACKS = {
    "costly": "its usage logs cost more requests than listing its repositories would",
    "forbidden": "the token may not read the usage logs (they need org:admin)",
    "unavailable": "Quay's logs backend cannot be searched (search_unavailable)",
    "error": "the usage logs did not answer as expected",
}


class ChangeSources:
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.feeds = FeedStore(watcher.db)
        self._polled: dict[str, float] = {}  # namespace -> when its logs were last read (monotonic)
        self._feeding: set[str] = set()  # namespaces whose usage logs are their source now
        self._own: dict[str, bool] = {}  # namespace -> read as the token's own (user) namespace
        self._heal: set[str] = set()  # namespaces whose feed may have skipped entries: list them now
        self._spent: dict[str, deque[tuple[float, int]]] = {}  # namespace -> (tick, log requests) of late
        # namespace -> since when (the watcher's clock) the feed has taken every entry logged there
        self._covered: dict[str, float] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one read at a time

    def feeding(self, namespace: str) -> bool:
        """Do the usage logs show this namespace's changes (and nothing is to be healed)?"""
        return namespace in self._feeding and namespace not in self._heal

    def healed(self, namespace: str) -> None:
        self._heal.discard(namespace)

    def covered_since(self, namespace: str) -> float | None:
        """Since when every change logged in this namespace has been acted on, without a gap (this
        process's first read of the logs, or where the last gap ended); `None`: not fed now."""
        return self._covered.get(namespace) if self.feeding(namespace) else None

    async def resume(self, namespace: str) -> None:
        """After a restart, where the logs were the source, read them before the first sweep decides
        whether to list: a restart then costs no listing (100 pages at 10,000 repositories)."""
        async with self._locks[namespace]:  # a read under way (the follow-ups') is waited for
            if namespace in self._polled:
                return
            state = await self.watcher.db.run(lambda: self.feeds.state(namespace))
            if state.source == "logs" and state.newest_at is not None:
                await self._poll(namespace)

    async def poll(self, namespace: str) -> None:
        """Read the namespace's usage logs when due, and act on what they say; fall back to the
        listing (said once, in the log and `/metrics`) when they cannot be read, and try again an
        inventory interval later."""
        async with self._locks[namespace]:
            await self._poll(namespace)

    async def _poll(self, namespace: str) -> None:
        settings = self.watcher.settings
        if not settings.hints or settings.feed_every <= 0:
            return
        # The cadence is the loop's, on the monotonic clock (as the sweeps' period); the times written
        # down are the watcher's clock (Quay's).
        tick, now = time.monotonic(), self.watcher.clock()
        last = self._polled.get(namespace)
        if last is not None and tick - last < settings.feed_every:
            return
        self._polled[namespace] = tick
        state = await self.watcher.db.run(lambda: self.feeds.state(namespace))
        if state.source == "listing" and state.retry_at is not None and now < state.retry_at:
            self._set_source(namespace, "listing")
            return
        client = self.watcher.client(namespace)
        own = self._own.get(namespace, False)
        pace = partial(self.watcher.limiter.acquire, FOLLOW_UP)
        read = await read_feed(client, namespace, Position(state.newest_at, state.seen), own=own, now=now, pace=pace)
        if read.status == "forbidden" and not own and namespace not in self._own:
            self._own[namespace] = True  # not an organization: the token's own namespace, perhaps
            read = await read_feed(
                client, namespace, Position(state.newest_at, state.seen), own=True, now=now, pace=pace
            )
        self.watcher.metrics.feed_requests.labels(namespace).inc(read.requests)
        status = "costly" if read.status == "ok" and self._costly(namespace, tick, read.requests) else read.status
        if status != "ok":
            why = FEED_FALLBACKS[status]
            if state.source != "listing":
                log.warning(
                    "the watch reads this namespace's listing instead of its usage logs",
                    extra={"namespace": namespace, "why": why},
                )
            retry = now + self.watcher.settings.inventory_interval
            await self.watcher.db.run(lambda: self.feeds.save(namespace, source="listing", why=why, retry_at=retry))
            self._set_source(namespace, "listing")
            self._covered.pop(namespace, None)
            return
        self._own.setdefault(namespace, own)
        position = read.position
        if position is not None or state.source != "logs":
            newest, seen = (position.newest_at, position.seen) if position is not None else (None, None)
            await self.watcher.db.run(lambda: self.feeds.save(namespace, newest_at=newest, seen=seen, source="logs"))
        if state.source != "logs":
            log.info("the watch reads this namespace's usage logs again", extra={"namespace": namespace})
        # Since when the feed has taken every entry: where more came than one read takes, the listing
        # heals the gap, and the feed covers the namespace again from where this read left it.
        since = read.since if read.since is not None else now
        if not read.complete:
            self._heal.add(namespace)
            self._covered[namespace] = since
        self._covered.setdefault(namespace, since)
        self._set_source(namespace, "logs")
        for change in read.earlier:
            await self._logged(namespace, change, now, news=False)
        for change in read.changes:
            await self._logged(namespace, change, now)

    def _costly(self, namespace: str, tick: float, requests: int) -> bool:
        """Do the logs cost more than the listing would (its pages, once a period), measured over the
        last minute? Pulls are logged too: a busy namespace's logs are a page per 20 of them."""
        spent = self._spent.setdefault(namespace, deque())
        spent.append((tick, requests))
        while spent and tick - spent[0][0] > COST_WINDOW:
            spent.popleft()
        if tick - spent[0][0] < COST_WINDOW * 0.9:
            return False  # not a minute of reads yet
        logs = sum(count for _, count in spent) / (tick - spent[0][0])
        size = self.watcher.size_of(namespace)
        if not size:
            return False  # no listing since the start: what it would cost is not known yet
        listing = math.ceil(size / LISTING_PAGE) / max(self.watcher.listing_period(), 1e-9)
        if logs > listing:
            spent.clear()
            return True
        return False

    def _set_source(self, namespace: str, source: str) -> None:
        if source == "logs":
            self._feeding.add(namespace)
        else:
            self._feeding.discard(namespace)
        for name in ("logs", "listing"):
            self.watcher.metrics.watch_source.labels(namespace, name).set(1 if name == source else 0)

    async def _logged(self, namespace: str, change: Change, now: float, *, news: bool = True) -> None:
        """Act on one entry. Not `news`: what the logs' window held before the first read, nothing to
        announce, but the first pass reads first the repositories pushed to, and those whose
        notifications were added or reset, lately (and knows when they were pushed: a failure older
        than Quay's retries is not read every 20 s)."""
        name = change.repository
        if name is None:
            return
        if change.kind in PUSHES or change.kind in REPOSITORY_CHANGES:
            at = min(change.at, now)
            await self.watcher.db.run(
                lambda: self.watcher.inventory_store.logged(namespace, name, change.kind, at, now)
            )
            if news and change.kind == "delete_repo":  # a deleted repository takes its notifications with it
                await self.watcher.announcer.observe(
                    namespace, {name: []}, self.watcher.policy.alert_channels(namespace), now
                )
        elif change.kind in NOTIFICATION_CHANGES:  # made in Quay's UI, or by the bot: read it now
            if not news and change.kind == "delete_repo_notification":
                return  # nothing to read first for it
            await self.watcher.db.run(lambda: self.watcher.inventory_store.watch_soon(namespace, name, now, now))
            # A reset or a delete made in Quay's UI (no OAuth application made it; the bot says its own
            # where they are made): the open alerts say by whom.
            if news and change.application is None and change.notification:
                announcer, who = self.watcher.announcer, change.who or "?"
                if change.kind == "reset_repo_notification":
                    await announcer.note_reset_in_quay(change.notification, who, now)
                elif change.kind == "delete_repo_notification":
                    await announcer.note_deleted_in_quay(change.notification, who, now)
