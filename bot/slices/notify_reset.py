"""`/quay notify reset <ns>/<name> <uuid>`: sets Quay's failure count to 0, which re-enables a
notification Quay disabled. A reset starts deliveries again, so its target is checked as a new one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.alerts.hints import WatchSoon
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, notification_uuid, repository
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class NotifyReset:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify reset"


@dataclass(frozen=True)
class FailuresReset:
    repo: RepositoryRef
    uuid: str


def build(bound: Bound, context: ParseContext) -> NotifyReset:
    return NotifyReset(repository(bound.args[0], context), notification_uuid(bound.args[1]))


async def run(command: NotifyReset, ctx: Run) -> FailuresReset:
    target = await ctx.quay.get_notification(command.repo, command.uuid)
    await ctx.egress.check_notification(target.method, target.config)
    await ctx.quay.reset_notification_failures(command.repo, command.uuid)
    return FailuresReset(command.repo, command.uuid)


def render(result: FailuresReset, ctx: RenderContext) -> Message:
    return announce(
        ctx,
        "{who} reset the failures of notification {uuid} on {repo}; Quay delivers it again (events "
        "missed meanwhile are not replayed)",
        uuid=code(result.uuid),
        repo=code(result.repo.full_name),
    )


SPEC = CommandSpec(
    command=NotifyReset,
    definition=Definition(
        "notify",
        "reset",
        "reset the failure count (re-enables it)",
        Role.WRITE,
        build,
        (Arg("repo"), Arg("uuid")),
        topic="notify",
    ),
    words=lambda command, masked: [str(command.repo), command.uuid],
    run=run,
    render=render,
    results=(FailuresReset,),
    watch=lambda result, now: WatchSoon(result.repo.namespace, result.repo.name, now, reset=result.uuid),
)
