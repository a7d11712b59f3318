"""The changes to a tag: `tag restore` (an earlier version back, confirmed), `tag move` (point it at
another manifest of the repository, confirmed when the tag exists), `tag expire` (a time, a
duration or never; refused in the past before Quay's bare 400) and `tag delete` (confirmed; the
answer says how long Quay keeps it restorable and offers Restore while it can)."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from typing import ClassVar

from slack_sdk.models.blocks import Block

from bot.access import Role
from bot.blocks.context import RenderContext
from bot.blocks.ids import COMMAND_ACTION
from bot.blocks.message import Message, actions, button, code, context
from bot.blocks.render import age, announce
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, tag_reference, usage
from bot.i18n import Phrase, t
from bot.outcomes import ConfirmationNeeded
from bot.quay import QuayClient
from bot.quay.errors import QuayInputError
from bot.quay.names import InvalidName, TagRef, check_tag, digest_prefix
from bot.quay.tags import Tags, TagVersion, short_digest
from bot.slices.spec import CommandSpec, Run
from bot.slices.tags import versions

DURATION = re.compile(r"(\d{1,6})([mhdw])")
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")
DEFAULT_RESTORABLE = 1_209_600  # Quay's default tag_expiration_s: two weeks


@dataclass(frozen=True)
class TagRestore:
    ref: TagRef
    digest: str  # a digest, or a prefix unique in the tag's history
    command_name: ClassVar[str] = "tag restore"


@dataclass(frozen=True)
class TagMove:
    ref: TagRef
    target: str  # a digest (or unique prefix) of the repository, or another of its tags
    command_name: ClassVar[str] = "tag move"


@dataclass(frozen=True)
class TagExpire:
    ref: TagRef
    when: str  # as written: 2h, 7d, 2026-12-31, never
    at: int | None = field(default=None, compare=False)  # epoch seconds, read when it was written
    command_name: ClassVar[str] = "tag expire"


@dataclass(frozen=True)
class TagDelete:
    ref: TagRef
    command_name: ClassVar[str] = "tag delete"


@dataclass(frozen=True)
class Plan:
    """A tag's change, as its confirmation shows it: from which version to which."""

    current: TagVersion | None
    to: TagVersion | None
    digest: str  # the full digest it goes to (or, for a delete, the one it leaves)
    restorable_for: int | None = None  # a delete: seconds Quay keeps the tag restorable
    expires_at: int | None = None  # an expiry: when (None: never)


@dataclass(frozen=True)
class TagChanged:
    command: TagRestore | TagMove | TagExpire | TagDelete
    plan: Plan


# Reading the words --------------------------------------------------------------------------------


def build_restore(bound: Bound, context: ParseContext) -> TagRestore:
    ref = tag_reference(bound.args[0], context)
    if digest_prefix(bound.args[1]) is None:
        raise usage(
            "{value} is not a digest: write sha256:… or at least its first 6 hex digits", value=bound.args[1][:40]
        )
    return TagRestore(ref, bound.args[1].lower())


def build_move(bound: Bound, context: ParseContext) -> TagMove:
    ref = tag_reference(bound.args[0], context)
    target = bound.args[1]
    if digest_prefix(target) is None:
        try:
            check_tag(target)
        except InvalidName:
            raise usage("{value} is neither a digest nor a tag", value=target[:40]) from None
    return TagMove(ref, target)


def build_expire(bound: Bound, context: ParseContext) -> TagExpire:
    ref = tag_reference(bound.args[0], context)
    return TagExpire(ref, bound.args[1].lower(), expiry(bound.args[1].lower(), time.time()))


def build_delete(bound: Bound, context: ParseContext) -> TagDelete:
    return TagDelete(tag_reference(bound.args[0], context))


def expiry(text: str, now: float) -> int | None:
    """Epoch seconds for `2h`, `7d`, `2w`, `90m`, `2026-12-31`, `2026-12-31T18:00` (UTC), or None for never."""
    if text == "never":
        return None
    if found := DURATION.fullmatch(text):
        return int(now) + int(found.group(1)) * UNITS[found.group(2)]
    if found := DATE.fullmatch(text):
        year, month, day, hour, minute = (int(g) if g else 0 for g in found.groups())
        try:
            at = calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))
            time.strptime(f"{year:04d}-{month:02d}-{day:02d}", "%Y-%m-%d")
        except (ValueError, OverflowError):
            raise usage("{value} is not a date", value=text[:40]) from None
        if at <= now:
            raise usage("{value} is in the past: Quay expires a tag at a time to come", value=text[:40])
        return at
    raise usage("write when the tag expires as 2h, 7d, 2w, a date (2026-12-31) or never; not {value}", value=text[:40])


# Resolving digests ----------------------------------------------------------------------------------


