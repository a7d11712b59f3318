"""Outcomes to Slack messages. Every message has Block Kit blocks and a plain `text` fallback.

Help, reads, usage errors, denials and failures are ephemeral; successful changes go to the channel
so the team sees who changed what. No notification secret is ever shown unmasked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    Block,
    ConfirmObject,
    DividerBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from bot.access import Role
from bot.blocks.ids import (
    CANCEL_ACTION,
    CONFIRM_ACTION,
    LIST_NEXT_ACTION,
    LIST_PREVIOUS_ACTION,
    NO_VALUE,
    OPEN_NOTIFY_CREATE,
    OPEN_REPO_CREATE,
    REPO_MENU_ACTION,
    RESET_ACTION,
    list_value,
    reset_value,
)
from bot.blocks.message import (
    Message,
    actions,
    button,
    chunk_lines,
    code,
    context,
    escape,
    fields,
    header,
    link,
    section,
    truncate,
)
from bot.commands.help import HelpPage
from bot.commands.model import PAGE_SIZE, NotifyDelete, RepoDelete, RepoVisibility, Subscribe, UsageError
from bot.outcomes import (
    ConfirmationNeeded,
    DescriptionSet,
    Failed,
    FailuresReset,
    NotAvailable,
    NotificationCreated,
    NotificationDeleted,
    NotificationShown,
    NotificationsListed,
    NotificationTestQueued,
    NotSubscribed,
    Outcome,
    Refused,
    RepositoryCreated,
    RepositoryDeleted,
    RepositoryListed,
    RepositoryShown,
    Result,
    Subscribed,
    SubscriptionsListed,
    Succeeded,
    Unparsed,
    Unsubscribed,
    VisibilityChanged,
)
from bot.quay import errors as quay_errors
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Notification, Repository, RepositorySummary, Tag, pushed_at
from bot.quay.names import RepositoryRef

NOTIFICATIONS_PER_MESSAGE = 20
DESCRIPTION_IN_LIST = 80
RECENT_TAGS = 10


@dataclass(frozen=True)
class RenderContext:
    quay_url: str
    user_id: str | None = None  # who acted, named in channel announcements
    confirmation_id: str | None = None  # set: confirmation prompts get Confirm/Cancel buttons
    confirm_hint: str | None = None  # shown instead of buttons (the CLI's "--yes")
    role: Role | None = None  # the channel's: which actions a card offers
    now: float = field(default_factory=time.time)


def render(outcome: Outcome, ctx: RenderContext) -> Message:
    match outcome:
        case Succeeded(result=result):
            return _result(result, ctx)
        case Failed():
            return render_failure(outcome.command.command_name, outcome.error)
        case Refused():
            return render_refusal(outcome.reason, outcome.remedy)
        case NotAvailable():
            text = f":warning: *`{outcome.command.command_name}` is not available.* {outcome.reason}\n{outcome.remedy}"
            return Message(_plain(f"{outcome.command.command_name}: {outcome.reason}"), [section(text)])
        case Unparsed(problem=problem):
            return render_usage(problem)
        case ConfirmationNeeded():
            return render_confirmation(outcome, ctx)
    raise AssertionError(f"unhandled outcome {outcome!r}")


def _result(result: Result, ctx: RenderContext) -> Message:
    match result:
        case HelpPage():
            return render_help(result)
        case RepositoryListed():
            return render_repository_list(result, ctx)
        case RepositoryShown():
            return render_repository(result, ctx)
        case NotificationsListed():
            return render_notification_list(result.repo, result.notifications, ctx)
        case NotificationShown():
            return render_notification(result.repo, result.notification, ctx)
        case NotificationTestQueued():
            return render_test_queued(result, ctx)
        case Subscribed() | Unsubscribed() | NotSubscribed() | SubscriptionsListed():
            return render_subscription(result, ctx)
        case _:
            return render_change(result, ctx)


# Reads -------------------------------------------------------------------------------------------


def repository_url(ctx: RenderContext, full_name: str) -> str:
    return f"{ctx.quay_url}/repository/{full_name}"


def render_repository(shown: RepositoryShown, ctx: RenderContext) -> Message:
    repo = shown.repository
    tags = "not read" if repo.tag_count is None else f"{repo.tag_count}{'+' if repo.tag_count >= 500 else ''}"
    description = escape(repo.description) if repo.description else "_no description_"
    menu = _repository_menu(repo, ctx)
    blocks: list[Block] = [
        header(repo.full_name),
        fields(
            [
                ("Visibility", "public" if repo.is_public else "private"),
                ("State", repo.state),
                ("Tags", tags),
                ("Kind", repo.kind),
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=truncate(f"*Description*\n{description}", 3000)), accessory=menu),
    ]
    recent = repo.recent_tags(RECENT_TAGS)
    if recent:
        lines = [_tag_line(tag, ctx.now) for tag in recent]
        rest = (repo.tag_count or 0) - len(recent)
        if rest > 0:
            lines.append(f"and {rest} more")
        blocks.append(section("*Recent tags*\n" + "\n".join(lines)))
    blocks.append(section(_notifications_summary(repo, shown.notifications)))
    blocks.append(
        context(
            link(repository_url(ctx, repo.full_name), "Open in Quay"),
            "This token can "
            + ("administer it" if repo.can_admin else "write to it" if repo.can_write else "only read it"),
        )
    )
    return Message(f"{repo.full_name}: {'public' if repo.is_public else 'private'}, {repo.state}, {tags} tags", blocks)


def _tag_line(tag: Tag, now: float) -> str:
    parts = [code(tag.name)]
    if tag.size is not None:
        parts.append(_size(tag.size))
    pushed = pushed_at(tag.last_modified)
    if pushed:
        parts.append(_age(now - pushed))
    if tag.manifest_digest:
        parts.append(code(tag.manifest_digest.removeprefix("sha256:")[:12]))
    return " · ".join(parts)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for limit, unit in ((3600, "minute"), (86400, "hour"), (86400 * 60, "day")):
        if seconds < limit:
            count = int(seconds // {"minute": 60, "hour": 3600, "day": 86400}[unit])
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return f"{int(seconds // (86400 * 30))} months ago"


def _notifications_summary(repo: Repository, notifications: tuple[Notification, ...] | None) -> str:
    if notifications is None:
        return "*Notifications*\nnot readable with this Quay token (Quay shows them to admins only)"
    if not notifications:
        return "*Notifications*\nnone"
    lines = []
    for n in notifications[:10]:
        health = (
            ":rotating_light: disabled by Quay"
            if n.disabled
            else f":warning: {n.number_of_failures} of {FAILURES_BEFORE_DISABLED} failures"
            if n.number_of_failures
            else ":white_check_mark: healthy"
        )
        lines.append(f"{code(n.event)} → {code(n.method)} {code(n.target)} · {health}")
    if len(notifications) > 10:
        lines.append(f"and {len(notifications) - 10} more: `/quay notify list {repo.full_name}`")
    return "*Notifications*\n" + "\n".join(lines)


def _repository_menu(repo: Repository, ctx: RenderContext) -> OverflowMenuElement | None:
    """The actions this channel's role allows, as the typed commands would run them."""
    if ctx.role is None or len(repo.full_name) > 120:
        return None
    name = repo.full_name
    options = [Option(value=f"notifications {name}", label="List notifications")]
    if ctx.role >= Role.WRITE:
        options.append(Option(value=f"describe {name}", label="Edit description"))
    if ctx.role >= Role.ADMIN:
        other = "private" if repo.is_public else "public"
        options.append(Option(value=f"visibility {name} {other}", label=f"Make {other}"))
        options.append(Option(value=f"delete {name}", label="Delete repository"))
    return OverflowMenuElement(action_id=REPO_MENU_ACTION, options=options)


