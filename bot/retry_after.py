"""One reading of `Retry-After`, for Quay's answers and Slack's alike: seconds to wait, capped.

The header is either a number of seconds or an HTTP date. A value that is negative, not finite, or a
date in the past means "now"; anything beyond `cap` is cut to `cap`, so no answer can put the bot to
sleep for ever.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

CAP_SECONDS = 300.0


def retry_after_seconds(value: object, *, now: float | None = None, cap: float = CAP_SECONDS) -> float | None:
    """`None` when there is no usable value (absent, or neither a number nor a date)."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(cap, max(0.0, seconds))
