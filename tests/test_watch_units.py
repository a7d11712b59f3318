"""Pieces of the watcher on their own: the state machine and the request budget."""

from __future__ import annotations

import pytest

from bot.alerts import watcher as watcher_module
from bot.alerts.states import Change, state_of, transition
from bot.alerts.watcher import RateLimiter, WatchSettings


@pytest.mark.parametrize(
    ("failures", "state"), [(0, "healthy"), (1, "failing"), (2, "failing"), (3, "disabled"), (7, "disabled")]
)
def test_state_of(failures, state):
    assert state_of(failures) == state


@pytest.mark.parametrize(
    ("old", "old_failures", "new", "failures", "expected"),
    [
        (None, 0, "healthy", 0, Change("healthy")),
        ("healthy", 0, "healthy", 0, None),
        (None, 0, "failing", 1, Change("failing", new_alert=True)),
        ("healthy", 0, "disabled", 3, Change("disabled", new_alert=True)),
        ("recovered", 0, "failing", 1, Change("failing", new_alert=True)),
        ("failing", 1, "failing", 1, None),
        ("failing", 1, "failing", 2, Change("failing", edit=True)),
        (
            "failing",
            2,
            "disabled",
            3,
            Change(
                "disabled",
                edit=True,
                thread="Now disabled by Quay after 3 failures: events are dropped until it is reset.",
            ),
        ),
        ("disabled", 3, "disabled", 3, None),
        (
            "disabled",
            3,
            "failing",
            1,
            Change("failing", edit=True, thread="Re-enabled, but failing again (1 failure(s))."),
        ),
        ("failing", 2, "healthy", 0, Change("recovered", edit=True, thread="Recovered: deliveries succeed again.")),
        ("recovered", 0, "healthy", 0, None),
        ("disabled", 3, "gone", 3, Change("gone", edit=True, thread="Notification deleted.")),
        ("healthy", 0, "gone", 0, Change("gone")),
        (None, 0, "gone", 0, None),
    ],
)
def test_transitions(old, old_failures, new, failures, expected):
    assert transition(old, old_failures, new, failures) == expected


def test_rotation():
    assert WatchSettings(interval=60, inventory_interval=600).rotation == 10
    assert WatchSettings(interval=60, inventory_interval=30).rotation == 1


async def test_rate_limiter_keeps_the_budget(monkeypatch):
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(watcher_module.asyncio, "sleep", fake_sleep)
    limiter = RateLimiter(2.0, clock=lambda: now[0])
    for _ in range(6):
        await limiter.acquire()
    # A burst of 2, then one every half second: 4 more take 2 seconds.
    assert sum(slept) == pytest.approx(2.0)
