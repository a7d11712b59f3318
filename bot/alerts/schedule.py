"""When to read a repository's notifications again, from Quay's notification worker as measured
(`quay-events-observed.md`): pure functions of the clock and what was seen.

The worker polls its queue every 10 s, so a push is delivered 0-10 s after it (plus up to the 10 s
send timeout when the target hangs): the first failure is counted within about 20 s. A failed
delivery is retried 30 s later, on the next tick, so failures climb about 40 s apart, and at 3 the
notification is skipped for good. One push takes a failing notification to disabled in about 85 s.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.worker import QUAY, WorkerTiming


def push_time(last_modified: int | None, now: float, *, skew: float = 120.0) -> float:
    """When the push happened, by Quay's `last_modified`; `now` when that is absent or implausible
    (clocks disagree, or the newest tag is old because a newer one was deleted)."""
    if last_modified is None or not now - skew <= last_modified <= now + skew:
        return now
    return float(last_modified)


def next_read(
    now: float,
    event_at: float | None,
    failures: Sequence[int],
    timing: WorkerTiming = QUAY,
    *,
    failing_since: float | None = None,
    changes_logged: bool = False,
) -> float | None:
    """When to read a repository again, given the failure counts just read; `None`: no hurry, the
    rotation will come back to it.

    `event_at` is when a push (or a test) happened that has not yet had its chance to fail.
    `failing_since`: when the event that made a notification fail happened (or when the failure was
    first seen); once Quay's retries are over the count only moves with the next event, so it is no
    longer read every `failing_every` (a webhook that failed once, weeks ago, stays at 1 for good).
    `changes_logged`: the usage logs the watch reads show whatever could move these counts now (the
    next push, a reset by hand), so a count that has settled, or a disabled notification, is read when
    they do, not every `disabled_every`.
    """
    due: list[float] = []
    timed = not changes_logged
    if any(0 < count < FAILURES_BEFORE_DISABLED for count in failures):
        if failing_since is None or now - failing_since < timing.settles_within:
            return now + timing.failing_every  # sooner than any first delivery still ahead
        if timed:
            due.append(now + timing.disabled_every)
    if timed and any(count >= FAILURES_BEFORE_DISABLED for count in failures):
        due.append(now + timing.disabled_every)
    if event_at is not None and failures:
        later = [event_at + offset for offset in timing.after_event() if event_at + offset > now]
        if later:
            due.append(min(later))
    return min(due) if due else None


def event_pending(now: float, event_at: float | None, timing: WorkerTiming = QUAY) -> float | None:
    """`event_at` while its first delivery may still be ahead, else `None`."""
    if event_at is None or now >= event_at + max(timing.after_event()):
        return None
    return event_at
