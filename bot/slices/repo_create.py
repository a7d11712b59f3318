"""`/quay repo create <ns>/<name> [--private|--public] [--description "<text>"]`, typed or from its
form; private unless --public. A create whose answer was lost is looked for before it is reported."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.forms import DESCRIPTION, NAME, NAMESPACE, REPO_CREATE, VISIBILITY, Invalid, Values, value
from bot.blocks.message import Message, link
from bot.blocks.render import announce, repository_url
from bot.commands.grammar import (
    DESCRIPTION_TOO_LONG,
    MAX_TEXT,
    Arg,
    Bound,
    Definition,
    Flag,
    ParseContext,
    limited,
    repository,
)
from bot.i18n import Phrase, t
from bot.quay import QuayClient, QuayError, QuayNotFound, QuayOutcomeUnknown
from bot.quay.models import CreatedRepository, Repository, Visibility
from bot.quay.names import InvalidName, RepositoryRef
from bot.slices.spec import CommandSpec, Form, Run

log = logging.getLogger(__name__)
# After a write whose answer was lost: how many reads, how far apart, before saying "not yet".
FOLLOW_UP_READS = 3
FOLLOW_UP_SPACING = 1.0


@dataclass(frozen=True)
class RepoCreate:
    repo: RepositoryRef
    visibility: Visibility = "private"
    description: str = ""
    command_name: ClassVar[str] = "repo create"


@dataclass(frozen=True)
class RepositoryCreated:
    created: CreatedRepository
    visibility: Visibility


def build(bound: Bound, context: ParseContext) -> RepoCreate:
    visibility: Literal["public", "private"] = "public" if bound.flags.get("--public") else "private"
    description = str(bound.flags.get("--description", ""))
    return RepoCreate(repository(bound.args[0], context), visibility, limited(description, DESCRIPTION_TOO_LONG))


def words(command: RepoCreate, masked: bool) -> list[str]:
    described = ["--description", command.description] if command.description else []
    return [str(command.repo), f"--{command.visibility}", *described]


async def run(command: RepoCreate, ctx: Run) -> RepositoryCreated:
    client = ctx.quay
    try:
        created = await client.create_repository(
            command.repo, visibility=command.visibility, description=command.description
        )
    except QuayOutcomeUnknown:
        # The answer was lost, and a slow Quay may still finish the write: look (a few times)
        # before reporting either way.
        repository = await _find_after_lost_answer(command, client)
        if repository is None:
            raise QuayOutcomeUnknown(
                Phrase(
                    "Quay did not answer in time, and {repo} does not exist yet; a slow Quay may still create "
                    "it. Running the command again is safe: if it was created meanwhile, Quay says it already "
                    "exists.",
                    repo=str(command.repo),
                )
            ) from None
        log.info("create confirmed by a follow-up read", extra={"repository": str(command.repo)})
        created = CreatedRepository(namespace=repository.namespace, name=repository.name, kind=repository.kind)
    return RepositoryCreated(created, command.visibility)


async def _find_after_lost_answer(command: RepoCreate, client: QuayClient) -> Repository | None:
    for attempt in range(FOLLOW_UP_READS):
        try:
            return await client.get_repository(command.repo, include_tags=False)
        except QuayNotFound:
            if attempt + 1 < FOLLOW_UP_READS:
                await asyncio.sleep(FOLLOW_UP_SPACING)
        except QuayError:
            return None
    return None


def render(result: RepositoryCreated, ctx: RenderContext) -> Message:
    name = f"{result.created.namespace}/{result.created.name}"
    return announce(
        ctx,
        "{who} created {repo} ({visibility})",
        repo=link(repository_url(ctx, name), name),
        visibility=ctx.t(result.visibility),
    )


# The form ------------------------------------------------------------------------------------


def read_form(values: Values, namespaces: Sequence[str], repo: str | None, loc: str) -> RepoCreate | Invalid:
    errors: dict[str, str] = {}
    namespace = value(values, NAMESPACE)
    if namespace not in namespaces:
        errors[NAMESPACE] = t(loc, "Pick one of this channel's namespaces.")
    name = value(values, NAME)
    ref: RepositoryRef | None = None
    if not name:
        errors[NAME] = t(loc, "Give the repository a name.")
    elif namespace in namespaces:
        try:
            ref = RepositoryRef.parse(f"{namespace}/{name}")
        except InvalidName as error:
            errors[NAME] = error.said(loc)
    description = value(values, DESCRIPTION) or ""
    if len(description) > MAX_TEXT:
        errors[DESCRIPTION] = t(loc, "{count} characters; {limit} at most.", count=len(description), limit=MAX_TEXT)
    if errors or ref is None:
        return Invalid(errors)
    if value(values, VISIBILITY) == "public":
        return RepoCreate(ref, "public", description)
    return RepoCreate(ref, "private", description)


SPEC = CommandSpec(
    command=RepoCreate,
    definition=Definition(
        "repo",
        "create",
        "create a repository",
        Role.WRITE,
        build,
        (Arg("repo"),),
        (
            Flag("--private", exclusive_with=("--public",)),
            Flag("--public", exclusive_with=("--private",)),
            Flag("--description", '"<text>"'),
        ),
        note="private unless --public",
        topic="repo",
    ),
    words=words,
    run=run,
    render=render,
    results=(RepositoryCreated,),
    form=Form(REPO_CREATE, read_form),
)
