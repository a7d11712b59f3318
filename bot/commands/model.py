"""What a parsed `/quay` command is: plain, typed values with no Slack and no HTTP in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from bot.quay.models import Visibility
from bot.quay.names import RepositoryRef

HelpTopic = Literal["repo", "notify", "subscribe"]


@dataclass(frozen=True)
class Help:
    topic: HelpTopic | None = None
    command_name: ClassVar[str] = "help"


# A listing in chat shows this many repositories a page (Quay's own pages hold 100).
PAGE_SIZE = 20


@dataclass(frozen=True)
class ListPosition:
    """Where a paged listing is: our page (20 repositories), Quay's page tokens near it (Quay pages
    by 100), and the first repository Quay listed, to notice a token Quay no longer accepts."""

    page: int = 0
    tokens: tuple[tuple[int, str], ...] = ()  # (Quay page index, next_page token that reaches it)
    first: str | None = None


@dataclass(frozen=True)
class RepoList:
    namespace: str
    public: bool = False
    starred: bool = False
    position: ListPosition = field(default_factory=ListPosition, compare=False)
    command_name: ClassVar[str] = "repo list"


@dataclass(frozen=True)
class RepoCreate:
    repo: RepositoryRef
    visibility: Visibility = "private"
    description: str = ""
    command_name: ClassVar[str] = "repo create"


@dataclass(frozen=True)
class RepoInfo:
    repo: RepositoryRef
    command_name: ClassVar[str] = "repo info"


@dataclass(frozen=True)
class RepoDescribe:
    repo: RepositoryRef
    description: str
    command_name: ClassVar[str] = "repo describe"


@dataclass(frozen=True)
class RepoVisibility:
    repo: RepositoryRef
    visibility: Visibility
    command_name: ClassVar[str] = "repo visibility"


@dataclass(frozen=True)
class RepoDelete:
    repo: RepositoryRef
    command_name: ClassVar[str] = "repo delete"


@dataclass(frozen=True)
class NotifyList:
    repo: RepositoryRef
    command_name: ClassVar[str] = "notify list"


@dataclass(frozen=True)
class NotifyCreate:
    repo: RepositoryRef
    event: str
    method: str
    config: dict[str, Any] = field(default_factory=dict)
    event_config: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    command_name: ClassVar[str] = "notify create"


@dataclass(frozen=True)
class NotifyGet:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify get"


@dataclass(frozen=True)
class NotifyTest:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify test"


@dataclass(frozen=True)
class NotifyReset:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify reset"


@dataclass(frozen=True)
class NotifyDelete:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify delete"


@dataclass(frozen=True)
class SubscriptionTarget:
    """A repository, or (with no `repository`) every repository of the namespace, now and later."""

    namespace: str
    repository: str | None = None

    def __str__(self) -> str:
        return f"{self.namespace}/{self.repository}" if self.repository else self.namespace


# The events a subscription gets when none are named.
DEFAULT_SUBSCRIPTION_EVENTS = ("repo_push", "build_failure", "vulnerability_found")


@dataclass(frozen=True)
class Subscribe:
    target: SubscriptionTarget
    events: tuple[str, ...] = DEFAULT_SUBSCRIPTION_EVENTS
    command_name: ClassVar[str] = "subscribe"


@dataclass(frozen=True)
class Unsubscribe:
    target: SubscriptionTarget
    events: tuple[str, ...] = ()  # none: every event
    command_name: ClassVar[str] = "unsubscribe"


@dataclass(frozen=True)
class Subscriptions:
    command_name: ClassVar[str] = "subscriptions"


RepoCommand = RepoCreate | RepoInfo | RepoDescribe | RepoVisibility | RepoDelete
NotifyCommand = NotifyList | NotifyCreate | NotifyGet | NotifyTest | NotifyReset | NotifyDelete
SubscriptionCommand = Subscribe | Unsubscribe | Subscriptions
Command = Help | RepoList | RepoCommand | NotifyCommand | SubscriptionCommand


def namespace_of(command: Command) -> str | None:
    """The Quay namespace a command acts on; `None` for help."""
    if isinstance(command, Help | Subscriptions):
        return None
    if isinstance(command, RepoList):
        return command.namespace
    if isinstance(command, Subscribe | Unsubscribe):
        return command.target.namespace
    return command.repo.namespace


def is_destructive(command: Command) -> bool:
    """Commands that first ask for confirmation."""
    if isinstance(command, RepoVisibility):
        return command.visibility == "public"
    return isinstance(command, RepoDelete | NotifyDelete)


@dataclass(frozen=True)
class UsageError:
    """The text could not be read as a command: what is wrong, and the right form(s)."""

    message: str
    usage: tuple[str, ...] = ()
    topic: HelpTopic | None = None
