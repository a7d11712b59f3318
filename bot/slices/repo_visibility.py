"""`/quay repo visibility <ns>/<name> public|private`; making a repository public asks to confirm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, repository, usage
from bot.i18n import t
from bot.outcomes import ConfirmationNeeded
from bot.quay import QuayClient
from bot.quay.models import Visibility
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class RepoVisibility:
    repo: RepositoryRef
    visibility: Visibility
    command_name: ClassVar[str] = "repo visibility"


@dataclass(frozen=True)
class VisibilityChanged:
    repo: RepositoryRef
    visibility: Visibility


def build(bound: Bound, context: ParseContext) -> RepoVisibility:
    visibility = bound.args[1].lower()
    if visibility == "public":
        return RepoVisibility(repository(bound.args[0], context), "public")
    if visibility == "private":
        return RepoVisibility(repository(bound.args[0], context), "private")
    raise usage("visibility must be public or private, not `{word}`", word=bound.args[1])


async def run(command: RepoVisibility, ctx: Run) -> VisibilityChanged:
    await ctx.quay.change_visibility(command.repo, command.visibility)
    return VisibilityChanged(command.repo, command.visibility)


async def preview(command: RepoVisibility, client: QuayClient) -> ConfirmationNeeded:
    return ConfirmationNeeded(command, repository=await client.get_repository(command.repo, include_tags=False))


def confirmation(outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
    command, repo = outcome.command, outcome.repository
    assert isinstance(command, RepoVisibility)
    question = t(locale, "Make {repo} public?", repo=code(command.repo.full_name))
    facts: list[str] = []
    if repo is not None and repo.is_public:
        facts.append(t(locale, "It is already public; confirming changes nothing."))
    facts.append(t(locale, "Anyone who can reach Quay will be able to pull its images, without logging in."))
    return question, facts


def render(result: VisibilityChanged, ctx: RenderContext) -> Message:
    return announce(
        ctx, "{who} made {repo} {visibility}", repo=code(result.repo.full_name), visibility=ctx.t(result.visibility)
    )


SPEC = CommandSpec(
    command=RepoVisibility,
    definition=Definition(
        "repo",
        "visibility",
        "make a repository public or private",
        Role.ADMIN,
        build,
        (Arg("repo"), Arg("visibility")),
        note="public asks for confirmation",
        topic="repo",
    ),
    words=lambda command, masked: [str(command.repo), command.visibility],
    run=run,
    render=render,
    results=(VisibilityChanged,),
    destructive=lambda command: command.visibility == "public",
    preview=preview,
    confirmation=confirmation,
)
