"""The sweep: read the notifications of watched namespaces and record what changed.

Quay has no endpoint for all notifications of a namespace: it is one request per repository. To stay
cheap, repositories are split into
- hot: had notifications (or an open alert) when last looked at: read every sweep;
- cold: had none, or were never looked at: read in rotation, 1/K of them per sweep, where
  K = inventory interval / sweep interval, so each is seen once per inventory interval;
and the inventory itself (the repository list, 100 per page) is refreshed once per inventory interval.
Requests go out with bounded concurrency under a requests-per-second budget, and a namespace's sweep
stops early when Quay says it is overloaded (429/503).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from pydantic import SecretStr

from bot.access import AccessPolicy
from bot.blocks.alerts import AlertView, render_alert, render_thread_line, render_warning
from bot.metrics import Metrics
from bot.quay import (
    QuayClient,
    QuayError,
    QuayForbidden,
    QuayNotFound,
    QuayRateLimited,
    QuayUnauthorized,
    QuayUnavailable,
    RepositoryRef,
)
from bot.quay.models import Notification
from bot.store.alerts import AlertStore, Payload, Renderers, Seen
from bot.store.db import Database

log = logging.getLogger(__name__)
OBSERVE_BATCH = 50


@dataclass(frozen=True)
class WatchSettings:
    interval: float = 60.0
    inventory_interval: float = 600.0
    concurrency: int = 4
    requests_per_second: float = 5.0

    @property
    def rotation(self) -> int:
        """K: cold repositories are each read once every K sweeps."""
        return max(1, round(self.inventory_interval / self.interval))


class RateLimiter:
    """A token bucket: at most `rate` acquisitions per second, bursts of up to `rate`."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


