"""Notification-failure alerts and their thread lines, as posted to mapped channels."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.ids import ALERT_DELETE_ACTION, ALERT_MUTE_ACTION, ALERT_TEST_ACTION, RESET_ACTION, reset_value
from bot.blocks.message import Message, actions, button, code, context, escape, fields, link, section
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.names import RepositoryRef

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


def render_alert(view: AlertView, quay_url: str) -> Message:
    repo = view.repo
    headline = HEADLINES.get(view.state, HEADLINES["failing"])
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
        value = reset_value(repo, view.uuid)
        blocks.append(
            actions(
                button("Send test", ALERT_TEST_ACTION, value),
                button("Reset failures", RESET_ACTION, value, style="primary"),
                button("Delete", ALERT_DELETE_ACTION, value, style="danger"),
                button("Mute 24h", ALERT_MUTE_ACTION, value),
            )
        )
    blocks.append(context(f"`/quay notify get {repo.full_name} {view.uuid}`"))
    plain = f"{_plain_state(view)}: {view.event} notification on {repo.full_name} ({view.failures} failures)"
    return Message(plain, blocks, in_channel=True)


def _explanation(view: AlertView) -> str:
    if view.state == "failing":
        left = FAILURES_BEFORE_DISABLED - view.failures
        return (
            f"Its last delivery failed. After {left} more failure(s) in a row Quay silently stops sending it, "
            "and nobody is told. Fix the target, send a test, or reset the count."
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
    return Message(text, [section(text)], in_channel=True)


def render_warning(namespace: str, reason: str) -> Message:
    text = (
        f":warning: *quaybot cannot watch the notifications of `{escape(namespace)}`.* {escape(reason)} "
        "Listing notifications needs a token with the repo:admin scope. Alerts for this namespace stay off "
        "until the token is fixed; this warning is not repeated."
    )
    return Message(f"quaybot cannot watch the notifications of {namespace}: {reason}", [section(text)], in_channel=True)
