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
from bot.i18n import plural, t
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
    locale: str = "en"  # the channel's language

    def t(self, message: str, /, **params: object) -> str:
        return t(self.locale, message, **params)


def render(outcome: Outcome, ctx: RenderContext) -> Message:
    match outcome:
        case Succeeded(result=result):
            return _result(result, ctx)
        case Failed():
            return render_failure(outcome.command.command_name, outcome.error, ctx.locale)
        case Refused():
            return render_refusal(outcome.reason, outcome.remedy, ctx.locale)
        case NotAvailable():
            name = outcome.command.command_name
            text = ctx.t(":warning: *`{name}` is not available.*", name=name) + f" {outcome.reason}\n{outcome.remedy}"
            return Message(_plain(escape(f"{name}: {outcome.reason}")), [section(text)])
        case Unparsed(refusal=(reason, remedy)):
            return render_refusal(reason, remedy, ctx.locale)
        case Unparsed(problem=problem):
            return render_usage(problem, ctx.locale)
        case ConfirmationNeeded():
            return render_confirmation(outcome, ctx)
    raise AssertionError(f"unhandled outcome {outcome!r}")


def _result(result: Result, ctx: RenderContext) -> Message:
    match result:
        case HelpPage():
            return render_help(result, ctx.locale)
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
    tags = ctx.t("not read") if repo.tag_count is None else f"{repo.tag_count}{'+' if repo.tag_count >= 500 else ''}"
    description = escape(repo.description) if repo.description else ctx.t("_no description_")
    menu = _repository_menu(repo, ctx)
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
        parts.append(_size(tag.size))
    pushed = pushed_at(tag.last_modified)
    if pushed:
        parts.append(_age(ctx.now - pushed, ctx))
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