def _list_line(repo: RepositorySummary, ctx: RenderContext) -> str:
    parts = [
        link(repository_url(ctx, repo.full_name), repo.full_name),
        "public" if repo.is_public else "private",
    ]
    if repo.state != "NORMAL":
        parts.append(repo.state)
    if repo.description:
        parts.append(escape(truncate(" ".join(repo.description.split()), DESCRIPTION_IN_LIST)))
    return "• " + " · ".join(parts)


def render_repository_list(result: RepositoryListed, ctx: RenderContext) -> Message:
    repos, namespace = result.repositories, result.namespace
    first = result.page * PAGE_SIZE + 1
    blocks: list[Block] = []
    if result.restarted:
        blocks.append(
            context(
                ":information_source: Quay no longer takes this listing's page position (it lasts 2 days), "
                "so this is the first page again."
            )
        )
    if repos:
        title = f"*Repositories in {code(namespace)}*, page {result.page + 1} ({first}–{first + len(repos) - 1})"
        blocks.append(section(title))
        blocks += [section(chunk) for chunk in chunk_lines([_list_line(r, ctx) for r in repos])]
    else:
        where = "on this page" if result.page else "that this token can see"
        blocks.append(section(f"No repositories in {code(namespace)} {where}."))
    buttons = []
    if result.previous is not None:
        buttons.append(button("Previous", LIST_PREVIOUS_ACTION, list_value(result.command, result.previous)))
    if result.next is not None:
        buttons.append(button("Next", LIST_NEXT_ACTION, list_value(result.command, result.next)))
    if buttons:
        blocks.append(actions(*buttons))
    blocks.append(
        context(
            f"`/quay repo info {namespace}/<name>` for one of them · "
            + link(f"{ctx.quay_url}/organization/{namespace}", f"{namespace} in Quay")
        )
    )
    text = f"Repositories in {namespace}, page {result.page + 1}: " + (
        ", ".join(r.name for r in repos[:10]) + (" …" if len(repos) > 10 else "") if repos else "none"
    )
    return Message(text, blocks)


