"""`/quay repo info <ns>/<name>`: the repository's card, with its recent tags, its notifications'
health, and the actions the channel's role allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.models.blocks import Block, MarkdownTextObject, Option, OverflowMenuElement, SectionBlock

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.ids import COMMAND_ACTION, REPO_MENU_ACTION, numbered
from bot.blocks.message import Message, actions, button, code, context, escape, fields, header, link, section, truncate
from bot.blocks.render import age, repository_url, size
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, repository
from bot.quay import QuayForbidden, QuayNotFound, QuayUnauthorized
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Notification, Repository, Tag, pushed_at
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run

RECENT_TAGS = 10


@dataclass(frozen=True)
class RepoInfo:
    repo: RepositoryRef
    command_name: ClassVar[str] = "repo info"


@dataclass(frozen=True)
class RepositoryShown:
    repository: Repository
    notifications: tuple[Notification, ...] | None = None  # None: the token cannot read them


def build(bound: Bound, context: ParseContext) -> RepoInfo:
    return RepoInfo(repository(bound.args[0], context))


async def run(command: RepoInfo, ctx: Run) -> RepositoryShown:
    repo = await ctx.quay.get_repository(command.repo)
    try:
        # Quay shows notifications to admins only: a card without them is still a card.
        notifications = tuple(await ctx.quay.list_notifications(command.repo, verify_repository=False))
    except (QuayForbidden, QuayNotFound, QuayUnauthorized):
        return RepositoryShown(repo, None)
    return RepositoryShown(repo, notifications)


def render(shown: RepositoryShown, ctx: RenderContext) -> Message:
    repo = shown.repository
    tags = ctx.t("not read") if repo.tag_count is None else f"{repo.tag_count}{'+' if repo.tag_count >= 500 else ''}"
    description = escape(repo.description) if repo.description else ctx.t("_no description_")
    menu = _menu(repo, ctx)
    visibility = ctx.t("public") if repo.is_public else ctx.t("private")
    blocks: list[Block] = [
        header(repo.full_name),
        fields(
            [
                (ctx.t("Visibility"), visibility),
                (ctx.t("State"), repo.state),
                (ctx.t("Tags"), tags),
                (ctx.t("Kind"), repo.kind),
            ]
        ),
        SectionBlock(
            text=MarkdownTextObject(text=truncate(f"*{ctx.t('Description')}*\n{description}", 3000)), accessory=menu
        ),
    ]
    recent = repo.recent_tags(RECENT_TAGS)
    if recent:
        lines = [_tag_line(tag, ctx) for tag in recent]
        rest = (repo.tag_count or 0) - len(recent)
        if rest > 0:
            lines.append(ctx.t("and {count} more", count=rest))
        blocks.append(section(f"*{ctx.t('Recent tags')}*\n" + "\n".join(lines)))
        # Each recent tag opens `tag info` (its history and Restore buttons).
        infos = [
            button(tag.name[:70], numbered(COMMAND_ACTION, index), f"tag info {repo.full_name}:{tag.name}")
            for index, tag in enumerate(recent[:5])
        ]
        blocks.append(actions(*infos))
    blocks.append(section(_notifications_summary(repo, shown.notifications, ctx)))
    can = (
        ctx.t("This token can administer it")
        if repo.can_admin
        else ctx.t("This token can write to it")
        if repo.can_write
        else ctx.t("This token can only read it")
    )
    blocks.append(context(link(repository_url(ctx, repo.full_name), ctx.t("Open in Quay")), can))
    return Message(f"{repo.full_name}: {'public' if repo.is_public else 'private'}, {repo.state}, {tags} tags", blocks)


def _tag_line(tag: Tag, ctx: RenderContext) -> str:
    parts = [code(tag.name)]
    if tag.size is not None:
        parts.append(size(tag.size))
    pushed = pushed_at(tag.last_modified)
    if pushed:
        parts.append(age(ctx.now - pushed, ctx))
    if tag.manifest_digest:
        parts.append(code(tag.manifest_digest.removeprefix("sha256:")[:12]))
    return " · ".join(parts)


def _notifications_summary(repo: Repository, notifications: tuple[Notification, ...] | None, ctx: RenderContext) -> str:
    title = f"*{ctx.t('Notifications')}*\n"
    if notifications is None:
        return title + ctx.t("not readable with this Quay token (Quay shows them to admins only)")
    if not notifications:
        return title + ctx.t("none")
    lines = []
    for n in notifications[:10]:
        health = (
            ctx.t(":rotating_light: disabled by Quay")
            if n.disabled
            else ctx.t(
                ":warning: {count} of {limit} failures", count=n.number_of_failures, limit=FAILURES_BEFORE_DISABLED
            )
            if n.number_of_failures
            else ctx.t(":white_check_mark: healthy")
        )
        lines.append(f"{code(n.event)} → {code(n.method)} {code(n.target)} · {health}")
    if len(notifications) > 10:
        more = ctx.t("and {count} more", count=len(notifications) - 10)
        lines.append(f"{more}: `/quay notify list {repo.full_name}`")
    return title + "\n".join(lines)


def _menu(repo: Repository, ctx: RenderContext) -> OverflowMenuElement | None:
    """The actions this channel's role allows, as the typed commands would run them."""
    if ctx.role is None or len(repo.full_name) > 120:
        return None
    name = repo.full_name
    options = [Option(value=f"notifications {name}", label=ctx.t("List notifications"))]
    if ctx.role >= Role.WRITE:
        options.append(Option(value=f"describe {name}", label=ctx.t("Edit description")))
    if ctx.role >= Role.ADMIN:
        other = "private" if repo.is_public else "public"
        label = ctx.t("Make private") if repo.is_public else ctx.t("Make public")
        options.append(Option(value=f"visibility {name} {other}", label=label))
        options.append(Option(value=f"delete {name}", label=ctx.t("Delete repository")))
    return OverflowMenuElement(action_id=REPO_MENU_ACTION, options=options)


SPEC = CommandSpec(
    command=RepoInfo,
    definition=Definition(
        "repo", "info", "show a repository", Role.READ, build, (Arg("repo"),), aliases=("get", "show"), topic="repo"
    ),
    words=lambda command, masked: [str(command.repo)],
    run=run,
    render=render,
    results=(RepositoryShown,),
    changes=False,
)
