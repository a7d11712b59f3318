"""`/quay notify delete <ns>/<name> <uuid>`: asks to confirm, showing what the notification does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, notification_uuid, repository
from bot.i18n import plural, t
from bot.outcomes import ConfirmationNeeded
from bot.quay import QuayClient
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class NotifyDelete:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify delete"


@dataclass(frozen=True)
class NotificationDeleted:
    repo: RepositoryRef
    uuid: str


def build(bound: Bound, context: ParseContext) -> NotifyDelete:
    return NotifyDelete(repository(bound.args[0], context), notification_uuid(bound.args[1]))


async def run(command: NotifyDelete, ctx: Run) -> NotificationDeleted:
    await ctx.quay.delete_notification(command.repo, command.uuid)
    return NotificationDeleted(command.repo, command.uuid)


async def preview(command: NotifyDelete, client: QuayClient) -> ConfirmationNeeded:
    return ConfirmationNeeded(command, notification=await client.get_notification(command.repo, command.uuid))


def confirmation(outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
    command = outcome.command
    assert isinstance(command, NotifyDelete)
    question = t(
        locale,
        "Delete notification {uuid} from {repo}?",
        uuid=code(command.uuid),
        repo=code(command.repo.full_name),
    )
    facts: list[str] = []
    n = outcome.notification
    if n is not None:
        facts.append(
            f"{code(n.event)} → {code(n.method)} {code(n.target)}, "
            + plural(locale, n.number_of_failures, "{count} failure", "{count} failures")
        )
    facts.append(t(locale, "Whoever relies on it will stop hearing about these events."))
    return question, facts


def render(result: NotificationDeleted, ctx: RenderContext) -> Message:
    return announce(
        ctx,
        "{who} deleted notification {uuid} from {repo}",
        uuid=code(result.uuid),
        repo=code(result.repo.full_name),
    )


SPEC = CommandSpec(
    command=NotifyDelete,
    definition=Definition(
        "notify",
        "delete",
        "delete a notification",
        Role.ADMIN,
        build,
        (Arg("repo"), Arg("uuid")),
        note="asks for confirmation",
        topic="notify",
    ),
    words=lambda command, masked: [str(command.repo), command.uuid],
    run=run,
    render=render,
    results=(NotificationDeleted,),
    destructive=lambda command: True,
    preview=preview,
    confirmation=confirmation,
)