def _failures(notification: Notification) -> str:
    count = notification.number_of_failures
    if notification.disabled:
        return f"{count}: *disabled by Quay after {FAILURES_BEFORE_DISABLED} failures*"
    if count:
        return f"{count} (Quay disables it at {FAILURES_BEFORE_DISABLED})"
    return "0"


def _notification_fields(notification: Notification) -> list[tuple[str, str]]:
    pairs = [
        ("Event", code(notification.event)),
        ("Method", code(notification.method)),
        ("Target", code(notification.target)),
        ("Failures", _failures(notification)),
        ("UUID", code(notification.uuid)),
    ]
    if notification.event_config:
        pairs.append(("Event config", " ".join(code(f"{k}={v}") for k, v in notification.event_config.items())))
    return pairs


def _notification_title(notification: Notification) -> str:
    return notification.title or f"{notification.event} → {notification.method}"


def render_notification(repo: RepositoryRef, notification: Notification, ctx: RenderContext) -> Message:
    title = f"*{escape(_notification_title(notification))}* on {code(repo.full_name)}"
    blocks: list[Block] = [fields(_notification_fields(notification), text=title)]
    if notification.disabled:
        blocks.append(_disabled_help(repo, notification))
    state = "disabled" if notification.disabled else f"{notification.number_of_failures} failures"
    return Message(f"Notification {notification.uuid} on {repo}: {notification.event}, {state}", blocks)


def _disabled_help(repo: RepositoryRef, notification: Notification) -> Block:
    return section(
        "Quay stopped delivering this notification after "
        f"{FAILURES_BEFORE_DISABLED} failed deliveries in a row; events since then were dropped. "
        f"Fix the target, then reset it: `/quay notify reset {repo} {notification.uuid}`."
    )


def render_notification_list(repo: RepositoryRef, notifications: Sequence[Notification], ctx: RenderContext) -> Message:
    if not notifications:
        return Message(f"{repo} has no notifications.", [section(f"{code(repo.full_name)} has no notifications.")])
    disabled = sum(1 for n in notifications if n.disabled)
    summary = f"*{len(notifications)} notifications on {code(repo.full_name)}*"
    if disabled:
        summary += f" — {disabled} disabled by Quay"
    blocks: list[Block] = [section(summary)]
    for notification in notifications[:NOTIFICATIONS_PER_MESSAGE]:
        blocks.append(DividerBlock())
        blocks.append(fields(_notification_fields(notification), text=f"*{escape(_notification_title(notification))}*"))
    hidden = len(notifications) - NOTIFICATIONS_PER_MESSAGE
    if hidden > 0:
        blocks.append(
            context(
                f"{hidden} more not shown; see them in Quay: {link(repository_url(ctx, repo.full_name), str(repo))}"
            )
        )
    return Message(f"{len(notifications)} notifications on {repo} ({disabled} disabled)", blocks)


