"""`/quay repo describe <ns>/<name> "<text>"`, typed or from the card's menu form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import DESCRIPTION_TOO_LONG, Arg, Bound, Definition, ParseContext, limited, repository
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class RepoDescribe:
    repo: RepositoryRef
    description: str
    command_name: ClassVar[str] = "repo describe"


@dataclass(frozen=True)
class DescriptionSet:
    repo: RepositoryRef


def build(bound: Bound, context: ParseContext) -> RepoDescribe:
    return RepoDescribe(repository(bound.args[0], context), limited(bound.args[1], DESCRIPTION_TOO_LONG))


async def run(command: RepoDescribe, ctx: Run) -> DescriptionSet:
    await ctx.quay.set_description(command.repo, command.description)
    return DescriptionSet(command.repo)


def render(result: DescriptionSet, ctx: RenderContext) -> Message:
    return announce(ctx, "{who} updated the description of {repo}", repo=code(result.repo.full_name))


SPEC = CommandSpec(
    command=RepoDescribe,
    definition=Definition(
        "repo",
        "describe",
        "set a repository's description",
        Role.WRITE,
        build,
        (Arg("repo"), Arg("text")),
        topic="repo",
    ),
    words=lambda command, masked: ["repo", "describe", str(command.repo), command.description],
    run=run,
    render=render,
    results=(DescriptionSet,),
)
