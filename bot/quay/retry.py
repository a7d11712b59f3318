"""When and how long to wait before trying a Quay request again."""

from __future__ import annotations

import random
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff inside a bounded total time.

    Only idempotent reads use it; a write is retried only when it provably never left (the
    connection was refused).
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    total_seconds: float = 20.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None:
            return retry_after  # `allows` gives up when the server asks for more than the budget
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        # "Full jitter": spreads retries of many clients instead of synchronising them.
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography

    def allows(self, attempt: int, elapsed: float, delay: float) -> bool:
        return attempt < self.max_attempts and elapsed + delay <= self.total_seconds


NO_RETRY = RetryPolicy(max_attempts=1)
