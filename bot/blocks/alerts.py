"""Notification-failure alerts and their thread lines, as posted to mapped channels."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.ids import ALERT_DELETE_ACTION, ALERT_MUTE_ACTION, ALERT_TEST_ACTION, RESET_ACTION, reset_value
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
    plain,
    section,
)
from bot.i18n import plural, t
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED, TITLE_PREFIX
from bot.quay.names import RepositoryRef
from bot.quay.worker import what_quay_does_next

UNREACHABLE = ":satellite_antenna: *Quay cannot reach quaybot*"
UNREACHABLE = ":satellite_antenna: *Quay cannot reach quaybot*"
HEADLINES = {
    "failing": ":warning: *A Quay notification is failing*",
    "disabled": ":rotating_light: *Quay disabled a notification*",
    "recovered": ":white_check_mark: *Recovered*",
    "gone": ":wastebasket: *Notification deleted*",
}


@dataclass(frozen=True)
class AlertView:
    namespace: str
    repository: str
    uuid: str
    event: str
    method: str
    target: str  # already masked
    failures: int
    state: str
    title: str | None = None

    @property
    def repo(self) -> RepositoryRef:
        return RepositoryRef(self.namespace, self.repository)

    @property
    def quaybot_webhook(self) -> bool:
        """A subscription's own webhook: failing means Quay cannot reach the bot."""
        return self.method == "webhook" and (self.title or "").startswith(TITLE_PREFIX)


def render_alert(view: AlertView, quay_url: str, locale: str = "en") -> Message:
    repo = view.repo
    unreachable = view.quaybot_webhook and view.state in ("failing", "disabled")
    headline = t(locale, UNREACHABLE if unreachable else HEADLINES.get(view.state, HEADLINES["failing"]))
    name = f" “{escape(view.title)}”" if view.title else ""
    where = link(f"{quay_url}/repository/{repo.full_name}", repo.full_name)
    what = t(locale, "{headline} on {repo}", headline=headline, repo=where) + f"{name}\n" + _explanation(view, locale)
    blocks: list[Block] = [
        fields(
            [
                (t(locale, "Event"), code(view.event)),
                (t(locale, "Method"), code(view.method)),
                (t(locale, "Target"), code(view.target)),
                (
                    t(locale, "Failures"),
                    t(locale, "{count} of {limit}", count=view.failures, limit=FAILURES_BEFORE_DISABLED),
                ),
                ("UUID", code(view.uuid)),
            ],
            text=what,
        )
    ]
    if view.state in ("failing", "disabled"):
        blocks.append(_buttons(view, locale))
    blocks.append(context(f"`/quay notify get {repo.full_name} {view.uuid}`"))
    plain = t(
        locale,
        "{state}: {event} notification on {repo} ({failures})",
        state=_plain_state(view, locale),
        event=view.event,
        repo=repo.full_name,
        failures=plural(locale, view.failures, "{count} failure", "{count} failures"),
    )
    if unreachable:
        plain = t(
            locale,
            "Quay cannot reach quaybot at QUAYBOT_PUBLIC_URL; events for {repo} are being lost",
            repo=repo.full_name,
        )
    return Message(plain, blocks, in_channel=True)


def _buttons(view: AlertView, locale: str) -> Block:
    value = reset_value(view.repo, view.uuid)
    return actions(
        button(t(locale, "Send test"), ALERT_TEST_ACTION, value),
        button(t(locale, "Reset failures"), RESET_ACTION, value, style="primary"),
        button(t(locale, "Delete"), ALERT_DELETE_ACTION, value, style="danger"),
        button(t(locale, "Mute 24h"), ALERT_MUTE_ACTION, value),
    )


# A digest shows this many alerts with their buttons (two blocks each, within Slack's 50); the rest
# are listed as lines.
DIGEST_WITH_BUTTONS = 20


