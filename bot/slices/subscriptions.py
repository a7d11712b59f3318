"""`/quay subscribe`, `/quay unsubscribe` and `/quay subscriptions`: a channel's subscriptions to the
Quay events of a repository or of a whole namespace (the Quay side is `bot/subscriptions/`).
A namespace-wide subscription asks to confirm above `CONFIRM_ABOVE` new webhooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from slack_sdk.models.blocks import Block

from bot.access import AccessPolicy, Allowed, Caller, Role
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, chunk_lines, code, escape, header, section
from bot.blocks.render import plain_fallback
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, UsageProblem, meant, said, short
from bot.i18n import plural, t
from bot.outcomes import ConfirmationNeeded, NotAvailable
from bot.quay.catalogue import EVENTS
from bot.quay.names import InvalidName, RepositoryRef, check_namespace
from bot.slices.spec import CommandSpec, Run
from bot.subscriptions.manager import CONFIRM_ABOVE, NotConfigured, SubscriptionManager
from bot.subscriptions.reports import (
    NotSubscribed,
    Subscribed,
    SubscriptionsListed,
    SubscriptionTarget,
    Unsubscribed,
)

# The events a subscription gets when none are named.
DEFAULT_EVENTS = ("repo_push", "build_failure", "vulnerability_found")
EVENTS_ARG = Arg("event", optional=True, many=True)


@dataclass(frozen=True)
class Subscribe:
    target: SubscriptionTarget
    events: tuple[str, ...] = DEFAULT_EVENTS
    command_name: ClassVar[str] = "subscribe"


@dataclass(frozen=True)
class Unsubscribe:
    target: SubscriptionTarget
    events: tuple[str, ...] = ()  # none: every event
    command_name: ClassVar[str] = "unsubscribe"


@dataclass(frozen=True)
class Subscriptions:
    command_name: ClassVar[str] = "subscriptions"


# Reading the words -------------------------------------------------------------------------------


def _target(word: str) -> SubscriptionTarget:
    namespace, slash, _ = word.partition("/")
    try:
        if slash:
            ref = RepositoryRef.parse(word)
            return SubscriptionTarget(ref.namespace, ref.name)
        return SubscriptionTarget(check_namespace(namespace))
    except InvalidName as error:
        raise said(error) from None


def _events(words: Sequence[str], locale: str) -> tuple[str, ...]:
    events: list[str] = []
    for word in words:
        event = word.lower()
        if event not in EVENTS:
            problem = t(locale, "unknown event `{word}`; events: {events}", word=short(word), events=", ".join(EVENTS))
            raise UsageProblem(meant(problem, event, EVENTS))
        if event not in events:
            events.append(event)
    return tuple(events)


def build_subscribe(bound: Bound, context: ParseContext) -> Subscribe:
    events = _events(bound.args[1:], context.locale)
    target = _target(bound.args[0])
    return Subscribe(target, events) if events else Subscribe(target)


def build_unsubscribe(bound: Bound, context: ParseContext) -> Unsubscribe:
    return Unsubscribe(_target(bound.args[0]), _events(bound.args[1:], context.locale))


def build_subscriptions(bound: Bound, context: ParseContext) -> Subscriptions:
    return Subscriptions()


# Running -----------------------------------------------------------------------------------------

Command = Subscribe | Unsubscribe | Subscriptions


async def _with_manager(
    command: Command, ctx: Run, work: Callable[[Any, Run, SubscriptionManager], Awaitable[object]]
) -> object:
    manager = ctx.subscriptions
    if manager is None:
        return NotAvailable(command, "Subscriptions need the bot's database.", "Run it from Slack or `quaybot run`.")
    try:
        return await work(command, ctx, manager)
    except NotConfigured as missing:
        loc = ctx.policy.locale_of(ctx.caller.channel_id)
        reason = t(loc, missing.reason, **missing.params)
        return NotAvailable(command, reason, t(loc, missing.remedy, **missing.params))


async def _subscribe(command: Subscribe, ctx: Run, manager: SubscriptionManager) -> object:
    repositories = None
    channel = ctx.caller.channel_id
    if command.target.repository is None and not ctx.confirmed:
        count, repositories = await manager.new_notifications(command, channel, ctx.quay)
        if count > CONFIRM_ABOVE:
            return ConfirmationNeeded(command, new_notifications=count)
    subscribed = await manager.subscribe(command, channel, ctx.caller.user_id, ctx.quay, repositories)
    return replace(subscribed, watched=bool(ctx.policy.alert_channels(command.target.namespace)))


async def _unsubscribe(command: Unsubscribe, ctx: Run, manager: SubscriptionManager) -> object:
    return await manager.unsubscribe(command, ctx.caller.channel_id, ctx.quay)


async def _listing(command: Subscriptions, ctx: Run, manager: SubscriptionManager) -> object:
    return await manager.listing(ctx.caller.channel_id)


def repository_meant(command: Subscribe | Unsubscribe, caller: Caller, policy: AccessPolicy) -> str:
    """`subscribe api` in a channel mapped to `team-a` alone reads `api` as a namespace (the grammar
    is `<ns>[/<name>]`), where every other command reads a bare word as `team-a/api`: when that
    namespace is refused, say how to name the repository."""
    if command.target.repository is not None:
        return ""
    allowed = policy.check_channel(caller)
    if not isinstance(allowed, Allowed) or allowed.access.default_namespace is None:
        return ""
    if command.target.namespace in allowed.access.namespaces:
        return ""  # refused for its role, not for the name
    repo = f"{allowed.access.default_namespace}/{command.target.namespace}"
    return " " + t(
        allowed.access.locale,
        "For the repository {repo}, write {command}.",
        repo=f"`{repo}`",
        command=f"`/quay {command.command_name} {repo}`",
    )


def confirmation(outcome: ConfirmationNeeded, locale: str) -> tuple[str, list[str]]:
    command = outcome.command
    assert isinstance(command, Subscribe)
    question = t(
        locale,
        "Subscribe this channel to every repository of {namespace}?",
        namespace=code(command.target.namespace),
    )
    facts = [
        plural(
            locale,
            outcome.new_notifications or 0,
            "It adds {count} webhook notification in Quay: one per repository and event.",
            "It adds {count} webhook notifications in Quay: one per repository and event.",
        ),
        t(locale, "Events: {events}", events=", ".join(code(e) for e in command.events)),
        t(locale, "`/quay unsubscribe` removes exactly these again."),
    ]
    return question, facts


# Rendering ---------------------------------------------------------------------------------------


def render(result: Subscribed | Unsubscribed | NotSubscribed | SubscriptionsListed, ctx: RenderContext) -> Message:
    who = f"<@{ctx.user_id}>" if ctx.user_id else "quaybot"
    match result:
        case Subscribed():
            events = ", ".join(code(e) for e in result.events)
            target = code(str(result.target))
            if result.target.repository is None:
                line = ctx.t(
                    "{who} subscribed this channel to every repository of {target}: {events}",
                    who=who,
                    target=target,
                    events=events,
                )
            else:
                line = ctx.t(
                    "{who} subscribed this channel to {target}: {events}", who=who, target=target, events=events
                )
            added = plural(
                ctx.locale, result.created, "{count} Quay notification added", "{count} Quay notifications added"
            )
            covered = plural(ctx.locale, result.repositories, "{count} repository", "{count} repositories")
            facts = [ctx.t("{added}, {kept} already there; {covered}.", added=added, kept=result.kept, covered=covered)]
            if result.problem:
                facts.append(
                    ctx.t(
                        ":warning: Stopped short: {problem} The bot tries again every minute.",
                        problem=escape(result.problem.said(ctx.locale)),
                    )
                )
            if not result.watched:
                facts.append(
                    ctx.t(
                        "No channel has `alerts: true` for {namespace}, so nobody will be told if Quay cannot reach "
                        "the bot. An operator can turn it on in the access file.",
                        namespace=code(result.target.namespace),
                    )
                )
            text = ":white_check_mark: " + line + "\n" + "\n".join(facts)
            return Message(plain_fallback(line), [section(text)], in_channel=True)
        case Unsubscribed():
            line = ctx.t(
                "{who} unsubscribed this channel from {target}: {events}",
                who=who,
                target=code(str(result.target)),
                events=", ".join(code(e) for e in result.removed),
            )
            deleted = plural(
                ctx.locale, result.deleted, "{count} Quay notification deleted", "{count} Quay notifications deleted"
            )
            if result.already_gone:
                fact = ctx.t("{deleted}, {gone} already gone.", deleted=deleted, gone=result.already_gone)
            else:
                fact = ctx.t("{deleted}.", deleted=deleted)
            facts = [fact]
            if result.remaining:
                facts.append(ctx.t("Still subscribed: {events}", events=", ".join(code(e) for e in result.remaining)))
            if result.problem:
                facts.append(
                    ctx.t(
                        ":warning: Stopped short: {problem} Run it again to finish.",
                        problem=escape(result.problem.said(ctx.locale)),
                    )
                )
            text = ":white_check_mark: " + line + "\n" + "\n".join(facts)
            return Message(plain_fallback(line), [section(text)], in_channel=True)
        case NotSubscribed():
            has = ", ".join(code(target) for target in result.channel_has) or ctx.t("nothing")
            text = ctx.t(
                "This channel has no subscription to {target}. It is subscribed to: {has}.",
                target=code(str(result.target)),
                has=has,
            )
            return Message(plain_fallback(text), [section(text)])
        case SubscriptionsListed():
            if not result.lines:
                text = ctx.t("This channel has no subscriptions. `/quay subscribe <ns>/<name>` adds one.")
                return Message(text, [section(text)])
            lines = [
                f"{code(s.target)}{ctx.t(' (every repository)') if '/' not in s.target else ''}: "
                + ", ".join(code(e) for e in s.events)
                + " · "
                + plural(ctx.locale, s.notifications, "{count} Quay notification", "{count} Quay notifications")
                + " · "
                + ctx.t("by {who}", who=f"<@{s.created_by}>")
                for s in result.lines
            ]
            blocks: list[Block] = [header(ctx.t("Subscriptions of this channel"))]
            blocks += [section(chunk) for chunk in chunk_lines(lines)][:45]
            summary = plural(ctx.locale, len(result.lines), "{count} subscription:", "{count} subscriptions:")
            return Message(plain_fallback(summary + " " + "; ".join(s.target for s in result.lines)), blocks)


def _target_words(command: Subscribe | Unsubscribe, masked: bool) -> list[str]:
    return [str(command.target), *command.events]


RESULTS = (Subscribed, Unsubscribed, NotSubscribed, SubscriptionsListed)
TARGET = Arg("target")
SUBSCRIBE = CommandSpec(
    command=Subscribe,
    definition=Definition(
        None,
        "subscribe",
        "post a repository's Quay events here",
        Role.WRITE,
        build_subscribe,
        (TARGET, EVENTS_ARG),
        note="a namespace alone: all of its repositories, now and later; "
        "default events: repo_push build_failure vulnerability_found",
        topic="subscribe",
    ),
    words=_target_words,
    run=lambda command, ctx: _with_manager(command, ctx, _subscribe),
    render=render,
    results=(Subscribed,),
    namespace=lambda command: str(command.target.namespace),
    subject=lambda command: str(command.target),
    confirmation=confirmation,
    refusal_hint=repository_meant,
    needs_database=True,
    acts_as_bot=True,
)
UNSUBSCRIBE = CommandSpec(
    command=Unsubscribe,
    definition=Definition(
        None,
        "unsubscribe",
        "stop posting events here",
        Role.WRITE,
        build_unsubscribe,
        (TARGET, EVENTS_ARG),
        note="every event when none is named",
        topic="subscribe",
    ),
    words=_target_words,
    run=lambda command, ctx: _with_manager(command, ctx, _unsubscribe),
    render=render,
    results=(Unsubscribed, NotSubscribed),
    namespace=lambda command: str(command.target.namespace),
    subject=lambda command: str(command.target),
    refusal_hint=repository_meant,
    needs_database=True,
    acts_as_bot=True,
)
SUBSCRIPTIONS = CommandSpec(
    command=Subscriptions,
    definition=Definition(
        None, "subscriptions", "this channel's subscriptions", Role.READ, build_subscriptions, topic="subscribe"
    ),
    words=lambda command, masked: [],
    run=lambda command, ctx: _with_manager(command, ctx, _listing),
    render=render,
    results=(SubscriptionsListed,),
    namespace=lambda command: None,
    subject=lambda command: None,
    changes=False,
    needs_database=True,
)
