"""`/quay notify list <ns>/<name>`: a repository's notifications and their health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.models.blocks import Block, DividerBlock

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code, context, escape, fields, link, section
from bot.blocks.render import notification_fields, notification_title, repository_url
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, repository
from bot.i18n import plural
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run

NOTIFICATIONS_PER_MESSAGE = 20


@dataclass(frozen=True)
class NotifyList:
    repo: RepositoryRef
    command_name: ClassVar[str] = "notify list"


@dataclass(frozen=True)
class NotificationsListed:
    repo: RepositoryRef
    notifications: tuple[Notification, ...]


def build(bound: Bound, context: ParseContext) -> NotifyList:
    return NotifyList(repository(bound.args[0], context))


async def run(command: NotifyList, ctx: Run) -> NotificationsListed:
    return NotificationsListed(command.repo, tuple(await ctx.quay.list_notifications(command.repo)))


def render(result: NotificationsListed, ctx: RenderContext) -> Message:
    return render_list(result.repo, result.notifications, ctx)


def render_list(repo: RepositoryRef, notifications: Sequence[Notification], ctx: RenderContext) -> Message:
    if not notifications:
        return Message(
            ctx.t("{repo} has no notifications.", repo=repo),
            [section(ctx.t("{repo} has no notifications.", repo=code(repo.full_name)))],
        )
    disabled = sum(1 for n in notifications if n.disabled)
    summary = plural(
        ctx.locale,
        len(notifications),
        "*{count} notification on {repo}*",
        "*{count} notifications on {repo}*",
        repo=code(repo.full_name),
    )
    if disabled:
        summary += ctx.t(" — {count} disabled by Quay", count=disabled)
    blocks: list[Block] = [section(summary)]
    for notification in notifications[:NOTIFICATIONS_PER_MESSAGE]:
        blocks.append(DividerBlock())
        title = f"*{escape(notification_title(notification))}*"
        blocks.append(fields(notification_fields(notification, ctx), text=title))
    hidden = len(notifications) - NOTIFICATIONS_PER_MESSAGE
    if hidden > 0:
        where = link(repository_url(ctx, repo.full_name), str(repo))
        blocks.append(context(ctx.t("{count} more not shown; see them in Quay: {link}", count=hidden, link=where)))
    text = plural(
        ctx.locale,
        len(notifications),
        "{count} notification on {repo} ({disabled} disabled)",
        "{count} notifications on {repo} ({disabled} disabled)",
        repo=repo,
        disabled=disabled,
    )
    return Message(text, blocks)


SPEC = CommandSpec(
    command=NotifyList,
    definition=Definition(
        "notify", "list", "list a repository's notifications", Role.READ, build, (Arg("repo"),), topic="notify"
    ),
    words=lambda command, masked: [str(command.repo)],
    run=run,
    render=render,
    results=(NotificationsListed,),
    changes=False,
)