def _one(prefix: str, versions: list[TagVersion], where: str) -> TagVersion:
    hexed = digest_prefix(prefix) or ""
    found = {v.manifest_digest: v for v in versions if v.manifest_digest and v.manifest_digest[7:].startswith(hexed)}
    if not found:
        raise QuayInputError(Phrase("no version of {where} has the digest {digest}", where=where, digest=prefix))
    if len(found) > 1:
        raise QuayInputError(
            Phrase(
                "{digest} matches {count} versions of {where}: give more of it",
                digest=prefix,
                count=len(found),
                where=where,
            )
        )
    return next(iter(found.values()))


async def _restore_plan(command: TagRestore, quay: QuayClient) -> Plan:
    live, history = await versions(quay, command.ref)
    to = _one(command.digest, [v for v in history if v is not live], str(command.ref))
    assert to.manifest_digest is not None
    return Plan(live, to, to.manifest_digest)


async def _move_plan(command: TagMove, quay: QuayClient) -> Plan:
    live, _ = await versions(quay, command.ref)
    tags = Tags(quay)
    if digest_prefix(command.target) is None:  # another tag: its live manifest
        other, _ = await versions(quay, TagRef(command.ref.repo, command.target))
        if other is None or other.manifest_digest is None:
            raise QuayInputError(Phrase("{tag} is not a live tag", tag=f"{command.ref.repo}:{command.target}"))
        return Plan(live, other, other.manifest_digest)
    every = await tags.page(command.ref.repo, 1, every=True, limit=100)
    to = _one(command.target, list(every.tags), str(command.ref.repo))
    assert to.manifest_digest is not None
    return Plan(live, to, to.manifest_digest)


# Running ------------------------------------------------------------------------------------------


async def run_restore(command: TagRestore, ctx: Run) -> TagChanged:
    plan = await _restore_plan(command, ctx.quay)
    await Tags(ctx.quay).restore(command.ref, plan.digest)
    return TagChanged(command, plan)


async def run_move(command: TagMove, ctx: Run) -> TagChanged:
    plan = await _move_plan(command, ctx.quay)
    await Tags(ctx.quay).move(command.ref, plan.digest)
    return TagChanged(command, plan)


async def run_expire(command: TagExpire, ctx: Run) -> TagChanged:
    at = expiry(command.when, time.time())  # again: a confirmation or an approval may come later
    await Tags(ctx.quay).expire(command.ref, at)
    return TagChanged(command, Plan(None, None, "", expires_at=at))


async def run_delete(command: TagDelete, ctx: Run) -> TagChanged:
    live, _ = await versions(ctx.quay, command.ref)
    await Tags(ctx.quay).delete(command.ref)
    repository = await ctx.quay.get_repository(command.ref.repo, include_tags=False)
    restorable = repository.tag_expiration_s if repository.tag_expiration_s is not None else DEFAULT_RESTORABLE
    digest = live.manifest_digest if live is not None and live.manifest_digest else ""
    return TagChanged(command, Plan(live, None, digest, restorable))


async def preview_restore(command: TagRestore, quay: QuayClient) -> ConfirmationNeeded:
    return ConfirmationNeeded(command, details=await _restore_plan(command, quay))


async def preview_move(command: TagMove, quay: QuayClient) -> ConfirmationNeeded | None:
    plan = await _move_plan(command, quay)
    return None if plan.current is None else ConfirmationNeeded(command, details=plan)


async def preview_delete(command: TagDelete, quay: QuayClient) -> ConfirmationNeeded:
    live, _ = await versions(quay, command.ref)
    if live is None or live.manifest_digest is None:
        raise QuayInputError(Phrase("{tag} is not a live tag", tag=str(command.ref)))
    repository = await quay.get_repository(command.ref.repo, include_tags=False)
    return ConfirmationNeeded(command, repository=repository, details=Plan(live, None, live.manifest_digest))


# What is shown --------------------------------------------------------------------------------------


def _version(version: TagVersion | None, locale: str, now: float) -> str:
    if version is None or version.manifest_digest is None:
        return t(locale, "nothing (the tag does not exist yet)")
    pushed = age(now - version.start_ts, RenderContext("", locale=locale)) if version.start_ts else "?"
    return f"{code(short_digest(version.manifest_digest))} ({t(locale, 'pushed {age}', age=pushed)})"


