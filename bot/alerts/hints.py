"""Changes the bot makes itself are watched at once: which repository to read, and when."""

from __future__ import annotations

from dataclasses import dataclass

from bot.alerts.schedule import QUAY
from bot.outcomes import FailuresReset, NotificationCreated, NotificationTestQueued, Result


@dataclass(frozen=True)
class WatchSoon:
    namespace: str
    repository: str
    at: float  # read it then
    event_at: float | None  # an event (a test) whose first delivery is still ahead


def watch_after(result: Result, now: float) -> WatchSoon | None:
    if isinstance(result, NotificationCreated | FailuresReset):
        return WatchSoon(result.repo.namespace, result.repo.name, now, None)
    if isinstance(result, NotificationTestQueued) and result.sent:
        # Read when the worker has had its chance, as after a push.
        return WatchSoon(result.repo.namespace, result.repo.name, now + QUAY.after_event()[0], now)
    return None
