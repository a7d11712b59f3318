"""The commands, one module each (or one per small family), and the registry the generic engines read.

A module holds everything specific to its command: its typed value, its grammar and help line, the
words it is written back as, its Quay calls, its confirmation, its result and how that renders.
Its `CommandSpec` says so; `SLICES` below lists them. Adding a command is a new module and one line
here (plus its zh-CN strings and its docs); `REGISTRY.register` adds one at run time (a test's).
"""

from __future__ import annotations

from collections.abc import Iterable
from shlex import quote
from typing import Any

from bot.access import ChannelAccess
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.people import render_not_linked
from bot.blocks.render import (
    render_confirmation,
    render_failure,
    render_not_available,
    render_refusal,
    render_usage,
)
from bot.commands.grammar import Definition, Grammar, ParseContext
from bot.commands.help import HelpPage, help_page
from bot.commands.model import Command, HelpTopic, UsageError
from bot.i18n import t
from bot.outcomes import ConfirmationNeeded, Failed, NotAvailable, NotLinked, Outcome, Refused, Succeeded, Unparsed
from bot.slices import (
    help,
    identity,
    notify_create,
    notify_delete,
    notify_get,
    notify_list,
    notify_reset,
    notify_test,
    repo_create,
    repo_delete,
    repo_describe,
    repo_info,
    repo_list,
    repo_visibility,
    subscriptions,
    tag_changes,
    tags,
)
from bot.slices.spec import CommandSpec, Form

SLICES: tuple[CommandSpec, ...] = (
    help.SPEC,
    repo_list.SPEC,
    repo_create.SPEC,
    repo_info.SPEC,
    repo_describe.SPEC,
    repo_visibility.SPEC,
    repo_delete.SPEC,
    notify_list.SPEC,
    notify_create.SPEC,
    notify_get.SPEC,
    notify_test.SPEC,
    notify_reset.SPEC,
    notify_delete.SPEC,
    tags.LIST,
    tags.INFO,
    tag_changes.RESTORE,
    tag_changes.MOVE,
    tag_changes.EXPIRE,
    tag_changes.DELETE,
    subscriptions.SUBSCRIBE,
    subscriptions.UNSUBSCRIBE,
    subscriptions.SUBSCRIPTIONS,
    identity.LOGIN,
    identity.LOGOUT,
    identity.WHOAMI,
)
# The words that start a group of subcommands, and the group each names.
GROUPS = {
    "repo": "repo",
    "notify": "notify",
    "notification": "notify",
    "notifications": "notify",
    "tag": "tag",
    "tags": "tag",
}


class Registry:
    """Every command the bot knows, and what is read off them: the grammar, help, written-back text,
    where a command acts, whether it asks to confirm, and how its outcome renders."""

    def __init__(self, specs: Iterable[CommandSpec], groups: dict[str, str]) -> None:
        self.groups = dict(groups)
        self._build(tuple(specs))

    def _build(self, specs: tuple[CommandSpec, ...]) -> None:
        by_type = {spec.command: spec for spec in specs}
        if len(by_type) != len(specs):
            raise ValueError("two commands have the same type")
        by_result: dict[type[Any], CommandSpec] = {}
        for spec in specs:
            for result in spec.results:
                known = by_result.setdefault(result, spec)
                if known.render is not spec.render:  # a family may share a type, rendered one way
                    raise ValueError(f"{result.__name__} is rendered by two commands")
        self.specs = specs
        self._by_type: dict[type[Any], CommandSpec] = by_type
        self._by_result = by_result
        self.grammar = Grammar((spec.definition for spec in specs), self.groups)

    def register(self, spec: CommandSpec) -> None:
        self._build((*self.specs, spec))

    def unregister(self, spec: CommandSpec) -> None:
        self._build(tuple(s for s in self.specs if s is not spec))

    @property
    def definitions(self) -> tuple[Definition, ...]:
        return self.grammar.definitions

    @property
    def forms(self) -> dict[str, Form]:
        """Every command's form, by its modal's callback id."""
        return {spec.form.callback_id: spec.form for spec in self.specs if spec.form is not None}

    def spec_for(self, command: Command) -> CommandSpec:
        return self._by_type[type(command)]

    def parse(self, text: str, context: ParseContext | None = None) -> Command | UsageError:
        return self.grammar.parse(text, context)

    def text(self, command: Command, *, masked: bool = True) -> str:
        """The command written back as `/quay` text: for the audit log (secrets masked) and for stored
        confirmations (destructive commands carry no secrets, and their text parses back the same)."""
        spec = self.spec_for(command)
        words = [*spec.definition.words.split(), *spec.words(command, masked)]
        return " ".join(quote(word) for word in words)

    def namespace_of(self, command: Command) -> str | None:
        """The Quay namespace a command acts on; `None` for those that name none (help)."""
        return self.spec_for(command).namespace(command)

    def is_destructive(self, command: Command) -> bool:
        """Commands that first ask for confirmation."""
        return self.spec_for(command).destructive(command)

    def help_page(self, topic: HelpTopic | None, access: ChannelAccess | None) -> HelpPage:
        return help_page(self.definitions, topic, access)

    def confirmation(self, outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
        """The question a confirmation asks and its facts: the command's own, or, for a command that
        asks only because its channel wants approval for it, the command as written."""
        confirmation = self.spec_for(outcome.command).confirmation
        if confirmation is not None:
            return confirmation(outcome, locale)
        written = "/quay " + self.text(outcome.command, masked=True)
        return t(locale, "Run {command}?", command=code(written)), []

    def render(self, outcome: Outcome, ctx: RenderContext) -> Message:
        match outcome:
            case Succeeded(result=result):
                return self._by_result[type(result)].render(result, ctx)
            case Failed():
                return render_failure(outcome.command.command_name, outcome.error, ctx.locale)
            case Refused():
                return render_refusal(outcome.reason, outcome.remedy, ctx.locale)
            case NotAvailable():
                return render_not_available(outcome.command.command_name, outcome.reason, outcome.remedy, ctx)
            case NotLinked():
                return render_not_linked(outcome.command.command_name, outcome.reason, outcome.login_url, ctx)
            case Unparsed(refusal=(reason, remedy)):
                return render_refusal(reason, remedy, ctx.locale)
            case Unparsed(problem=problem):
                return render_usage(problem, ctx.locale)
            case ConfirmationNeeded():
                return render_confirmation(*self.confirmation(outcome, ctx.locale), ctx)
        raise AssertionError(f"unhandled outcome {outcome!r}")


REGISTRY = Registry(SLICES, GROUPS)
# What the access file's `approval:` and `guardrails:` may name.
COMMAND_NAMES = frozenset(spec.definition.words for spec in SLICES)


def render(outcome: Outcome, ctx: RenderContext) -> Message:
    """An outcome as a Slack message (blocks and a plain fallback)."""
    return REGISTRY.render(outcome, ctx)


def parse(text: str, context: ParseContext | None = None) -> Command | UsageError:
    """The text after `/quay`, read with every command's grammar."""
    return REGISTRY.parse(text, context)
