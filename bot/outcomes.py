"""What running a command came to. Rendering (Block Kit, text) reads these; nothing else does."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.help import HelpPage
from bot.commands.model import Command, ListPosition, RepoList, SubscriptionTarget, UsageError
from bot.quay.errors import QuayError
from bot.quay.models import CreatedRepository, Notification, Repository, RepositorySummary, Visibility
from bot.quay.names import RepositoryRef

# Results of commands that ran -----------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryListed:
    """One page of a listing, and where the pages before and after it are."""

    command: RepoList
    repositories: tuple[RepositorySummary, ...]
    page: int = 0
    previous: ListPosition | None = None
    next: ListPosition | None = None
    restarted: bool = False  # Quay no longer took the page token (2 days old, or garbled): page 1 again

    @property
    def namespace(self) -> str:
        return self.command.namespace


@dataclass(frozen=True)
class RepositoryShown:
    repository: Repository
    notifications: tuple[Notification, ...] | None = None  # None: the token cannot read them


@dataclass(frozen=True)
class RepositoryCreated:
    created: CreatedRepository
    visibility: Visibility


@dataclass(frozen=True)
class DescriptionSet:
    repo: RepositoryRef


@dataclass(frozen=True)
class VisibilityChanged:
    repo: RepositoryRef
    visibility: Visibility


@dataclass(frozen=True)
class RepositoryDeleted:
    repo: RepositoryRef


@dataclass(frozen=True)
class NotificationsListed:
    repo: RepositoryRef
    notifications: tuple[Notification, ...]


@dataclass(frozen=True)
class NotificationShown:
    repo: RepositoryRef
    notification: Notification


@dataclass(frozen=True)
class NotificationCreated:
    repo: RepositoryRef
    notification: Notification


@dataclass(frozen=True)
class NotificationTestQueued:
    """Quay only queues a test; `sent` is False when the notification was disabled, because Quay
    would have dropped it. `before` is the notification as it was."""

    repo: RepositoryRef
    before: Notification
    sent: bool


@dataclass(frozen=True)
class FailuresReset:
    repo: RepositoryRef
    uuid: str


@dataclass(frozen=True)
class NotificationDeleted:
    repo: RepositoryRef
    uuid: str


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


Result = (
    HelpPage
    | RepositoryListed
    | RepositoryShown
    | RepositoryCreated
    | DescriptionSet
    | VisibilityChanged
    | RepositoryDeleted
    | NotificationsListed
    | NotificationShown
    | NotificationCreated
    | NotificationTestQueued
    | FailuresReset
    | NotificationDeleted
    | Subscribed
    | Unsubscribed
    | NotSubscribed
    | SubscriptionsListed
)

# Outcomes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Succeeded:
    command: Command
    result: Result


@dataclass(frozen=True)
class Failed:
    command: Command
    error: QuayError


@dataclass(frozen=True)
class Refused:
    """Access policy said no."""

    command: Command
    reason: str
    remedy: str


@dataclass(frozen=True)
class Unparsed:
    """The text is not a command. `refusal` is set when no command may run from where it was typed
    (a channel not mapped, a direct message, a user not listed): the reason and remedy the policy
    gave, shown instead of the usage, since fixing the spelling would only lead to them."""

    problem: UsageError
    refusal: tuple[str, str] | None = None  # (reason, remedy)


@dataclass(frozen=True)
class ConfirmationNeeded:
    """A destructive command, not run: what it would do, read from Quay just now."""

    command: Command
    repository: Repository | None = None
    notification_count: int | None = None
    notification: Notification | None = None
    new_notifications: int | None = None  # a namespace-wide subscription: how many it would create


@dataclass(frozen=True)
class NotAvailable:
    """The bot is not set up for this command (a setting is missing): nothing was done."""

    command: Command
    reason: str
    remedy: str


Outcome = Succeeded | Failed | Refused | Unparsed | ConfirmationNeeded | NotAvailable