def render_digest(views: list[AlertView], quay_url: str, locale: str = "en") -> Message:
    """Many new alerts for one channel at once: one message instead of a burst."""
    count = len(views)
    blocks: list[Block] = [
        header(t(locale, "{count} Quay notifications started failing", count=count)),
        section(
            t(
                locale,
                "Quay stops sending a notification after {limit} failures in a row. Each one below has its own "
                "buttons; what happens next is said in this thread.",
                limit=FAILURES_BEFORE_DISABLED,
            )
        ),
    ]
    for view in views[:DIGEST_WITH_BUTTONS]:
        blocks.append(section(_digest_line(view, quay_url, locale)))
        blocks.append(_buttons(view, locale))
    rest = [_digest_line(view, quay_url, locale) for view in views[DIGEST_WITH_BUTTONS:]]
    if rest:
        blocks.append(section(chunk_lines([t(locale, "And {count} more:", count=len(rest)), *rest])[0]))
    names = ", ".join(f"{v.namespace}/{v.repository}" for v in views[:5])
    more = t(locale, " and {count} more", count=count - 5) if count > 5 else ""
    text = t(locale, "{count} Quay notifications started failing:", count=count) + f" {names}{more}"
    return Message(text, blocks, in_channel=True)


def _digest_line(view: AlertView, quay_url: str, locale: str) -> str:
    repo = view.repo
    state = (
        t(locale, "disabled by Quay")
        if view.state == "disabled"
        else t(locale, "{count} of {limit}", count=view.failures, limit=FAILURES_BEFORE_DISABLED)
    )
    title = f" “{escape(view.title)}”" if view.title else ""
    return (
        f"{link(f'{quay_url}/repository/{repo.full_name}', repo.full_name)}{title}: "
        f"{code(view.event)} → {code(view.method)} {code(view.target)}, " + t(locale, "failures {state}", state=state)
    )


def _explanation(view: AlertView, locale: str) -> str:
    if view.quaybot_webhook and view.state in ("failing", "disabled"):
        lost = (
            t(locale, "events are being lost")
            if view.state == "failing"
            else t(locale, "Quay has stopped sending them")
        )
        return t(
            locale,
            "Quay cannot reach quaybot at QUAYBOT_PUBLIC_URL ({target}); {lost}. This is the webhook of a channel "
            "subscription: check that the bot runs, that QUAYBOT_PUBLIC_URL is right, and that Quay can reach it, "
            "then reset the failures.",
            target=code(view.target),
            lost=lost,
        )
    if view.state == "failing":
        return t(
            locale,
            "Its last delivery failed. {next} Nobody is told when that happens. Fix the target, send a test, or "
            "reset the count.",
            next=what_quay_does_next(view.failures, locale),
        )
    if view.state == "disabled":
        return t(
            locale,
            "It failed {count} times in a row, so Quay stopped delivering it: events since then are dropped and "
            "are not replayed. Fix the target, then reset it.",
            count=view.failures,
        )
    if view.state == "recovered":
        return t(locale, "Deliveries succeed again.")
    return t(locale, "The notification no longer exists.")


def _plain_state(view: AlertView, locale: str) -> str:
    states = {"failing": "Failing", "disabled": "Disabled by Quay", "recovered": "Recovered", "gone": "Deleted"}
    return t(locale, states.get(view.state, "Failing"))


def render_thread_line(text: str) -> Message:
    return plain(text, in_channel=True)


def render_warning(namespace: str, reason: str, locale: str = "en") -> Message:
    text = t(
        locale,
        ":warning: *quaybot cannot watch the notifications of {namespace}.* {reason} Listing notifications needs a "
        "token with the repo:admin scope. Alerts for this namespace stay off until the token is fixed; this warning "
        "is not repeated.",
        namespace=f"`{escape(namespace)}`",
        reason=escape(reason),
    )
    plain = t(locale, "quaybot cannot watch the notifications of {namespace}:", namespace=namespace) + f" {reason}"
    return Message(plain, [section(text)], in_channel=True)
