"""Slack requests refused before Bolt ran: counted by reason on `/metrics`, and the signature failures
told to the operator. A Signing Secret rotated in Slack but not here, or a clock minutes off, makes
every command fail with nothing in the log but this; a scanner posting to `/slack/events` must not
flood it, so each kind is told at most once a minute, with how many there were.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from bot.metrics import Metrics

log = logging.getLogger(__name__)

WHY = {
    "signature_mismatch": (
        "Slack requests are failing the signature check: if they come from Slack, SLACK_SIGNING_SECRET "
        "is not the app's Signing Secret (Basic Information > App Credentials; it changes when rotated)"
    ),
    "signature_stale": (
        "Slack requests are refused because their timestamps are more than 5 minutes from this "
        "machine's clock: check that the clock is synchronised (NTP)"
    ),
    "unsigned": "requests without Slack's signature headers were posted to /slack/events: not from Slack",
    "unsupported": (
        "Slack sent requests this app does not handle (an event, shortcut or command the manifest does not "
        "declare): if the app's configuration in Slack was changed by hand, compare it with manifest.yml"
    ),
}


class Refusals:
    def __init__(self, metrics: Metrics, *, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self.every = every
        self.clock = clock
        self._since_told: Counter[str] = Counter()
        self._told_at: dict[str, float] = {}

    def refused(self, reason: str) -> None:
        self.metrics.slack_refused.labels(reason).inc()
        if reason not in WHY:
            return
        self._since_told[reason] += 1
        now = self.clock()
        if now - self._told_at.get(reason, now - self.every) >= self.every:
            log.warning(WHY[reason], extra={"reason": reason, "refused": self._since_told[reason]})
            self._told_at[reason] = now
            self._since_told[reason] = 0
