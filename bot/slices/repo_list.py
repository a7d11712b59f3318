"""`/quay repo list [<namespace>] [--public] [--starred]`: a namespace's repositories, 20 a page,
with Previous/Next buttons whose values carry where the listing is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

from slack_sdk.models.blocks import Block

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.ids import LIST_NEXT_ACTION, LIST_PREVIOUS_ACTION, MAX_VALUE
from bot.blocks.message import Message, actions, button, chunk_lines, code, context, escape, link, section, truncate
from bot.blocks.render import repository_url
from bot.commands.grammar import Arg, Bound, Definition, Flag, ParseContext, said, usage
from bot.quay import QuayClient
from bot.quay.models import RepositoryPage, RepositorySummary
from bot.quay.names import InvalidName, check_namespace
from bot.slices.spec import CommandSpec, Run

# A listing in chat shows this many repositories a page (Quay's own pages hold 100).
PAGE_SIZE = 20
QUAY_PAGE_SIZE = 100
DESCRIPTION_IN_LIST = 80


@dataclass(frozen=True)
class ListPosition:
    """Where a paged listing is: our page (20 repositories), Quay's page tokens near it (Quay pages
    by 100), and the first repository Quay listed, to notice a token Quay no longer accepts."""

    page: int = 0
    tokens: tuple[tuple[int, str], ...] = ()  # (Quay page index, next_page token that reaches it)
    first: str | None = None


@dataclass(frozen=True)
class RepoList:
    namespace: str
    public: bool = False
    starred: bool = False
    position: ListPosition = field(default_factory=ListPosition, compare=False)
    command_name: ClassVar[str] = "repo list"


@dataclass(frozen=True)
class RepositoryListed:
    """One page of a listing, and where the pages before and after it are."""

    command: RepoList
    repositories: tuple[RepositorySummary, ...]
    page: int = 0
    previous: ListPosition | None = None
    next: ListPosition | None = None
    restarted: bool = False  # Quay no longer took the page token (2 days old, or garbled): page 1 again

    @property
    def namespace(self) -> str:
        return self.command.namespace


def build(bound: Bound, context: ParseContext) -> RepoList:
    if bound.args:
        namespace = bound.args[0]
    elif context.default_namespace:
        namespace = context.default_namespace
    elif context.namespaces:
        raise usage("name the namespace: this channel maps to {namespaces}", namespaces=", ".join(context.namespaces))
    else:
        raise usage("name the namespace to list")
    try:
        check_namespace(namespace)
    except InvalidName as error:
        raise said(error) from None
    return RepoList(namespace, public=bool(bound.flags.get("--public")), starred=bool(bound.flags.get("--starred")))


def words(command: RepoList, masked: bool) -> list[str]:
    return [command.namespace, *["--public"] * command.public, *["--starred"] * command.starred]


async def run(command: RepoList, ctx: Run) -> RepositoryListed:
    """One page of 20. Quay pages by 100 with opaque `next_page` tokens (2 days old at most), so the
    tokens near the page travel with it; a token Quay no longer takes silently gives its first
    page again, which is noticed by its first repository and said."""
    client = ctx.quay
    position = command.position
    quay_page, skip = divmod(position.page * PAGE_SIZE, QUAY_PAGE_SIZE)
    tokens = dict(position.tokens)
    page = await _quay_page(command, client, quay_page, tokens)
    first = position.first
    restarted = bool(quay_page and first and page.repositories and page.repositories[0].full_name == first)
    if restarted:
        quay_page, skip, tokens = 0, 0, {1: page.next_page} if page.next_page else {}
    if quay_page == 0 and page.repositories:
        first = page.repositories[0].full_name
    if page.next_page:
        tokens[quay_page + 1] = page.next_page
    number = 0 if restarted else position.page
    shown = tuple(
        r for r in page.repositories[skip : skip + PAGE_SIZE] if r.namespace == command.namespace
    )  # --public and --starred widen Quay's answer beyond the namespace
    more = skip + PAGE_SIZE < len(page.repositories) or page.next_page is not None

    def at(number: int) -> ListPosition:
        near = range((number * PAGE_SIZE) // QUAY_PAGE_SIZE - 1, (number * PAGE_SIZE) // QUAY_PAGE_SIZE + 2)
        return ListPosition(number, tuple(sorted((q, t) for q, t in tokens.items() if q in near)), first)

    return RepositoryListed(
        command,
        shown,
        number,
        at(number - 1) if number > 0 else None,
        at(number + 1) if more else None,
        restarted,
    )


async def _quay_page(command: RepoList, client: QuayClient, index: int, tokens: dict[int, str]) -> RepositoryPage:
    """Quay's page `index`: with its token when the position carries it, else walked to from the
    nearest page it does carry (or from the start); the tokens met on the way are added to `tokens`."""
    start = max([q for q in tokens if q <= index], default=0)
    token = tokens.get(start) if start else None
    while True:
        page = await client.list_repositories(
            command.namespace, public=command.public, starred=command.starred, next_page=token
        )
        if start == index or not page.next_page:
            return page
        start, token = start + 1, page.next_page
        tokens[start] = token


def _line(repo: RepositorySummary, ctx: RenderContext) -> str:
    parts = [
        link(repository_url(ctx, repo.full_name), repo.full_name),
        ctx.t("public") if repo.is_public else ctx.t("private"),
    ]
    if repo.state != "NORMAL":
        parts.append(repo.state)
    if repo.description:
        parts.append(escape(truncate(" ".join(repo.description.split()), DESCRIPTION_IN_LIST)))
    return "• " + " · ".join(parts)


def render(result: RepositoryListed, ctx: RenderContext) -> Message:
    repos, namespace = result.repositories, result.namespace
    first = result.page * PAGE_SIZE + 1
    blocks: list[Block] = []
    if result.restarted:
        blocks.append(
            context(
                ctx.t(
                    ":information_source: Quay no longer takes this listing's page position (it lasts 2 days), "
                    "so this is the first page again."
                )
            )
        )
    if repos:
        title = ctx.t(
            "*Repositories in {namespace}*, page {page} ({first}–{last})",
            namespace=code(namespace),
            page=result.page + 1,
            first=first,
            last=first + len(repos) - 1,
        )
        blocks.append(section(title))
        blocks += [section(chunk) for chunk in chunk_lines([_line(r, ctx) for r in repos])]
    elif result.page:
        blocks.append(section(ctx.t("No repositories in {namespace} on this page.", namespace=code(namespace))))
    else:
        blocks.append(
            section(ctx.t("No repositories in {namespace} that this token can see.", namespace=code(namespace)))
        )
    buttons = []
    if result.previous is not None:
        buttons.append(button(ctx.t("Previous"), LIST_PREVIOUS_ACTION, list_value(result.command, result.previous)))
    if result.next is not None:
        buttons.append(button(ctx.t("Next"), LIST_NEXT_ACTION, list_value(result.command, result.next)))
    if buttons:
        blocks.append(actions(*buttons))
    if repos or result.page:
        hint = ctx.t("{command} for one of them", command=f"`/quay repo info {namespace}/<name>`")
    elif ctx.role is not None and ctx.role >= Role.WRITE:
        hint = ctx.t("{command} makes one", command=f"`/quay repo create {namespace}/<name>`")
    else:
        hint = ""  # nothing to pick from, and no right to make one
    in_quay = link(f"{ctx.quay_url}/organization/{namespace}", ctx.t("{namespace} in Quay", namespace=namespace))
    blocks.append(context(f"{hint} · {in_quay}" if hint else in_quay))
    names = ", ".join(r.name for r in repos[:10]) + (" …" if len(repos) > 10 else "") if repos else ctx.t("none")
    text = ctx.t("Repositories in {namespace}, page {page}:", namespace=namespace, page=result.page + 1) + " " + names
    return Message(text, blocks)


# The Previous/Next buttons' values ---------------------------------------------------------------


def list_value(command: RepoList, position: ListPosition) -> str:
    """A page of a listing, as a button value: the listing and where it is (Quay tokens included,
    while they fit; without them the page is walked to from the start)."""
    data = {
        "ns": command.namespace,
        "pub": command.public,
        "star": command.starred,
        "p": position.page,
        "t": [list(pair) for pair in position.tokens],
        "f": position.first,
    }
    text = json.dumps(data, separators=(",", ":"))
    if len(text) > MAX_VALUE:
        text = json.dumps(data | {"t": []}, separators=(",", ":"))
    return text


def parse_list_value(value: str) -> RepoList:
    """Raises ValueError for anything list_value did not make."""
    try:
        data = json.loads(value)
        tokens = tuple((int(q), str(t)) for q, t in data["t"])
        page, first = int(data["p"]), data["f"]
        namespace = check_namespace(str(data["ns"]))
        if page < 0 or page > 10_000 or not (first is None or isinstance(first, str)):
            raise ValueError("page out of range")
        return RepoList(namespace, bool(data["pub"]), bool(data["star"]), ListPosition(page, tokens, first))
    except (KeyError, TypeError, InvalidName) as error:
        raise ValueError(str(error)) from None


SPEC = CommandSpec(
    command=RepoList,
    definition=Definition(
        "repo",
        "list",
        "list the repositories of a namespace",
        Role.READ,
        build,
        (Arg("namespace", optional=True),),
        (Flag("--public"), Flag("--starred")),
        topic="repo",
    ),
    words=words,
    run=run,
    render=render,
    results=(RepositoryListed,),
    namespace=lambda command: str(command.namespace),
    subject=lambda command: None,
    changes=False,
)
