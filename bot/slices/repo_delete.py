"""`/quay repo delete <ns>/<name>`: asks to confirm, showing its visibility, tags and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, repository
from bot.i18n import t
from bot.outcomes import ConfirmationNeeded
from bot.quay import QuayClient, QuayError
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class RepoDelete:
    repo: RepositoryRef
    command_name: ClassVar[str] = "repo delete"


@dataclass(frozen=True)
class RepositoryDeleted:
    repo: RepositoryRef


def build(bound: Bound, context: ParseContext) -> RepoDelete:
    return RepoDelete(repository(bound.args[0], context))


async def run(command: RepoDelete, ctx: Run) -> RepositoryDeleted:
    await ctx.quay.delete_repository(command.repo)
    return RepositoryDeleted(command.repo)


async def preview(command: RepoDelete, client: QuayClient) -> ConfirmationNeeded:
    repository = await client.get_repository(command.repo)
    try:
        count: int | None = len(await client.list_notifications(command.repo, verify_repository=False))
    except QuayError:
        count = None  # the preview is still useful without it
    return ConfirmationNeeded(command, repository=repository, notification_count=count)


def confirmation(outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
    command, repo = outcome.command, outcome.repository
    assert isinstance(command, RepoDelete)
    question = t(locale, "Delete {repo}?", repo=code(command.repo.full_name))
    facts: list[str] = []
    if repo is not None:
        visibility = t(locale, "public") if repo.is_public else t(locale, "private")
        facts.append(t(locale, "Visibility: {visibility}", visibility=visibility))
        tags = repo.tag_count if repo.tag_count is not None else t(locale, "unknown")
        facts.append(t(locale, "Tags: {count}", count=tags))
    count = outcome.notification_count
    shown = count if count is not None else t(locale, "unknown (the token cannot list them)")
    facts.append(t(locale, "Notifications: {count}", count=shown))
    facts.append(t(locale, "Every tag and image goes with it. This cannot be undone."))
    return question, facts


def render(result: RepositoryDeleted, ctx: RenderContext) -> Message:
    return announce(ctx, "{who} deleted {repo}", repo=code(result.repo.full_name))


SPEC = CommandSpec(
    command=RepoDelete,
    definition=Definition(
        "repo",
        "delete",
        "delete a repository",
        Role.ADMIN,
        build,
        (Arg("repo"),),
        note="asks for confirmation",
        topic="repo",
    ),
    words=lambda command, masked: [str(command.repo)],
    run=run,
    render=render,
    results=(RepositoryDeleted,),
    destructive=lambda command: True,
    preview=preview,
    confirmation=confirmation,
)