def render_test_queued(result: NotificationTestQueued, ctx: RenderContext) -> Message:
    repo, before = result.repo, result.before
    if not result.sent:
        text = (
            f":warning: Not sent: notification {code(before.uuid)} on {code(repo.full_name)} is *disabled by "
            f"Quay after {before.number_of_failures} failures*, and Quay silently drops tests of disabled "
            "notifications. Reset it first, then test again."
        )
        return Message(
            f"Not sent: notification {before.uuid} on {repo} is disabled; reset it first.",
            [
                section(text),
                actions(button("Reset failures", RESET_ACTION, reset_value(repo, before.uuid), style="primary")),
            ],
        )
    text = (
        f":hourglass_flowing_sand: Test queued for {code(before.uuid)} on {code(repo.full_name)}. Quay only "
        "queues it: its worker delivers it within about 10 seconds. A success sets the failure count to 0, a "
        f"failure adds 1. Check with `/quay notify get {repo} {before.uuid}`."
    )
    return Message(f"Test queued for notification {before.uuid} on {repo}.", [section(text)])


# Changes ---------------------------------------------------------------------------------------


def render_change(result: Result, ctx: RenderContext) -> Message:
    who = f"<@{ctx.user_id}>" if ctx.user_id else "quaybot"
    match result:
        case RepositoryCreated():
            name = f"{result.created.namespace}/{result.created.name}"
            line = f"{who} created {link(repository_url(ctx, name), name)} ({result.visibility})"
        case DescriptionSet():
            line = f"{who} updated the description of {code(result.repo.full_name)}"
        case VisibilityChanged():
            line = f"{who} made {code(result.repo.full_name)} {result.visibility}"
        case RepositoryDeleted():
            line = f"{who} deleted {code(result.repo.full_name)}"
        case NotificationCreated():
            n = result.notification
            line = (
                f"{who} added a {code(n.event)} notification to {code(result.repo.full_name)} "
                f"({code(n.method)} → {code(n.target)}, UUID {code(n.uuid)})"
            )
        case FailuresReset():
            line = (
                f"{who} reset the failures of notification {code(result.uuid)} on {code(result.repo.full_name)}; "
                "Quay delivers it again (events missed meanwhile are not replayed)"
            )
        case NotificationDeleted():
            line = f"{who} deleted notification {code(result.uuid)} from {code(result.repo.full_name)}"
        case _:
            raise AssertionError(f"unhandled result {result!r}")
    plain = line.replace(f"<@{ctx.user_id}>", f"@{ctx.user_id}") if ctx.user_id else line
    return Message(_plain(plain), [section(":white_check_mark: " + line)], in_channel=True)


