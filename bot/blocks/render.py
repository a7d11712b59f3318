"""What every reply shares, whichever command it answers: failures, refusals, usage errors, the frame of
a confirmation and of an in-channel announcement, and the pieces several commands' cards use. Each
command renders its own results (`bot/slices/`). No notification secret is ever shown unmasked.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block, ConfirmObject, MarkdownTextObject, PlainTextObject

from bot.blocks.context import RenderContext
from bot.blocks.ids import CANCEL_ACTION, CONFIRM_ACTION
from bot.blocks.message import Message, actions, button, code, context, escape, section, truncate
from bot.commands.model import UsageError
from bot.i18n import t
from bot.quay import errors as quay_errors
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef

# Reads -------------------------------------------------------------------------------------------


def repository_url(ctx: RenderContext, full_name: str) -> str:
    return f"{ctx.quay_url}/repository/{full_name}"


def size(size: int) -> str:
    """A size in bytes, as people read it."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns


def age(seconds: float, ctx: RenderContext) -> str:
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


def _failures(notification: Notification, ctx: RenderContext) -> str:
    count = notification.number_of_failures
    if notification.disabled:
        return ctx.t("{count}: *disabled by Quay after {limit} failures*", count=count, limit=FAILURES_BEFORE_DISABLED)
    if count:
        return ctx.t("{count} (Quay disables it at {limit})", count=count, limit=FAILURES_BEFORE_DISABLED)
    return "0"


def notification_fields(notification: Notification, ctx: RenderContext) -> list[tuple[str, str]]:
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


def notification_title(notification: Notification) -> str:
    return notification.title or f"{notification.event} → {notification.method}"


def disabled_help(repo: RepositoryRef, notification: Notification, ctx: RenderContext) -> Block:
    return section(
        ctx.t(
            "Quay stopped delivering this notification after {limit} failed deliveries in a row; events since "
            "then were dropped. Fix the target, then reset it: {command}.",
            limit=FAILURES_BEFORE_DISABLED,
            command=f"`/quay notify reset {repo} {notification.uuid}`",
        )
    )


# Changes ---------------------------------------------------------------------------------------


def announce(ctx: RenderContext, line: str, /, **params: object) -> Message:
    """A change, told in the channel: `line` is a catalogue message with `{who}` (the user who
    acted) and `params`."""
    who = f"<@{ctx.user_id}>" if ctx.user_id else "quaybot"
    said = ctx.t(line, who=who, **params)
    plain = said.replace(f"<@{ctx.user_id}>", f"@{ctx.user_id}") if ctx.user_id else said
    return Message(plain_fallback(plain), [section(":white_check_mark: " + said)], in_channel=True)


def plain_fallback(mrkdwn: str) -> str:
    """A readable fallback: links become their labels, code marks go. Escapes stay: Slack reads the
    fallback as mrkdwn too (and shows `&lt;` as `<`), so unescaping would turn a notification title or
    an e-mail target such as `<!channel>@x.example` into a mention of the whole channel."""
    return re.sub(r"<([^|<>]+)\|([^<>]+)>", r"\2", mrkdwn).replace("`", "")


# Confirmation ------------------------------------------------------------------------------------


def render_confirmation(question: str, facts: list[str], ctx: RenderContext) -> Message:
    """A destructive command's question and the facts that matter for it (its slice says both),
    with Confirm/Cancel buttons when it has a confirmation to click."""
    blocks: list[Block] = [section(f":warning: *{question}*\n" + "\n".join(f"• {f}" for f in facts))]
    if ctx.confirmation_id:
        dialog = ConfirmObject(
            title=PlainTextObject(text=ctx.t("Are you sure?")),
            text=MarkdownTextObject(text=truncate(plain_fallback(question), 300)),
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
    return Message(plain_fallback(ctx.t("Confirmation needed: {question}", question=question)), blocks)


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


def render_not_available(name: str, reason: str, remedy: str, ctx: RenderContext) -> Message:
    """The bot is not set up for this command (a setting is missing): nothing was done."""
    text = ctx.t(":warning: *`{name}` is not available.*", name=name) + f" {reason}\n{remedy}"
    return Message(plain_fallback(escape(f"{name}: {reason}")), [section(text)])


def render_failure(command_name: str, error: quay_errors.QuayError, locale: str = "en") -> Message:
    failed = t(locale, ":x: *`{command}` failed.*", command=command_name)
    said = error.said(locale)
    text = f"{failed} {escape(said)}\n{_what_to_do(error, locale)}"
    return Message(
        plain_fallback(t(locale, "{command} failed:", command=command_name) + f" {escape(said)}"), [section(text)]
    )


def render_refusal(reason: str, remedy: str, locale: str = "en") -> Message:
    return Message(
        t(locale, "Not allowed:") + f" {plain_fallback(escape(reason))}",
        [section(t(locale, ":no_entry: *Not allowed.*") + f" {escape(reason)}\n{escape(remedy)}")],
    )


def render_usage(problem: UsageError, locale: str = "en") -> Message:
    lines = [f":grey_question: {escape(problem.message)}"]
    if problem.usage:
        lines.append("```" + "\n".join(f"/quay {escape(u)}" for u in problem.usage) + "```")
    lines.append(t(locale, "See {command}.", command=f"`/quay help{' ' + problem.topic if problem.topic else ''}`"))
    return Message(t(locale, "Usage:") + f" {escape(problem.message)}", [section("\n".join(lines))])
