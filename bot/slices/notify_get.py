"""`/quay notify get <ns>/<name> <uuid>`: one notification, and what to do when Quay disabled it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.models.blocks import Block

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code, escape, fields
from bot.blocks.render import disabled_help, notification_fields, notification_title
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, notification_uuid, repository
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class NotifyGet:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify get"


@dataclass(frozen=True)
class NotificationShown:
    repo: RepositoryRef
    notification: Notification


def build(bound: Bound, context: ParseContext) -> NotifyGet:
    return NotifyGet(repository(bound.args[0], context), notification_uuid(bound.args[1]))


async def run(command: NotifyGet, ctx: Run) -> NotificationShown:
    return NotificationShown(command.repo, await ctx.quay.get_notification(command.repo, command.uuid))


def render(result: NotificationShown, ctx: RenderContext) -> Message:
    repo, notification = result.repo, result.notification
    title = ctx.t("*{title}* on {repo}", title=escape(notification_title(notification)), repo=code(repo.full_name))
    blocks: list[Block] = [fields(notification_fields(notification, ctx), text=title)]
    if notification.disabled:
        blocks.append(disabled_help(repo, notification, ctx))
    state = "disabled" if notification.disabled else f"{notification.number_of_failures} failures"
    return Message(f"Notification {notification.uuid} on {repo}: {notification.event}, {state}", blocks)


SPEC = CommandSpec(
    command=NotifyGet,
    definition=Definition(
        "notify", "get", "show one notification", Role.READ, build, (Arg("repo"), Arg("uuid")), topic="notify"
    ),
    words=lambda command, masked: [str(command.repo), command.uuid],
    run=run,
    render=render,
    results=(NotificationShown,),
    changes=False,
)