def _age(seconds: float, ctx: RenderContext) -> str:
    seconds = max(0.0, seconds)
    if seconds < 3600:
        count = int(seconds // 60)
        return ctx.t("1 minute ago") if count == 1 else ctx.t("{count} minutes ago", count=count)
    if seconds < 86400:
        count = int(seconds // 3600)
        return ctx.t("1 hour ago") if count == 1 else ctx.t("{count} hours ago", count=count)
    if seconds < 86400 * 60:
        count = int(seconds // 86400)
        return ctx.t("1 day ago") if count == 1 else ctx.t("{count} days ago", count=count)
    return ctx.t("{count} months ago", count=int(seconds // (86400 * 30)))


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


def _repository_menu(repo: Repository, ctx: RenderContext) -> OverflowMenuElement | None:
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


def _list_line(repo: RepositorySummary, ctx: RenderContext) -> str:
    parts = [
        link(repository_url(ctx, repo.full_name), repo.full_name),
        ctx.t("public") if repo.is_public else ctx.t("private"),
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
        blocks += [section(chunk) for chunk in chunk_lines([_list_line(r, ctx) for r in repos])]
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


def _failures(notification: Notification, ctx: RenderContext) -> str:
    count = notification.number_of_failures
    if notification.disabled:
        return ctx.t("{count}: *disabled by Quay after {limit} failures*", count=count, limit=FAILURES_BEFORE_DISABLED)
    if count:
        return ctx.t("{count} (Quay disables it at {limit})", count=count, limit=FAILURES_BEFORE_DISABLED)
    return "0"


def _notification_fields(notification: Notification, ctx: RenderContext) -> list[tuple[str, str]]:
    pairs = [
        (ctx.t("Event"), code(notification.event)),
        (ctx.t("Method"), code(notification.method)),
        (ctx.t("Target"), code(notification.target)),
        (ctx.t("Failures"), _failures(notification, ctx)),
        ("UUID", code(notification.uuid)),
    ]
    if notification.event_config:
        config = " ".join(code(f"{k}={v}") for k, v in notification.event_config.items())
        pairs.append((ctx.t("Event config"), config))
    return pairs


def _notification_title(notification: Notification) -> str:
    return notification.title or f"{notification.event} → {notification.method}"


def render_notification(repo: RepositoryRef, notification: Notification, ctx: RenderContext) -> Message:
    title = ctx.t("*{title}* on {repo}", title=escape(_notification_title(notification)), repo=code(repo.full_name))
    blocks: list[Block] = [fields(_notification_fields(notification, ctx), text=title)]
    if notification.disabled:
        blocks.append(_disabled_help(repo, notification, ctx))
    state = "disabled" if notification.disabled else f"{notification.number_of_failures} failures"
    return Message(f"Notification {notification.uuid} on {repo}: {notification.event}, {state}", blocks)


def _disabled_help(repo: RepositoryRef, notification: Notification, ctx: RenderContext) -> Block:
    return section(
        ctx.t(
            "Quay stopped delivering this notification after {limit} failed deliveries in a row; events since "
            "then were dropped. Fix the target, then reset it: {command}.",
            limit=FAILURES_BEFORE_DISABLED,
            command=f"`/quay notify reset {repo} {notification.uuid}`",
        )
    )


def render_notification_list(repo: RepositoryRef, notifications: Sequence[Notification], ctx: RenderContext) -> Message:
    if not notifications:
        return Message(
            ctx.t("{repo} has no notifications.", repo=repo),
            [section(ctx.t("{repo} has no notifications.", repo=code(repo.full_name)))],
        )
    disabled = sum(1 for n in notifications if n.disabled)
    summary = plural(
        ctx.locale,
        len(notifications),
        "*{count} notification on {repo}*",
        "*{count} notifications on {repo}*",
        repo=code(repo.full_name),
    )
    if disabled:
        summary += ctx.t(" — {count} disabled by Quay", count=disabled)
    blocks: list[Block] = [section(summary)]
    for notification in notifications[:NOTIFICATIONS_PER_MESSAGE]:
        blocks.append(DividerBlock())
        title = f"*{escape(_notification_title(notification))}*"
        blocks.append(fields(_notification_fields(notification, ctx), text=title))
    hidden = len(notifications) - NOTIFICATIONS_PER_MESSAGE
    if hidden > 0:
        where = link(repository_url(ctx, repo.full_name), str(repo))
        blocks.append(context(ctx.t("{count} more not shown; see them in Quay: {link}", count=hidden, link=where)))
    text = plural(
        ctx.locale,
        len(notifications),
        "{count} notification on {repo} ({disabled} disabled)",
        "{count} notifications on {repo} ({disabled} disabled)",
        repo=repo,
        disabled=disabled,
    )
    return Message(text, blocks)


def render_test_queued(result: NotificationTestQueued, ctx: RenderContext) -> Message:
    repo, before = result.repo, result.before
    if not result.sent:
        text = ctx.t(
            ":warning: Not sent: notification {uuid} on {repo} is *disabled by Quay after {count} failures*, and "
            "Quay silently drops tests of disabled notifications. Reset it first, then test again.",
            uuid=code(before.uuid),
            repo=code(repo.full_name),
            count=before.number_of_failures,
        )
        return Message(
            ctx.t("Not sent: notification {uuid} on {repo} is disabled; reset it first.", uuid=before.uuid, repo=repo),
            [
                section(text),
                actions(button(ctx.t("Reset failures"), RESET_ACTION, reset_value(repo, before.uuid), style="primary")),
            ],
        )
    text = ctx.t(
        ":hourglass_flowing_sand: Test queued for {uuid} on {repo}. Quay only queues it: its worker delivers it "
        "within about 10 seconds. A success sets the failure count to 0, a failure adds 1. Check with {command}.",
        uuid=code(before.uuid),
        repo=code(repo.full_name),
        command=f"`/quay notify get {repo} {before.uuid}`",
    )
    return Message(
        ctx.t("Test queued for notification {uuid} on {repo}.", uuid=before.uuid, repo=repo), [section(text)]
    )


# Changes ---------------------------------------------------------------------------------------


def render_change(result: Result, ctx: RenderContext) -> Message:
    who = f"<@{ctx.user_id}>" if ctx.user_id else "quaybot"
    match result:
        case RepositoryCreated():
            name = f"{result.created.namespace}/{result.created.name}"
            line = ctx.t(
                "{who} created {repo} ({visibility})",
                who=who,
                repo=link(repository_url(ctx, name), name),
                visibility=ctx.t(result.visibility),
            )
        case DescriptionSet():
            line = ctx.t("{who} updated the description of {repo}", who=who, repo=code(result.repo.full_name))
        case VisibilityChanged():
            line = ctx.t(
                "{who} made {repo} {visibility}",
                who=who,
                repo=code(result.repo.full_name),
                visibility=ctx.t(result.visibility),
            )
        case RepositoryDeleted():
            line = ctx.t("{who} deleted {repo}", who=who, repo=code(result.repo.full_name))
        case NotificationCreated():
            n = result.notification
            line = ctx.t(
                "{who} added a {event} notification to {repo} ({method} → {target}, UUID {uuid})",
                who=who,
                event=code(n.event),
                repo=code(result.repo.full_name),
                method=code(n.method),
                target=code(n.target),
                uuid=code(n.uuid),
            )
        case FailuresReset():
            line = ctx.t(
                "{who} reset the failures of notification {uuid} on {repo}; Quay delivers it again (events "
                "missed meanwhile are not replayed)",
                who=who,
                uuid=code(result.uuid),
                repo=code(result.repo.full_name),
            )
        case NotificationDeleted():
            line = ctx.t(
                "{who} deleted notification {uuid} from {repo}",
                who=who,
                uuid=code(result.uuid),
                repo=code(result.repo.full_name),
            )
        case _:
            raise AssertionError(f"unhandled result {result!r}")
    plain = line.replace(f"<@{ctx.user_id}>", f"@{ctx.user_id}") if ctx.user_id else line
    return Message(_plain(plain), [section(":white_check_mark: " + line)], in_channel=True)


def _plain(mrkdwn: str) -> str:
    """A readable fallback: links become their labels, code marks go. Escapes stay: Slack reads the
    fallback as mrkdwn too (and shows `&lt;` as `<`), so unescaping would turn a notification title or
    an e-mail target such as `<!channel>@x.example` into a mention of the whole channel."""
    return re.sub(r"<([^|<>]+)\|([^<>]+)>", r"\2", mrkdwn).replace("`", "")


# Subscriptions ---------------------------------------------------------------------------------


def render_subscription(
    result: Subscribed | Unsubscribed | NotSubscribed | SubscriptionsListed, ctx: RenderContext
) -> Message:
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
            return Message(_plain(line), [section(text)], in_channel=True)
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
            return Message(_plain(line), [section(text)], in_channel=True)
        case NotSubscribed():
            has = ", ".join(code(t) for t in result.channel_has) or ctx.t("nothing")
            text = ctx.t(
                "This channel has no subscription to {target}. It is subscribed to: {has}.",
                target=code(str(result.target)),
                has=has,
            )
            return Message(_plain(text), [section(text)])
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
            return Message(_plain(summary + " " + "; ".join(s.target for s in result.lines)), blocks)
    raise AssertionError(f"unhandled result {result!r}")


# Confirmation ------------------------------------------------------------------------------------


def confirmation_summary(outcome: ConfirmationNeeded, locale: str = "en") -> tuple[str, list[str]]:
    """The question and the facts that matter for it."""
    command = outcome.command
    repo = outcome.repository
    facts: list[str] = []
    if isinstance(command, RepoDelete):
        question = t(locale, "Delete {repo}?", repo=code(command.repo.full_name))
        if repo is not None:
            visibility = t(locale, "public") if repo.is_public else t(locale, "private")
            facts.append(t(locale, "Visibility: {visibility}", visibility=visibility))
            tags = repo.tag_count if repo.tag_count is not None else t(locale, "unknown")
            facts.append(t(locale, "Tags: {count}", count=tags))
        count = outcome.notification_count
        shown = count if count is not None else t(locale, "unknown (the token cannot list them)")
        facts.append(t(locale, "Notifications: {count}", count=shown))
        facts.append(t(locale, "Every tag and image goes with it. This cannot be undone."))
    elif isinstance(command, RepoVisibility):
        question = t(locale, "Make {repo} public?", repo=code(command.repo.full_name))
        if repo is not None and repo.is_public:
            facts.append(t(locale, "It is already public; confirming changes nothing."))
        facts.append(t(locale, "Anyone who can reach Quay will be able to pull its images, without logging in."))
    elif isinstance(command, Subscribe):
        question = t(
            locale,
            "Subscribe this channel to every repository of {namespace}?",
            namespace=code(command.target.namespace),
        )
        facts.append(
            plural(
                locale,
                outcome.new_notifications or 0,
                "It adds {count} webhook notification in Quay: one per repository and event.",
                "It adds {count} webhook notifications in Quay: one per repository and event.",
            )
        )
        facts.append(t(locale, "Events: {events}", events=", ".join(code(e) for e in command.events)))
        facts.append(t(locale, "`/quay unsubscribe` removes exactly these again."))
    elif isinstance(command, NotifyDelete):
        question = t(
            locale,
            "Delete notification {uuid} from {repo}?",
            uuid=code(command.uuid),
            repo=code(command.repo.full_name),
        )
        n = outcome.notification
        if n is not None:
            facts.append(
                f"{code(n.event)} → {code(n.method)} {code(n.target)}, "
                + plural(locale, n.number_of_failures, "{count} failure", "{count} failures")
            )
        facts.append(t(locale, "Whoever relies on it will stop hearing about these events."))
    else:  # pragma: no cover - is_destructive() names exactly these
        raise AssertionError(f"no confirmation for {command!r}")
    return question, facts


def render_confirmation(outcome: ConfirmationNeeded, ctx: RenderContext) -> Message:
    question, facts = confirmation_summary(outcome, ctx.locale)
    blocks: list[Block] = [section(f":warning: *{question}*\n" + "\n".join(f"• {f}" for f in facts))]
    if ctx.confirmation_id:
        dialog = ConfirmObject(
            title=PlainTextObject(text=ctx.t("Are you sure?")),
            text=MarkdownTextObject(text=truncate(_plain(question), 300)),
            confirm=PlainTextObject(text=ctx.t("Yes, do it")),
            deny=PlainTextObject(text=ctx.t("No")),
            style="danger",
        )
        blocks.append(
            actions(
                button(ctx.t("Confirm"), CONFIRM_ACTION, ctx.confirmation_id, style="danger", confirm=dialog),
                button(ctx.t("Cancel"), CANCEL_ACTION, ctx.confirmation_id),
            )
        )
    if ctx.confirm_hint:
        blocks.append(context(ctx.confirm_hint))
    return Message(_plain(ctx.t("Confirmation needed: {question}", question=question)), blocks)


# Problems ----------------------------------------------------------------------------------------


def _what_to_do(error: quay_errors.QuayError, locale: str) -> str:
    match error:
        case quay_errors.QuayInputError():
            return t(locale, "Fix the command and run it again.")
        case quay_errors.QuayAlreadyExists():
            return t(locale, "Pick another name, or look at the existing one with `/quay repo info`.")
        case quay_errors.QuayInvalidToken() | quay_errors.QuayUnauthorized():
            return t(locale, "Ask an operator to check the namespace's Quay token (`quaybot check`).")
        case quay_errors.QuayForbidden():
            return t(
                locale,
                "Check the name. If it is right, the Quay token needs more rights: repo:admin for notifications, "
                "visibility and deletes, repo:write for descriptions, repo:create for new repositories.",
            )
        case quay_errors.QuayNotFound():
            return t(locale, "Check the name, e.g. with `/quay repo list` or `/quay notify list`.")
        case quay_errors.QuayOutcomeUnknown():
            return t(locale, "Look before trying again (`/quay repo info` or `/quay notify list`).")
        case quay_errors.QuayTLSError():
            return t(locale, "Ask an operator to check QUAY_VERIFY_TLS (`quaybot check`).")
        case quay_errors.QuayUnavailable() | quay_errors.QuayRateLimited():
            return t(locale, "Nothing was changed. Try again in a minute.")
        case quay_errors.QuayBadRequest():
            return t(locale, "Quay refused it as given; adjust the command.")
    return t(locale, "If it keeps happening, ask an operator to look at the bot's logs.")


def render_failure(command_name: str, error: quay_errors.QuayError, locale: str = "en") -> Message:
    failed = t(locale, ":x: *`{command}` failed.*", command=command_name)
    said = error.said(locale)
    text = f"{failed} {escape(said)}\n{_what_to_do(error, locale)}"
    return Message(_plain(t(locale, "{command} failed:", command=command_name) + f" {escape(said)}"), [section(text)])


def render_refusal(reason: str, remedy: str, locale: str = "en") -> Message:
    return Message(
        t(locale, "Not allowed:") + f" {_plain(escape(reason))}",
        [section(t(locale, ":no_entry: *Not allowed.*") + f" {escape(reason)}\n{escape(remedy)}")],
    )


def render_usage(problem: UsageError, locale: str = "en") -> Message:
    lines = [f":grey_question: {escape(problem.message)}"]
    if problem.usage:
        lines.append("```" + "\n".join(f"/quay {escape(u)}" for u in problem.usage) + "```")
    lines.append(t(locale, "See {command}.", command=f"`/quay help{' ' + problem.topic if problem.topic else ''}`"))
    return Message(t(locale, "Usage:") + f" {escape(problem.message)}", [section("\n".join(lines))])


def render_help(page: HelpPage, locale: str = "en") -> Message:
    blocks: list[Block] = [header("quaybot: /quay" + (f" {page.topic}" if page.topic else ""))]
    if page.access is not None:
        namespaces = ", ".join(code(n) for n in page.access.namespaces)
        role = t(locale, page.access.role.label)
        blocks.append(
            section(
                t(locale, "This channel acts on {namespaces} with the *{role}* role.", namespaces=namespaces, role=role)
            )
        )
    if page.unavailable:
        blocks.append(section(f":no_entry: {page.unavailable}"))
    if page.entries:
        lines = [f"`/quay {escape(e.usage)}`\n      {escape(t(locale, e.summary))}" for e in page.entries]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    if page.topic is None and page.access is not None and page.access.role >= Role.WRITE:
        # `/quay` alone: the forms, for those who would rather not type.
        blocks.append(
            actions(
                button(t(locale, "Create a repository"), OPEN_REPO_CREATE, NO_VALUE, style="primary"),
                button(t(locale, "Add a notification"), OPEN_NOTIFY_CREATE, NO_VALUE),
            )
        )
    if page.hidden and page.access is not None:
        blocks.append(
            context(
                plural(
                    locale,
                    page.hidden,
                    "{count} more command needs a higher role than this channel has.",
                    "{count} more commands need a higher role than this channel has.",
                )
            )
        )
    notes = [escape(t(locale, n)) for n in page.notes]
    if page.topic is None:
        notes.append(t(locale, "`/quay help repo`, `/quay help notify` and `/quay help subscribe` show details."))
    blocks += [context(note) for note in notes]
    summary = "; ".join(e.usage for e in page.entries) or (page.unavailable or t(locale, "nothing to run here"))
    return Message(f"/quay help: {summary}", blocks)
