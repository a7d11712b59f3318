"""Quay's notification worker as measured (`quay-events-observed.md`): its timing, and what it does
next with a failing notification, said plainly. Quay's behaviour only: no schedule of the bot's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import t
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED


@dataclass(frozen=True)
class WorkerTiming:
    poll: float = 10.0  # the worker's queue tick
    retry: float = 30.0  # a failed delivery is queued again this much later
    send_timeout: float = 10.0  # NOTIFICATION_SEND_TIMEOUT
    margin: float = 2.0  # reads land this long after the moment they wait for
    failing_every: float = 20.0  # while failing, read this often to see the count climb
    disabled_every: float = 300.0  # a disabled notification changes only by hand: read now and then

    @property
    def retry_gap(self) -> float:
        """About how far apart failures are counted."""
        return self.retry + self.poll

    @property
    def settles_within(self) -> float:
        """After an event, by when Quay has made every delivery and retry it will (a hanging first try,
        then a retry every `retry_gap` until disabled), plus one read: a failure count that has not
        moved by then changes only with the next event, or by hand."""
        last_try = max(self.after_event()) + (FAILURES_BEFORE_DISABLED - 1) * self.retry_gap
        return last_try + self.failing_every

    def after_event(self) -> tuple[float, ...]:
        """Seconds after an event (a push, a test) at which to look for its first failure: halfway
        through the worker's tick (the delivery comes 0-10 s after the event, evenly: half the
        failures are counted by then, and are seen 5 s sooner), by the end of the tick when the
        target refuses at once, and once a hanging target has had its timeout."""
        return (self.poll / 2 + self.margin, self.poll + self.margin, self.poll + self.send_timeout + self.margin)


QUAY = WorkerTiming()


def what_quay_does_next(failures: int, locale: str = "en", timing: WorkerTiming = QUAY) -> str:
    """The worker's next steps, said plainly, for an alert."""
    left = FAILURES_BEFORE_DISABLED - failures
    if left <= 0:
        return t(locale, "Quay no longer sends it: events are dropped, and not replayed, until its failures are reset.")
    gap = round(timing.retry_gap)
    if left == 1:
        return t(locale, "Quay retries once more, in about {seconds} s, then stops sending it.", seconds=gap)
    if left == 2:
        return t(locale, "Quay retries twice more, about {seconds} s apart, then stops sending it.", seconds=gap)
    return t(
        locale,
        "Quay retries {count} times more, about {seconds} s apart, then stops sending it.",
        count=left,
        seconds=gap,
    )