def _plain(mrkdwn: str) -> str:
    """A readable fallback: links become their labels, code marks go."""
    text = re.sub(r"<([^|<>]+)\|([^<>]+)>", r"\2", mrkdwn)
    return text.replace("`", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Subscriptions ---------------------------------------------------------------------------------


def render_subscription(
    result: Subscribed | Unsubscribed | NotSubscribed | SubscriptionsListed, ctx: RenderContext
) -> Message:
    who = f"<@{ctx.user_id}>" if ctx.user_id else "quaybot"
    match result:
        case Subscribed():
            scope = "every repository of" if result.target.repository is None else ""
            line = (
                f"{who} subscribed this channel to {scope} {code(str(result.target))}: "
                + ", ".join(code(e) for e in result.events)
            ).replace("  ", " ")
            facts = [
                f"{_n(result.created, 'Quay notification')} added, {result.kept} already there; "
                f"{_n(result.repositories, 'repository', 'repositories')}."
            ]
            if result.problem:
                facts.append(f":warning: Stopped short: {escape(result.problem)} The bot tries again every minute.")
            if not result.watched:
                facts.append(
                    f"No channel has `alerts: true` for {code(result.target.namespace)}, so nobody will be told "
                    "if Quay cannot reach the bot. An operator can turn it on in the access file."
                )
            text = ":white_check_mark: " + line + "\n" + "\n".join(facts)
            return Message(_plain(line), [section(text)], in_channel=True)
        case Unsubscribed():
            line = f"{who} unsubscribed this channel from {code(str(result.target))}: " + ", ".join(
                code(e) for e in result.removed
            )
            facts = [
                f"{_n(result.deleted, 'Quay notification')} deleted"
                + (f", {result.already_gone} already gone." if result.already_gone else ".")
            ]
            if result.remaining:
                facts.append("Still subscribed: " + ", ".join(code(e) for e in result.remaining))
            if result.problem:
                facts.append(f":warning: Stopped short: {escape(result.problem)} Run it again to finish.")
            text = ":white_check_mark: " + line + "\n" + "\n".join(facts)
            return Message(_plain(line), [section(text)], in_channel=True)
        case NotSubscribed():
            has = ", ".join(code(t) for t in result.channel_has) or "nothing"
            text = f"This channel has no subscription to {code(str(result.target))}. It is subscribed to: {has}."
            return Message(_plain(text), [section(text)])
        case SubscriptionsListed():
            if not result.lines:
                text = "This channel has no subscriptions. `/quay subscribe <ns>/<name>` adds one."
                return Message(text, [section(text)])
            lines = [
                f"{code(s.target)}{' (every repository)' if '/' not in s.target else ''}: "
                + ", ".join(code(e) for e in s.events)
                + f" · {_n(s.notifications, 'Quay notification')} · by <@{s.created_by}>"
                for s in result.lines
            ]
            blocks: list[Block] = [header("Subscriptions of this channel")]
            blocks += [section(chunk) for chunk in chunk_lines(lines)][:45]
            return Message(
                _plain(f"{len(result.lines)} subscriptions: " + "; ".join(s.target for s in result.lines)), blocks
            )
    raise AssertionError(f"unhandled result {result!r}")


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


# Confirmation ------------------------------------------------------------------------------------


def confirmation_summary(outcome: ConfirmationNeeded) -> tuple[str, list[str]]:
    """The question and the facts that matter for it."""
    command = outcome.command
    repo = outcome.repository
    facts: list[str] = []
    if isinstance(command, RepoDelete):
        question = f"Delete {code(command.repo.full_name)}?"
        if repo is not None:
            facts.append(f"Visibility: {'public' if repo.is_public else 'private'}")
            facts.append(f"Tags: {repo.tag_count if repo.tag_count is not None else 'unknown'}")
        count = outcome.notification_count
        facts.append(f"Notifications: {count if count is not None else 'unknown (the token cannot list them)'}")
        facts.append("Every tag and image goes with it. This cannot be undone.")
    elif isinstance(command, RepoVisibility):
        question = f"Make {code(command.repo.full_name)} public?"
        if repo is not None and repo.is_public:
            facts.append("It is already public; confirming changes nothing.")
        facts.append("Anyone who can reach Quay will be able to pull its images, without logging in.")
    elif isinstance(command, Subscribe):
        count = outcome.new_notifications
        question = f"Subscribe this channel to every repository of {code(command.target.namespace)}?"
        facts.append(f"It adds {count} webhook notifications in Quay: one per repository and event.")
        facts.append("Events: " + ", ".join(code(e) for e in command.events))
        facts.append("`/quay unsubscribe` removes exactly these again.")
    elif isinstance(command, NotifyDelete):
        question = f"Delete notification {code(command.uuid)} from {code(command.repo.full_name)}?"
        n = outcome.notification
        if n is not None:
            facts.append(f"{code(n.event)} → {code(n.method)} {code(n.target)}, {n.number_of_failures} failures")
        facts.append("Whoever relies on it will stop hearing about these events.")
    else:  # pragma: no cover - is_destructive() names exactly these
        raise AssertionError(f"no confirmation for {command!r}")
    return question, facts


def render_confirmation(outcome: ConfirmationNeeded, ctx: RenderContext) -> Message:
    question, facts = confirmation_summary(outcome)
    blocks: list[Block] = [section(f":warning: *{question}*\n" + "\n".join(f"• {f}" for f in facts))]
    if ctx.confirmation_id:
        dialog = ConfirmObject(
            title=PlainTextObject(text="Are you sure?"),
            text=MarkdownTextObject(text=truncate(_plain(question), 300)),
            confirm=PlainTextObject(text="Yes, do it"),
            deny=PlainTextObject(text="No"),
            style="danger",
        )
        blocks.append(
            actions(
                button("Confirm", CONFIRM_ACTION, ctx.confirmation_id, style="danger", confirm=dialog),
                button("Cancel", CANCEL_ACTION, ctx.confirmation_id),
            )
        )
    if ctx.confirm_hint:
        blocks.append(context(ctx.confirm_hint))
    return Message(_plain(f"Confirmation needed: {question}"), blocks)


# Problems ----------------------------------------------------------------------------------------


def _what_to_do(error: quay_errors.QuayError) -> str:
    match error:
        case quay_errors.QuayInputError():
            return "Fix the command and run it again."
        case quay_errors.QuayAlreadyExists():
            return "Pick another name, or look at the existing one with `/quay repo info`."
        case quay_errors.QuayInvalidToken() | quay_errors.QuayUnauthorized():
            return "Ask an operator to check the namespace's Quay token (`quaybot check`)."
        case quay_errors.QuayForbidden():
            return (
                "Check the name. If it is right, the Quay token needs more rights: repo:admin for notifications, "
                "visibility and deletes, repo:write for descriptions, repo:create for new repositories."
            )
        case quay_errors.QuayNotFound():
            return "Check the name, e.g. with `/quay repo list` or `/quay notify list`."
        case quay_errors.QuayOutcomeUnknown():
            return "Look before trying again (`/quay repo info` or `/quay notify list`)."
        case quay_errors.QuayTLSError():
            return "Ask an operator to check QUAY_VERIFY_TLS (`quaybot check`)."
        case quay_errors.QuayUnavailable() | quay_errors.QuayRateLimited():
            return "Nothing was changed. Try again in a minute."
        case quay_errors.QuayBadRequest():
            return "Quay refused it as given; adjust the command."
    return "If it keeps happening, ask an operator to look at the bot's logs."


def render_failure(command_name: str, error: quay_errors.QuayError) -> Message:
    text = f":x: *`{command_name}` failed.* {escape(error.message)}\n{_what_to_do(error)}"
    return Message(_plain(f"{command_name} failed: {error.message}"), [section(text)])


def render_refusal(reason: str, remedy: str) -> Message:
    return Message(f"Not allowed: {_plain(reason)}", [section(f":no_entry: *Not allowed.* {reason}\n{remedy}")])


def render_usage(problem: UsageError) -> Message:
    lines = [f":grey_question: {escape(problem.message)}"]
    if problem.usage:
        lines.append("```" + "\n".join(f"/quay {escape(u)}" for u in problem.usage) + "```")
    lines.append(f"See `/quay help{' ' + problem.topic if problem.topic else ''}`.")
    return Message(f"Usage: {problem.message}", [section("\n".join(lines))])


def render_help(page: HelpPage) -> Message:
    blocks: list[Block] = [header("quaybot: /quay" + (f" {page.topic}" if page.topic else ""))]
    if page.access is not None:
        namespaces = ", ".join(code(n) for n in page.access.namespaces)
        blocks.append(section(f"This channel acts on {namespaces} with the *{page.access.role.label}* role."))
    if page.unavailable:
        blocks.append(section(f":no_entry: {page.unavailable}"))
    if page.entries:
        lines = [f"`/quay {escape(e.usage)}`\n      {escape(e.summary)}" for e in page.entries]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    if page.topic is None and page.access is not None and page.access.role >= Role.WRITE:
        # `/quay` alone: the forms, for those who would rather not type.
        blocks.append(
            actions(
                button("Create a repository", OPEN_REPO_CREATE, NO_VALUE, style="primary"),
                button("Add a notification", OPEN_NOTIFY_CREATE, NO_VALUE),
            )
        )
    if page.hidden and page.access is not None:
        blocks.append(context(f"{page.hidden} more commands need a higher role than this channel has."))
    notes = [escape(n) for n in page.notes]
    if page.topic is None:
        notes.append("`/quay help repo`, `/quay help notify` and `/quay help subscribe` show details.")
    blocks += [context(note) for note in notes]
    summary = "; ".join(e.usage for e in page.entries) or (page.unavailable or "nothing to run here")
    return Message(f"/quay help: {summary}", blocks)
