"""Notification-failure alerts and their thread lines, as posted to mapped channels."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.alerts.schedule import what_quay_does_next
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
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.names import RepositoryRef
from bot.subscriptions.tokens import TITLE_PREFIX

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


def render_alert(view: AlertView, quay_url: str) -> Message:
    repo = view.repo
    headline = HEADLINES.get(view.state, HEADLINES["failing"])
    if view.quaybot_webhook and view.state in ("failing", "disabled"):
        headline = UNREACHABLE
    name = f" “{escape(view.title)}”" if view.title else ""
    what = f"{headline} on {link(f'{quay_url}/repository/{repo.full_name}', repo.full_name)}{name}\n" + _explanation(
        view
    )
    blocks: list[Block] = [
        fields(
            [
                ("Event", code(view.event)),
                ("Method", code(view.method)),
                ("Target", code(view.target)),
                ("Failures", f"{view.failures} of {FAILURES_BEFORE_DISABLED}"),
                ("UUID", code(view.uuid)),
            ],
            text=what,
        )
    ]
    if view.state in ("failing", "disabled"):
        blocks.append(_buttons(view))
    blocks.append(context(f"`/quay notify get {repo.full_name} {view.uuid}`"))
    plain = f"{_plain_state(view)}: {view.event} notification on {repo.full_name} ({view.failures} failures)"
    if view.quaybot_webhook and view.state in ("failing", "disabled"):
        plain = f"Quay cannot reach quaybot at QUAYBOT_PUBLIC_URL; events for {repo.full_name} are being lost"
    return Message(plain, blocks, in_channel=True)


def _buttons(view: AlertView) -> Block:
    value = reset_value(view.repo, view.uuid)
    return actions(
        button("Send test", ALERT_TEST_ACTION, value),
        button("Reset failures", RESET_ACTION, value, style="primary"),
        button("Delete", ALERT_DELETE_ACTION, value, style="danger"),
        button("Mute 24h", ALERT_MUTE_ACTION, value),
    )


# A digest shows this many alerts with their buttons (two blocks each, within Slack's 50); the rest
# are listed as lines.
DIGEST_WITH_BUTTONS = 20


def render_digest(views: list[AlertView], quay_url: str) -> Message:
    """Many new alerts for one channel at once: one message instead of a burst."""
    count = len(views)
    blocks: list[Block] = [
        header(f"{count} Quay notifications started failing"),
        section(
            "Quay stops sending a notification after "
            f"{FAILURES_BEFORE_DISABLED} failures in a row. Each one below has its own buttons; "
            "what happens next is said in this thread."
        ),
    ]
    for view in views[:DIGEST_WITH_BUTTONS]:
        blocks.append(section(_digest_line(view, quay_url)))
        blocks.append(_buttons(view))
    rest = [_digest_line(view, quay_url) for view in views[DIGEST_WITH_BUTTONS:]]
    if rest:
        blocks.append(section(chunk_lines([f"And {len(rest)} more:", *rest])[0]))
    names = ", ".join(f"{v.namespace}/{v.repository}" for v in views[:5])
    more = f" and {count - 5} more" if count > 5 else ""
    return Message(f"{count} Quay notifications started failing: {names}{more}", blocks, in_channel=True)


def _digest_line(view: AlertView, quay_url: str) -> str:
    repo = view.repo
    state = "disabled by Quay" if view.state == "disabled" else f"{view.failures} of {FAILURES_BEFORE_DISABLED}"
    title = f" “{escape(view.title)}”" if view.title else ""
    return (
        f"{link(f'{quay_url}/repository/{repo.full_name}', repo.full_name)}{title}: "
        f"{code(view.event)} → {code(view.method)} {code(view.target)}, failures {state}"
    )


def _explanation(view: AlertView) -> str:
    if view.quaybot_webhook and view.state in ("failing", "disabled"):
        lost = "events are being lost" if view.state == "failing" else "Quay has stopped sending them"
        return (
            f"Quay cannot reach quaybot at QUAYBOT_PUBLIC_URL ({code(view.target)}); {lost}. This is the webhook "
            "of a channel subscription: check that the bot runs, that QUAYBOT_PUBLIC_URL is right, and that Quay "
            "can reach it, then reset the failures."
        )
    if view.state == "failing":
        return (
            f"Its last delivery failed. {what_quay_does_next(view.failures)} Nobody is told when that happens. "
            "Fix the target, send a test, or reset the count."
        )
    if view.state == "disabled":
        return (
            f"It failed {view.failures} times in a row, so Quay stopped delivering it: events since then are "
            "dropped and are not replayed. Fix the target, then reset it."
        )
    if view.state == "recovered":
        return "Deliveries succeed again."
    return "The notification no longer exists."


def _plain_state(view: AlertView) -> str:
    return {"failing": "Failing", "disabled": "Disabled by Quay", "recovered": "Recovered", "gone": "Deleted"}.get(
        view.state, "Failing"
    )


def render_thread_line(text: str) -> Message:
    return plain(text, in_channel=True)


def render_warning(namespace: str, reason: str) -> Message:
    text = (
        f":warning: *quaybot cannot watch the notifications of `{escape(namespace)}`.* {escape(reason)} "
        "Listing notifications needs a token with the repo:admin scope. Alerts for this namespace stay off "
        "until the token is fixed; this warning is not repeated."
    )
    return Message(f"quaybot cannot watch the notifications of {namespace}: {reason}", [section(text)], in_channel=True)
