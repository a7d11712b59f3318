"""`/quay repo describe <ns>/<name> "<text>"`, typed or from the card's menu form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

from bot.access import Caller, Role
from bot.blocks.context import RenderContext
from bot.blocks.forms import DESCRIPTION, REPO_DESCRIBE, Invalid, Values, value
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import (
    DESCRIPTION_TOO_LONG,
    MAX_TEXT,
    Arg,
    Bound,
    Definition,
    ParseContext,
    limited,
    repository,
)
from bot.i18n import t
from bot.outcomes import Outcome, Succeeded
from bot.quay.models import Repository
from bot.quay.names import InvalidName, RepositoryRef
from bot.slices.repo_info import RepoInfo
from bot.slices.spec import CommandSpec, Form, Run


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


# The form ------------------------------------------------------------------------------------


class Steps(Protocol):
    """The service's way to run one step of a command, checked as the command is."""

    def run_step(
        self, command: Any, caller: Caller, step: Callable[[Any, Run], Awaitable[object]]
    ) -> Awaitable[Outcome]: ...


async def current(ref: RepositoryRef, caller: Caller, service: Steps) -> Repository | Outcome:
    """What the form fills itself in with: the repository alone, read and checked as `repo info` is
    (the card's tags and notifications would be two larger reads for nothing)."""
    outcome = await service.run_step(RepoInfo(ref), caller, _repository)
    return cast(Repository, outcome.result) if isinstance(outcome, Succeeded) else outcome


async def _repository(command: RepoInfo, ctx: Run) -> Repository:
    return await ctx.quay.get_repository(command.repo, include_tags=False)


def read_form(values: Values, namespaces: Sequence[str], repo: str | None, loc: str) -> RepoDescribe | Invalid:
    try:
        ref = RepositoryRef.parse(repo or "")
    except InvalidName:
        return Invalid({DESCRIPTION: t(loc, "This form lost its repository; open it again.")})
    description = value(values, DESCRIPTION) or ""
    if len(description) > MAX_TEXT:
        return Invalid(
            {DESCRIPTION: t(loc, "{count} characters; {limit} at most.", count=len(description), limit=MAX_TEXT)}
        )
    return RepoDescribe(ref, description)


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
    words=lambda command, masked: [str(command.repo), command.description],
    run=run,
    render=render,
    results=(DescriptionSet,),
    form=Form(REPO_DESCRIBE, read_form),
)