def confirm_change(outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
    command, plan, now = outcome.command, outcome.details, time.time()
    assert isinstance(command, TagRestore | TagMove | TagDelete)
    tag = code(str(command.ref))
    if not isinstance(plan, Plan):  # asked only for the channel's approval: nothing was read to show
        target = command.target if isinstance(command, TagMove) else str(command.ref)
        return t(locale, "Move {tag} to {digest}?", tag=tag, digest=code(target)), []
    if isinstance(command, TagDelete):
        kept = outcome.repository.tag_expiration_s if outcome.repository else None
        days = (kept if kept is not None else DEFAULT_RESTORABLE) // 86400
        return t(locale, "Delete {tag}?", tag=tag), [
            t(locale, "Now: {version}", version=_version(plan.current, locale, now)),
            t(locale, "Quay keeps it restorable for {days} days (the repository's tag expiration).", days=days),
        ]
    question = (
        t(locale, "Restore {tag} to {digest}?", tag=tag, digest=code(short_digest(plan.digest)))
        if isinstance(command, TagRestore)
        else t(locale, "Move {tag} to {digest}?", tag=tag, digest=code(short_digest(plan.digest)))
    )
    to = plan.to
    then = ""
    if to is not None and to.start_ts:
        then = t(locale, "pushed {age}", age=age(now - to.start_ts, RenderContext("", locale=locale)))
    return question, [
        t(locale, "From: {version}", version=_version(plan.current, locale, now)),
        t(locale, "To: {digest} {then}", digest=code(short_digest(plan.digest)), then=then),
    ]


def render_change(changed: TagChanged, ctx: RenderContext) -> Message:
    command, plan = changed.command, changed.plan
    tag = code(str(command.ref))
    match command:
        case TagRestore():
            was = code(short_digest(plan.current.manifest_digest or "")) if plan.current else "-"
            return announce(
                ctx,
                "{who} restored {tag} to {digest} (it was {was})",
                tag=tag,
                digest=code(short_digest(plan.digest)),
                was=was,
            )
        case TagMove():
            return announce(ctx, "{who} pointed {tag} at {digest}", tag=tag, digest=code(short_digest(plan.digest)))
        case TagExpire():
            if plan.expires_at is None:
                return announce(ctx, "{who} made {tag} never expire", tag=tag)
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(plan.expires_at))
            return announce(ctx, "{who} set {tag} to expire at {when}", tag=tag, when=when)
        case TagDelete():
            message = announce(ctx, "{who} deleted {tag}", tag=tag)
            days = (plan.restorable_for or DEFAULT_RESTORABLE) // 86400
            blocks: list[Block] = [
                *message.blocks,
                context(ctx.t("Quay keeps it restorable for {days} days.", days=days)),
            ]
            if plan.digest:
                value = f"tag restore {command.ref} {plan.digest}"
                blocks.append(actions(button(ctx.t("Restore"), COMMAND_ACTION, value)))
            return Message(message.text, blocks, in_channel=message.in_channel)
    raise AssertionError(command)


def _ref_words(command: TagRestore | TagMove | TagExpire | TagDelete) -> list[str]:
    return [str(command.ref)]


def _namespace(command: TagRestore | TagMove | TagExpire | TagDelete) -> str:
    return command.ref.repo.namespace


def _subject(command: TagRestore | TagMove | TagExpire | TagDelete) -> str:
    return str(command.ref.repo)


TAG = Arg("tag")
RESTORE = CommandSpec(
    command=TagRestore,
    definition=Definition(
        "tag",
        "restore",
        "put a tag back to an earlier version",
        Role.WRITE,
        build_restore,
        (TAG, Arg("digest")),
        note="asks for confirmation; a digest's first characters do when they are unique",
        topic="tag",
    ),
    words=lambda command, masked: [*_ref_words(command), command.digest],
    run=run_restore,
    render=render_change,
    results=(TagChanged,),
    namespace=_namespace,
    subject=_subject,
    destructive=lambda command: True,
    preview=preview_restore,
    confirmation=confirm_change,
)
MOVE = CommandSpec(
    command=TagMove,
    definition=Definition(
        "tag",
        "move",
        "point a tag at another manifest (or another tag's)",
        Role.WRITE,
        build_move,
        (TAG, Arg("manifest")),
        note="asks for confirmation when the tag exists",
        topic="tag",
    ),
    words=lambda command, masked: [*_ref_words(command), command.target],
    run=run_move,
    render=render_change,
    results=(TagChanged,),
    namespace=_namespace,
    subject=_subject,
    destructive=lambda command: True,
    preview=preview_move,
    confirmation=confirm_change,
)
EXPIRE = CommandSpec(
    command=TagExpire,
    definition=Definition(
        "tag", "expire", "set when a tag expires, or never", Role.WRITE, build_expire, (TAG, Arg("when")), topic="tag"
    ),
    words=lambda command, masked: [*_ref_words(command), command.when],
    run=run_expire,
    render=render_change,
    results=(TagChanged,),
    namespace=_namespace,
    subject=_subject,
)
DELETE = CommandSpec(
    command=TagDelete,
    definition=Definition(
        "tag",
        "delete",
        "delete a tag (Quay keeps it restorable for a while)",
        Role.WRITE,
        build_delete,
        (TAG,),
        note="asks for confirmation",
        topic="tag",
    ),
    words=lambda command, masked: _ref_words(command),
    run=run_delete,
    render=render_change,
    results=(TagChanged,),
    namespace=_namespace,
    subject=_subject,
    destructive=lambda command: True,
    preview=preview_delete,
    confirmation=confirm_change,
)
