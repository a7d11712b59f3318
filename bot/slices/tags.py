"""`/quay tag list <ns>/<name> [--all] [--page N]` and `/quay tag info <ns>/<name>:<tag>`: what is
deployed and what it was before. `tag info` shows the live version (who pushed it, from Quay's usage
logs where the token may read them), the other tags on its manifest, its vulnerabilities where Quay
has a scanner, and each earlier version with a Restore button (the same `tag restore`, confirmed)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.ids import COMMAND_ACTION, COMMAND_PAGE_ACTION, numbered
from bot.blocks.message import Message, actions, button, chunk_lines, code, context, escape, fields, header, section
from bot.blocks.render import age, plain_fallback, size
from bot.commands.grammar import Arg, Bound, Definition, Flag, ParseContext, repository, tag_reference, usage
from bot.quay import QuayClient
from bot.quay.errors import QuayError
from bot.quay.names import RepositoryRef, TagRef
from bot.quay.tags import Pusher, SecurityReport, Tags, TagVersion, pusher_of, short_digest
from bot.slices.spec import CommandSpec, Run

HISTORY_SHOWN = 8


@dataclass(frozen=True)
class TagList:
    repo: RepositoryRef
    every: bool = False
    page: int = 1
    command_name: ClassVar[str] = "tag list"


@dataclass(frozen=True)
class TagsListed:
    command: TagList
    tags: tuple[TagVersion, ...]
    has_more: bool


@dataclass(frozen=True)
class TagInfo:
    ref: TagRef
    command_name: ClassVar[str] = "tag info"


@dataclass(frozen=True)
class TagShown:
    ref: TagRef
    live: TagVersion | None
    earlier: tuple[TagVersion, ...]
    siblings: tuple[str, ...]  # other active tags on the live manifest
    pusher: Pusher | None
    logs_readable: bool
    security: SecurityReport | None
    scanner: bool  # False: this Quay has no security scanner (its 404)
    security_error: str | None = None


def is_live(version: TagVersion, now: float) -> bool:
    return version.end_ts is None or version.end_ts > now


async def versions(quay: QuayClient, ref: TagRef) -> tuple[TagVersion | None, list[TagVersion]]:
    """The tag's live version (None: it is not live) and its whole history, newest first."""
    history = await Tags(quay).history(ref)
    now = time.time()
    return next((v for v in history if is_live(v, now)), None), history


async def previous_digest(quay: QuayClient, ref: TagRef) -> str | None:
    """The digest of the tag's newest version that is no longer live (what a push replaced)."""
    live, history = await versions(quay, ref)
    current = live.manifest_digest if live is not None else None
    earlier = [v for v in history if v is not live and v.manifest_digest and v.manifest_digest != current]
    return earlier[0].manifest_digest if earlier else None


# tag list ---------------------------------------------------------------------------------------


def build_list(bound: Bound, context: ParseContext) -> TagList:
    page_text = str(bound.flags.get("--page") or "1")
    if not page_text.isdigit() or not 1 <= int(page_text) <= 1000:
        raise usage("--page takes a page number from 1 to 1000, not {value}", value=page_text[:20])
    return TagList(repository(bound.args[0], context), bool(bound.flags.get("--all")), int(page_text))


def list_words(command: TagList, masked: bool) -> list[str]:
    words = [str(command.repo)]
    if command.every:
        words.append("--all")
    if command.page > 1:
        words += ["--page", str(command.page)]
    return words


async def run_list(command: TagList, ctx: Run) -> TagsListed:
    page = await Tags(ctx.quay).page(command.repo, command.page, every=command.every)
    return TagsListed(command, page.tags, page.has_more)


def render_list(listed: TagsListed, ctx: RenderContext) -> Message:
    command = listed.command
    title = ctx.t("Tags of {repo}", repo=command.repo.full_name)
    blocks: list[Block] = [header(title)]
    if command.every:
        blocks.append(context(ctx.t("Every version, also those expired or deleted that Quay can still restore.")))
    lines = [_version_line(v, ctx, name=True) for v in listed.tags]
    if not lines:
        blocks.append(section(ctx.t("No tags.")))
    blocks += [section(chunk) for chunk in chunk_lines(lines)]
    buttons = []
    base = f"tag list {command.repo}" + (" --all" if command.every else "")
    if command.page > 1:
        buttons.append(button(ctx.t("Previous"), COMMAND_PAGE_ACTION, f"{base} --page {command.page - 1}"))
    if listed.has_more:
        next_id = numbered(COMMAND_PAGE_ACTION, len(buttons))
        buttons.append(button(ctx.t("Next"), next_id, f"{base} --page {command.page + 1}"))
    if buttons:
        blocks.append(actions(*buttons))
    blocks.append(
        context(ctx.t("Page {page}; `/quay tag info {repo}:<tag>` for one tag.", page=command.page, repo=command.repo))
    )
    summary = ", ".join(v.name for v in listed.tags[:20]) or ctx.t("No tags.")
    return Message(plain_fallback(f"{title}: {summary}"), blocks)


def _version_line(version: TagVersion, ctx: RenderContext, *, name: bool) -> str:
    parts = [code(version.name)] if name else []
    if version.manifest_digest:
        parts.append(code(short_digest(version.manifest_digest)))
    if version.size is not None:
        parts.append(size(version.size))
    if version.start_ts:
        parts.append(age(ctx.now - version.start_ts, ctx))
    if version.end_ts is not None:
        ended = version.end_ts <= ctx.now
        when = _date(version.end_ts)
        parts.append(ctx.t("ended {when}", when=when) if ended else ctx.t("expires {when}", when=when))
    if version.reversion:
        parts.append(ctx.t("restored"))
    return " · ".join(parts)


