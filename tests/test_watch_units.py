"""Pieces of the watcher on their own: the state machine, the decision, Quay's schedule, the rotation
order and the request budget."""

from __future__ import annotations

import asyncio

import pytest

from bot.alerts import watcher as watcher_module
from bot.alerts.decide import Known, Seen, decide, digests
from bot.alerts.reads import PriorityLimiter, WatchSettings
from bot.alerts.schedule import event_pending, next_read, push_time
from bot.alerts.states import Change, state_of, transition
from bot.alerts.watcher import _rotation_order
from bot.quay.worker import QUAY, what_quay_does_next
from bot.store.inventory import InventoryEntry


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
                thread="Now disabled by Quay after {failures} failures: events are dropped until it is reset.",
                thread_params=(("failures", 3),),
            ),
        ),
        ("disabled", 3, "disabled", 3, None),
        (
            "disabled",
            3,
            "failing",
            1,
            Change(
                "failing",
                edit=True,
                thread="Re-enabled, but failing again ({failures} failure(s)).",
                thread_params=(("failures", 1),),
            ),
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
    limiter = PriorityLimiter(2.0, clock=lambda: now[0])
    for _ in range(6):
        await limiter.acquire()
    # A burst of 2, then one every half second: 4 more take 2 seconds.
    assert sum(slept) == pytest.approx(2.0)


async def test_limiter_serves_follow_ups_before_the_rotation():
    limiter = PriorityLimiter(50.0)
    limiter.tokens = 0.0  # the budget is used up: everyone waits
    served: list[str] = []

    async def ask(name: str, priority: int) -> None:
        await limiter.acquire(priority)
        served.append(name)

    rotation = [asyncio.create_task(ask(f"rotation{i}", 2)) for i in range(3)]
    await asyncio.sleep(0)
    listing = asyncio.create_task(ask("listing", 1))
    follow = asyncio.create_task(ask("follow-up", 0))
    await asyncio.gather(*rotation, listing, follow)
    assert served[:2] == ["follow-up", "listing"]  # they came last and went first
    assert served[2:] == ["rotation0", "rotation1", "rotation2"]  # the rest in order of arrival


def test_push_time_trusts_quay_only_when_plausible():
    assert push_time(1000, 1010.0) == 1000.0
    assert push_time(None, 1010.0) == 1010.0
    assert push_time(5, 1010.0) == 1010.0  # an old tag: not this push
    assert push_time(99999, 1010.0) == 1010.0  # clocks disagree


def test_reads_follow_quay_workers_schedule():
    pushed = 1000.0
    # Read at once after a push (3 s later): again halfway through the worker's tick (half of the
    # deliveries are made by then), once a refused delivery must have failed, then once a hanging
    # one must have.
    assert next_read(pushed + 3, pushed, [0]) == pushed + 7
    assert next_read(pushed + 7, pushed, [0]) == pushed + 12
    assert next_read(pushed + 12, pushed, [0]) == pushed + 22
    assert next_read(pushed + 22, pushed, [0]) is None  # delivered: nothing more to see
    # Failing: read every 20 s to see the count climb (Quay retries about 40 s apart).
    assert next_read(pushed + 12, pushed, [1]) == pushed + 12 + QUAY.failing_every
    assert next_read(pushed + 12, pushed, [0, 3]) == pushed + 22  # the healthy one may still fail
    assert next_read(pushed + 30, None, [0, 3]) == pushed + 30 + QUAY.disabled_every
    assert next_read(pushed + 5, pushed, []) is None  # no notifications: nothing can fail
    assert event_pending(pushed + 30, pushed) is None and event_pending(pushed + 5, pushed) == pushed


def test_a_failure_count_that_stopped_moving_is_no_longer_read_every_20_s():
    failed = 1000.0  # the push that made it fail
    assert QUAY.settles_within == 22 + 2 * 40 + 20  # a hanging first try, two retries, one more read
    # While Quay may still retry: every 20 s, to see the count climb to disabled.
    assert next_read(failed + 90, None, [2], failing_since=failed) == failed + 90 + QUAY.failing_every
    # Once the retries are over the count moves only with the next event (which the logs or the
    # listing show): read like a disabled one, every 5 minutes.
    assert next_read(failed + 130, None, [1], failing_since=failed) == failed + 130 + QUAY.disabled_every
    assert next_read(failed + 130, None, [1]) == failed + 130 + QUAY.failing_every  # no anchor: as before
    # Where the logs the watch reads show the next push and any reset, nothing is due on a timer once
    # Quay's retries are over, disabled or not; while they may go on, every 20 s all the same.
    assert next_read(failed + 130, None, [1, 3], failing_since=failed, changes_logged=True) is None
    assert next_read(failed + 30, None, [3], changes_logged=True) is None
    assert next_read(failed + 90, None, [2], failing_since=failed, changes_logged=True) == failed + 110
    assert next_read(failed + 3, failed, [0, 3], changes_logged=True) == failed + 7  # the push's own reads


def test_what_quay_does_next():
    assert what_quay_does_next(1) == "Quay retries twice more, about 40 s apart, then stops sending it."
    assert what_quay_does_next(2) == "Quay retries once more, in about 40 s, then stops sending it."
    assert "no longer sends it" in what_quay_does_next(3)


def seen(uuid: str, failures: int) -> Seen:
    return Seen(uuid, "repo_push", "webhook", "https://hooks.example.com", failures)


def test_decide_announces_once_and_digests_bursts():
    observed = {f"r{i}": [seen(f"u{i}", 1)] for i in range(7)}
    decisions = decide({}, observed, ["C1", "C2"], muted={("C2", "u0")})
    announced = [d for d in decisions if d.announce]
    assert len(announced) == 13 and next(d for d in decisions if d.muted).key == ("C2", "u0")
    grouped = digests(decisions)
    assert set(grouped) == {"C1", "C2"} and len(grouped["C1"]) == 7 and len(grouped["C2"]) == 6
    assert set(digests([d for d in decisions if d.seen.uuid in {"u1", "u2"}])) == set()  # few: one each
    # Told already: nothing to say; the count climbing edits; a digest's alert gets a thread line.
    known = {("C1", "u1"): Known("r1", "failing", 1, seen("u1", 1), announced=True, in_digest=True)}
    assert decide(known, {"r1": [seen("u1", 1)]}, ["C1"], set()) == []
    [climb] = decide(known, {"r1": [seen("u1", 3)]}, ["C1"], set())
    assert (
        not climb.edit
        and climb.thread
        and climb.thread_subject == "r1 (repo_push → webhook)"
        and climb.thread.startswith("Now disabled")
    )
    [gone] = decide(known, {"r1": []}, ["C1"], set())
    assert gone.state == "gone" and gone.thread and gone.thread.endswith("Notification deleted.")


def entry(name: str, checked: float | None, has: bool | None = None, last_modified: int | None = None):
    return InventoryEntry(name, has, checked, last_modified)


def test_rotation_order_first_pass_then_stale_then_cursor():
    inventory = [
        entry("a", 100.0, False),
        entry("b", None, None, last_modified=5),
        entry("c", 10.0, True),  # has notifications, read long ago
        entry("d", None, None, last_modified=9),
        entry("e", 100.0, False),
    ]
    order = _rotation_order(inventory, cursor="c", now=1000.0, stale_after=600.0)
    assert order == [("d", False), ("b", False), ("c", False), ("e", True), ("a", True)]


def test_the_logs_give_way_to_the_listing_where_they_cost_more():
    """A small namespace with a busy log: a minute of log reads costs more than its one-page listing."""
    from types import SimpleNamespace

    from bot.alerts.sources import ChangeSources

    watcher = SimpleNamespace(db=None, size_of=lambda namespace: 50, listing_period=lambda: 10.0)
    sources = ChangeSources.__new__(ChangeSources)
    sources.watcher, sources._spent = watcher, {}
    # One page every 4 s: 0.25 requests a second against the listing's 0.1.
    assert not any(sources._costly("small", tick, 1) for tick in range(0, 52, 4))
    assert sources._costly("small", 56.0, 1)
    watcher.size_of = lambda namespace: 10_000  # 100 pages every 10 s: the logs are far cheaper
    assert not any(sources._costly("big", tick, 2) for tick in range(0, 120, 4))