@dataclass
class NamespaceReport:
    namespace: str
    repositories: int = 0
    checked: int = 0
    notifications: int = 0
    new_alerts: int = 0
    edits: int = 0
    thread_lines: int = 0
    stopped: str | None = None


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
        self.metrics = metrics
        self.quay_url = quay_url
        self.settings = settings
        self.clock = clock
        self.limiter = RateLimiter(settings.requests_per_second)
        self.sweeps = 0
        self.renderers = Renderers(alert=self._render_alert, line=lambda text: render_thread_line(text).to_dict())

    def _render_alert(self, view: AlertView) -> Payload:
        return render_alert(view, self.quay_url).to_dict()

    async def sweep(self) -> SweepReport:
        started = time.monotonic()
        report = SweepReport()
        for namespace in self.policy.alert_namespaces():
            report.namespaces.append(await self.sweep_namespace(namespace))
        self.sweeps += 1
        report.seconds = time.monotonic() - started
        self.metrics.sweep_seconds.observe(report.seconds)
        return report

    async def sweep_namespace(self, namespace: str) -> NamespaceReport:
        report = NamespaceReport(namespace)
        channels = self.policy.alert_channels(namespace)
        client = self.quay.with_token(self.policy.token_for(namespace, self.default_token))
        now = self.clock()
        listed_at, warning = await self.db.run(lambda: self.store.namespace_watch(namespace))
        inventory_due = listed_at is None or now - listed_at >= self.settings.inventory_interval
        if warning and not inventory_due:
            report.stopped = "warned"  # retried with the next inventory, not every sweep
            return report
        try:
            if inventory_due:
                await self._refresh_inventory(client, namespace, channels, now)
            inventory = await self.db.run(lambda: self.store.inventory(namespace))
            alerting = await self.db.run(lambda: self.store.alerting_repositories(namespace))
            report.repositories = len(inventory)
            rotation = self.settings.rotation
            to_check = [
                entry.name
                for entry in inventory
                if entry.has_notifications
                or entry.name in alerting
                or zlib.crc32(entry.name.encode()) % rotation == self.sweeps % rotation
            ]
            await self._check(client, namespace, channels, to_check, report)
            if warning:
                await self.db.run(lambda: self.store.set_warning(namespace, None, now))
        except _Stop as stop:
            report.stopped = stop.reason
        self.metrics.alerts.labels("new").inc(report.new_alerts)
        self.metrics.alerts.labels("edit").inc(report.edits)
        self.metrics.alerts.labels("thread").inc(report.thread_lines)
        return report

    async def _refresh_inventory(self, client: QuayClient, namespace: str, channels: list[str], now: float) -> None:
        try:
            await self.limiter.acquire()
            names = [repo.name async for repo in client.iter_repositories(namespace)]
        except (QuayRateLimited, QuayUnavailable) as error:
            raise _Stop(f"Quay is overloaded ({type(error).__name__}); backing off") from None
        except QuayError as error:
            await self._warn(namespace, channels, f"Listing its repositories failed: {error.message}", now)
            raise _Stop("cannot list repositories") from None
        removed = await self.db.run(lambda: self.store.replace_inventory(namespace, names, now))
        if removed:  # a deleted repository takes its notifications with it
            gone: dict[str, list[Seen]] = {name: [] for name in removed}
            await self.db.run(lambda: self.store.observe_many(namespace, gone, channels, now, self.renderers))

    async def _check(
        self, client: QuayClient, namespace: str, channels: list[str], names: list[str], report: NamespaceReport
    ) -> None:
        gate = asyncio.Semaphore(self.settings.concurrency)
        stop: list[str] = []
        pending: dict[str, list[Seen]] = {}

        async def flush() -> None:
            # Observations are written in batches: one transaction for many repositories.
            batch = dict(pending)
            pending.clear()
            if not batch:
                return
            now = self.clock()
            result = await self.db.run(lambda: self.store.observe_many(namespace, batch, channels, now, self.renderers))
            checks = {name: bool(seen) for name, seen in batch.items()}
            await self.db.run(lambda: self.store.record_checks(namespace, checks, now))
            report.new_alerts += result.new_alerts
            report.edits += result.edits
            report.thread_lines += result.thread_lines

        async def one(name: str) -> None:
            if stop:
                return
            async with gate:
                if stop:
                    return
                await self.limiter.acquire()
                ref = RepositoryRef(namespace, name)
                try:
                    notifications = await client.list_notifications(ref, verify_repository=False)
                except (QuayRateLimited, QuayUnavailable) as error:
                    stop.append(f"Quay is overloaded ({type(error).__name__}); backing off")
                    return
                except (QuayForbidden, QuayUnauthorized):
                    if await self._lacks_admin(client, ref):
                        stop.append("no-admin")
                    return
                except QuayError as error:
                    log.warning("could not read notifications", extra={"repository": str(ref), "error": error.message})
                    return
                report.checked += 1
                report.notifications += len(notifications)
                pending[name] = [_seen(n) for n in notifications]
                if len(pending) >= OBSERVE_BATCH:
                    await flush()

        await asyncio.gather(*(one(name) for name in names))
        await flush()
        now = self.clock()
        if stop and stop[0] == "no-admin":
            await self._warn(
                namespace, channels, "Quay refused to list notifications (403): the token lacks repo:admin here.", now
            )
            raise _Stop("token lacks repo:admin")
        if stop:
            raise _Stop(stop[0])

    async def _lacks_admin(self, client: QuayClient, ref: RepositoryRef) -> bool:
        """A 403 on a notification list: missing admin rights, or a repository deleted meanwhile?"""
        try:
            repository = await client.get_repository(ref, include_tags=False)
        except (QuayNotFound, QuayForbidden, QuayUnauthorized):
            return False  # gone (or invisible): the inventory refresh will drop it
        except QuayError:
            return False
        return not repository.can_admin

    async def _warn(self, namespace: str, channels: list[str], reason: str, now: float) -> None:
        if await self.db.run(lambda: self.store.set_warning(namespace, reason, now)):
            payload = render_warning(namespace, reason).to_dict()
            for channel in channels:
                await self.db.run(partial(self.store.enqueue, channel, payload, now))
            log.warning("watch disabled for a namespace", extra={"namespace": namespace, "reason": reason})


def _seen(notification: Notification) -> Seen:
    return Seen(
        notification.uuid,
        notification.event,
        notification.method,
        notification.target,
        notification.number_of_failures,
        notification.title,
    )
