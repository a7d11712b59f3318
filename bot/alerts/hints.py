"""Changes the bot makes itself are watched at once: which repository to read, and when. Which
changes those are is each command's to say (`CommandSpec.watch`, `bot/slices/`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WatchSoon:
    namespace: str
    repository: str
    at: float  # read it then
    event_at: float | None = None  # an event (a test) whose first delivery is still ahead
    reset: str | None = None  # a notification a person reset: its alert thread says who
