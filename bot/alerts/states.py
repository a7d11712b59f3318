"""The alert state machine, pure: what a channel should be told when a notification changes.

States per notification and channel: healthy (0 failures), failing (1-2), disabled (3+, Quay has
stopped delivering), recovered (back to 0 after failing), gone (deleted while alerting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.quay.catalogue import FAILURES_BEFORE_DISABLED

State = Literal["healthy", "failing", "disabled", "recovered", "gone"]
ALERTING: frozenset[str] = frozenset({"failing", "disabled"})
QUIET: frozenset[str] = frozenset({"healthy", "recovered", "gone"})


def state_of(failures: int) -> State:
    if failures <= 0:
        return "healthy"
    return "disabled" if failures >= FAILURES_BEFORE_DISABLED else "failing"


@dataclass(frozen=True)
class Change:
    state: State
    new_alert: bool = False  # post a new parent message
    edit: bool = False  # edit the parent in place
    thread: str | None = None  # a short line in the parent's thread: a catalogue message
    thread_params: tuple[tuple[str, int], ...] = ()  # what fills it in


def transition(old: State | None, old_failures: int, new: State, failures: int) -> Change | None:
    """`None` when nothing is to be recorded or said."""
    if new in ALERTING:
        if old is None or old in QUIET:
            return Change(new, new_alert=True)
        if old == new:
            return Change(new, edit=True) if failures != old_failures else None
        if new == "disabled":
            return Change(
                new,
                edit=True,
                thread="Now disabled by Quay after {failures} failures: events are dropped until it is reset.",
                thread_params=(("failures", failures),),
            )
        return Change(
            new,
            edit=True,
            thread="Re-enabled, but failing again ({failures} failure(s)).",
            thread_params=(("failures", failures),),
        )
    if new == "healthy":
        if old in ALERTING:
            return Change("recovered", edit=True, thread="Recovered: deliveries succeed again.")
        return Change("healthy") if old is None else None
    # gone
    if old in ALERTING:
        return Change("gone", edit=True, thread="Notification deleted.")
    return Change("gone") if old in ("healthy", "recovered") else None
