"""What running a command came to. Rendering (Block Kit, text) reads these; nothing else does."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.help import HelpPage
from bot.commands.model import Command, UsageError
from bot.quay.errors import QuayError
from bot.quay.models import CreatedRepository, Notification, Repository, RepositorySummary, Visibility
from bot.quay.names import RepositoryRef

# Results of commands that ran -----------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryListed:
    namespace: str
    repositories: tuple[RepositorySummary, ...]
    complete: bool  # False when the listing stopped at the fetch limit


@dataclass(frozen=True)
class RepositoryShown:
    repository: Repository


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
    problem: UsageError


@dataclass(frozen=True)
class ConfirmationNeeded:
    """A destructive command, not run: what it would do, read from Quay just now."""

    command: Command
    repository: Repository | None = None
    notification_count: int | None = None
    notification: Notification | None = None


Outcome = Succeeded | Failed | Refused | Unparsed | ConfirmationNeeded