def _date(ts: float) -> str:
    return f"<!date^{int(ts)}^{{date_short_pretty}} {{time}}|{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(ts))}>"


# tag info ---------------------------------------------------------------------------------------


def build_info(bound: Bound, context: ParseContext) -> TagInfo:
    return TagInfo(tag_reference(bound.args[0], context))


async def run_info(command: TagInfo, ctx: Run) -> TagShown:
    tags = Tags(ctx.quay)
    ref = command.ref
    live, history = await versions(ctx.quay, ref)
    earlier = tuple(v for v in history if v is not live and v.manifest_digest)
    siblings: tuple[str, ...] = ()
    security, scanner, security_error = None, True, None
    if live is not None and live.manifest_digest:
        active = await tags.page(ref.repo, 1, limit=100)
        siblings = tuple(t.name for t in active.tags if t.manifest_digest == live.manifest_digest and t.name != ref.tag)
        try:
            security = await tags.security(ref.repo, live.manifest_digest)
            scanner = security is not None
        except QuayError as error:
            security_error = error.said(ctx.policy.locale_of(ctx.caller.channel_id))
    try:
        logs = await tags.logs(ref.repo)
    except QuayError:  # Quay busy or down for this one read: the rest of the card stands, without "by"
        logs = ()
    return TagShown(
        ref,
        live,
        earlier,
        siblings,
        pusher_of(logs or (), ref.tag),
        logs is not None,
        security,
        scanner,
        security_error,
    )


def render_info(shown: TagShown, ctx: RenderContext) -> Message:
    ref = shown.ref
    blocks: list[Block] = [header(str(ref))]
    live = shown.live
    if live is None:
        text = ctx.t("{tag} is not live: it was deleted or expired, or never pushed.", tag=code(str(ref)))
        blocks.append(section(text))
    else:
        pushed = age(ctx.now - live.start_ts, ctx) if live.start_ts else "?"
        if shown.pusher is not None:
            pushed += " · " + ctx.t("by {who}", who=code(shown.pusher.who))
        elif not shown.logs_readable:
            pushed += " · " + ctx.t("who pushed it is in Quay's usage logs, which this token may not read")
        expiry = _date(live.end_ts) if live.end_ts is not None else ctx.t("never")
        blocks.append(
            fields(
                [
                    (ctx.t("Digest"), code(live.manifest_digest or "?")),
                    (ctx.t("Size"), size(live.size) if live.size is not None else "?"),
                    (ctx.t("Pushed"), pushed),
                    (ctx.t("Expires"), expiry),
                ]
            )
        )
        if shown.siblings:
            blocks.append(
                context(ctx.t("Also on this manifest: {tags}", tags=", ".join(code(t) for t in shown.siblings[:20])))
            )
        blocks.append(section(_security(shown, ctx)))
    if shown.earlier:
        blocks.append(section(f"*{ctx.t('History')}*"))
        for index, version in enumerate(shown.earlier[:HISTORY_SHOWN]):
            start = _date(version.start_ts) if version.start_ts else "?"
            end = _date(version.end_ts) if version.end_ts else "?"
            line = f"{code(short_digest(version.manifest_digest or '?'))} · " + ctx.t(
                "live from {start} to {end}", start=start, end=end
            )
            value = f"tag restore {ref} {version.manifest_digest}"
            restore = button(ctx.t("Restore"), numbered(COMMAND_ACTION, index), value)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=line), accessory=restore))
        if len(shown.earlier) > HISTORY_SHOWN:
            blocks.append(context(ctx.t("and {count} more", count=len(shown.earlier) - HISTORY_SHOWN)))
    else:
        blocks.append(context(ctx.t("No earlier version to restore.")))
    summary = f"{ref}: {short_digest(live.manifest_digest)}" if live and live.manifest_digest else str(ref)
    return Message(plain_fallback(summary), blocks)


def _security(shown: TagShown, ctx: RenderContext) -> str:
    title = f"*{ctx.t('Vulnerabilities')}*\n"
    if shown.security_error:
        return title + escape(shown.security_error)
    if not shown.scanner:
        return title + ctx.t("This Quay has no security scanner.")
    report = shown.security
    if report is None or report.status != "scanned":
        return title + ctx.t("Not scanned yet ({status}).", status=report.status if report else "?")
    if not report.counts:
        return title + ctx.t("None found.")
    counts = ", ".join(f"{severity}: {count}" for severity, count in report.counts.items())
    worst = [
        f"{code(f.name)} {escape(f.package)} {escape(f.version)}"
        + (" → " + ctx.t("fixed in {version}", version=escape(f.fixed_by)) if f.fixed_by else "")
        for f in report.worst
    ]
    return title + counts + ("\n" + "\n".join(worst) if worst else "")


LIST = CommandSpec(
    command=TagList,
    definition=Definition(
        "tag",
        "list",
        "a repository's tags, newest first",
        Role.READ,
        build_list,
        (Arg("repo"),),
        (Flag("--all"), Flag("--page", value="N")),
        note="--all: also those expired or deleted that can still be restored",
        topic="tag",
    ),
    words=list_words,
    run=run_list,
    render=render_list,
    results=(TagsListed,),
    changes=False,
)
INFO = CommandSpec(
    command=TagInfo,
    definition=Definition(
        "tag",
        "info",
        "a tag: digest, who pushed it, its history with Restore buttons",
        Role.READ,
        build_info,
        (Arg("tag"),),
        aliases=("show", "get"),
        topic="tag",
    ),
    words=lambda command, masked: [str(command.ref)],
    run=run_info,
    render=render_info,
    results=(TagShown,),
    namespace=lambda command: command.ref.repo.namespace,
    subject=lambda command: str(command.ref.repo),
    changes=False,
)
