"""What a command declares about itself, beside its code (Errbot's `@botcmd`, as a value): its type,
its grammar and help line, its words written back, where it acts, its Quay calls, whether it asks
to confirm and what the confirmation shows, and how its results render. The generic engines
(`bot/service.py`, the renderer and parser in `bot/slices/__init__.py`, auditing, the CLI) read
only this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.access import AccessPolicy, Caller, Decision
from bot.alerts.hints import WatchSoon
from bot.blocks.context import RenderContext
from bot.blocks.forms import Values
from bot.blocks.message import Message
from bot.commands.grammar import Definition
from bot.egress import EgressPolicy
from bot.identities import Identities
from bot.outcomes import ConfirmationNeeded, Outcome
from bot.quay import QuayClient
from bot.store.links import Link
from bot.subscriptions.manager import SubscriptionManager


@dataclass(frozen=True)
class Run:
    """What a command's Quay calls run with: the client holding the namespace's token (None for a
    command that names no namespace), and what the generic engine knows about the request."""

    client: QuayClient | None
    caller: Caller
    policy: AccessPolicy
    decision: Decision
    egress: EgressPolicy
    subscriptions: SubscriptionManager | None
    confirmed: bool
    definitions: Sequence[Definition]  # every command's, for help
    identities: Identities | None = None  # people's linked Quay accounts, where linking is set up
    acting_as: Link | None = None  # the person whose own Quay token `client` holds, if not the bot's

    @property
    def quay(self) -> QuayClient:
        assert self.client is not None  # every command that names a namespace gets one
        return self.client


def _never(command: Any) -> bool:
    return False


@dataclass(frozen=True)
class Form:
    """A command's form: its modal's callback id, and what a submission means. `read` takes the
    submitted values, the channel's namespaces, the repository the form was opened on (if any) and
    the channel's language, and gives the command, or what to fix per field (`Invalid`)."""

    callback_id: str
    read: Callable[[Values, Sequence[str], str | None, str], object]


@dataclass(frozen=True)
class Later:
    """What a command's later word on its own reply may use (`CommandSpec.later`)."""

    handle: Callable[[Any], Awaitable[Outcome]]  # another command, run as the same caller
    locale: str
    checks: tuple[float, ...]  # when to look, in seconds after the reply


def _unwatched(result: Any, now: float) -> WatchSoon | None:
    return None


def _repository_namespace(command: Any) -> str | None:
    return str(command.repo.namespace)


def _repository(command: Any) -> str | None:
    return str(command.repo)


@dataclass(frozen=True)
class CommandSpec:
    """One command. `run` returns the command's result (rendered by `render`), or an outcome of its
    own (a confirmation it asks for, a setting it lacks). Commands that change nothing are not
    audited (`changes`); `answers_anywhere` commands (help) answer where no other may run."""

    command: type[Any]
    definition: Definition
    words: Callable[[Any, bool], Sequence[str]]  # (command, masked): the words after its own (`repo info`)
    run: Callable[[Any, Run], Awaitable[object]]
    render: Callable[[Any, RenderContext], Message]
    results: tuple[type[Any], ...]
    namespace: Callable[[Any], str | None] = _repository_namespace
    subject: Callable[[Any], str | None] = _repository  # the repository (or target) the audit log names
    changes: bool = True
    answers_anywhere: bool = False
    # Runs with the namespace's own token even where the channel acts as each person (subscriptions:
    # the webhooks they make belong to the bot, not to whoever asked).
    acts_as_bot: bool = False
    needs_database: bool = False  # beyond Quay: `quaybot run` opens the bot's database for it
    destructive: Callable[[Any], bool] = _never
    # What a confirmation shows, read from Quay; None when, having looked, there is nothing to confirm.
    preview: Callable[[Any, QuayClient], Awaitable[ConfirmationNeeded | None]] | None = None
    confirmation: Callable[[ConfirmationNeeded, str], tuple[str, list[str]]] | None = None
    # Said after a refusal of the access policy, when the command can tell what was probably meant.
    refusal_hint: Callable[[Any, Caller, AccessPolicy], str] | None = None
    # What the failure watch should read at once after this command's result (its own change).
    watch: Callable[[Any, float], WatchSoon | None] = _unwatched
    form: Form | None = None  # typed or filled in: the same command, read back from its modal
    # A later word on the same reply (the outcome of a test Quay only queued), if the result wants one.
    later: Callable[[Any, Later], Callable[[], Awaitable[Message]] | None] | None = None

    def __post_init__(self) -> None:
        if self.definition.words != self.command.command_name:
            raise ValueError(
                f"{self.command.__name__} is named {self.command.command_name!r}, its grammar says otherwise"
            )
        if self.destructive is not _never and self.preview is None:
            raise ValueError(f"{self.definition.words} asks to confirm but has no preview of what it would do")
        if self.preview is not None and self.confirmation is None:
            raise ValueError(f"{self.definition.words} previews a change but shows no confirmation")
