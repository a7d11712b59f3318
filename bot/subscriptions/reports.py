"""What the subscription manager reports: plain values, rendered by the subscription commands
(`bot/slices/subscriptions.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.quay.errors import QuayError


@dataclass(frozen=True)
class SubscriptionTarget:
    """A repository, or (with no `repository`) every repository of the namespace, now and later."""

    namespace: str
    repository: str | None = None

    def __str__(self) -> str:
        return f"{self.namespace}/{self.repository}" if self.repository else self.namespace


@dataclass(frozen=True)
class Subscribed:
    target: SubscriptionTarget
    events: tuple[str, ...]  # all the subscription's events now
    repositories: int  # repositories covered now
    created: int  # Quay notifications made by this command
    kept: int  # already there
    problem: QuayError | None = None  # why it stopped short (the next sync carries on)
    watched: bool = True  # some channel has alerts for the namespace: Quay failing to reach the bot is told


@dataclass(frozen=True)
class Unsubscribed:
    target: SubscriptionTarget
    removed: tuple[str, ...]
    remaining: tuple[str, ...]
    deleted: int  # Quay notifications deleted
    already_gone: int
    problem: QuayError | None = None


@dataclass(frozen=True)
class NotSubscribed:
    target: SubscriptionTarget
    channel_has: tuple[str, ...]  # this channel's subscription targets


@dataclass(frozen=True)
class SubscriptionLine:
    target: str
    events: tuple[str, ...]
    notifications: int
    created_by: str
    created_at: float


@dataclass(frozen=True)
class SubscriptionsListed:
    lines: tuple[SubscriptionLine, ...]
