"""The watch loop: lead (one replica at a time), sweep every period, follow up in between, keep the
outbox flowing.

The lease is renewed by a task of its own, so a slow Slack or Quay call can never let it lapse
unnoticed; outbox rows are claimed one by one besides, so even a lapse cannot send a row twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from bot.alerts.watcher import Watcher
from bot.metrics import Metrics
from bot.store.alerts import AlertStore
from bot.store.db import Database

log = logging.getLogger(__name__)
LEASE = "watcher"


class WatchLoop:
    def __init__(
        self,
        watcher: Watcher,
        db: Database,
        store: AlertStore,
        send_due: Callable[[], Awaitable[int]],
        metrics: Metrics,
        *,
        interval: float,
        lease_seconds: float = 15.0,
        tick: float = 0.25,
        holder: str | None = None,
        maintenance: Callable[[], Awaitable[object]] | None = None,
        maintenance_every: float = 60.0,
    ) -> None:
        self.maintenance = maintenance
        self.maintenance_every = maintenance_every
        self._maintained = 0.0
        self.watcher = watcher
        self.db = db
        self.store = store
        self.send_due = send_due
        self.metrics = metrics
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.tick = tick
        self.holder = holder or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.leading = False
        self.sweeps_done = 0
        self._sweep: asyncio.Task[None] | None = None
        self._follow: asyncio.Task[None] | None = None
        self._maintain: asyncio.Task[None] | None = None
        self._next_sweep = 0.0
        # Set when a sweep ends: the next one, if due, starts at once rather than a tick later (a
        # sweep's rotation runs to its deadline, the next sweep's start: waiting a tick each time
        # left 2.5% of the request budget idle at a 10 s period).
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("notification watch started", extra={"holder": self.holder, "interval": self.interval})
        lease = asyncio.create_task(self._hold_lease(stop))
        relay = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                await self.step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.tick)
                self._wake.clear()
        finally:
            lease.cancel()
            for task in (self._sweep, self._follow, self._maintain, lease, relay):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if self.leading:
                with contextlib.suppress(Exception):
                    await self.db.run(lambda: self.store.release(LEASE, self.holder))

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def renew(self) -> bool:
        """Take or renew the lease; whether this replica leads now."""
        try:
            wall = time.time()
            self.leading = await self.db.run(lambda: self.store.try_lead(LEASE, self.holder, self.lease_seconds, wall))
        except Exception:
            log.exception("could not renew the watch lease; not leading until it can")
            self.leading = False
        self.metrics.leader.set(int(self.leading))
        if not self.leading:
            for task in (self._sweep, self._follow):
                if task is not None and not task.done():
                    task.cancel()  # another replica leads now
        return self.leading

    async def _hold_lease(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.renew()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(2.0, self.lease_seconds / 3))

    async def step(self) -> None:
        """One tick: if leading, start a due sweep and due follow-ups, and send what is due."""
        try:
            if not self.leading:
                return
            now = time.monotonic()
            watching = bool(self.watcher.policy.alert_namespaces())
            if watching and (self._sweep is None or self._sweep.done()) and now >= self._next_sweep:
                self._next_sweep = now + self.watcher.period()
                self._sweep = asyncio.create_task(self._run_sweep())
            if watching and (self._follow is None or self._follow.done()):
                self._follow = asyncio.create_task(self._run_follow_up())
            await self.send_due()
            maintaining = self._maintain is not None and not self._maintain.done()
            if self.maintenance is not None and not maintaining and now - self._maintained >= self.maintenance_every:
                self._maintained = now
                # A task of its own: a long subscription sync must not hold up the outbox.
                self._maintain = asyncio.create_task(self._run_maintenance(self.maintenance))
        except Exception:
            # The database or Slack may be down for a while: keep going, the next tick retries.
            log.exception("watch step failed; retrying")

    async def _run_sweep(self) -> None:
        try:
            report = await self.watcher.sweep()
            self.sweeps_done += 1
            log.info(
                "notification sweep done",
                extra={
                    "seconds": round(report.seconds, 3),
                    "repositories_checked": report.checked,
                    "pushes": sum(n.pushed for n in report.namespaces),
                },
            )
        except Exception:
            log.exception("notification sweep failed")
        finally:
            self._wake.set()

    @staticmethod
    async def _run_maintenance(maintenance: Callable[[], Awaitable[object]]) -> None:
        try:
            await maintenance()
        except Exception:
            log.exception("watch maintenance failed")

    async def _run_follow_up(self) -> None:
        try:
            await self.watcher.follow_up()
        except Exception:
            log.exception("notification follow-up failed")
