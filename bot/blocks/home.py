"""The App Home tab: where the user may use /quay, the open alerts there with their buttons, their own
latest changes, and a Refresh button. Home tabs hold 100 blocks; this stays far under."""

from __future__ import annotations

import time

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.access import Role
from bot.blocks.ids import (
    HOME_ALERT_DELETE_ACTION,
    HOME_ALERT_MUTE_ACTION,
    HOME_ALERT_TEST_ACTION,
    HOME_REFRESH_ACTION,
    HOME_RESET_ACTION,
    NO_VALUE,
)
from bot.blocks.message import actions, button, chunk_lines, code, context, escape, header, section
from bot.home import Home
from bot.i18n import plural, t
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED

CAN = {
    Role.READ: "list and show repositories and notifications",
    Role.WRITE: "also create repositories, edit descriptions, add, test and reset notifications, subscribe",
    Role.ADMIN: "also change visibility, delete repositories and notifications",
}


def render_home(home: Home, now: float | None = None) -> View:
    """In the language of the user's channels when they all have the same; English otherwise."""
    now = time.time() if now is None else now
    locales = {c.locale for c in home.channels}
    loc = locales.pop() if len(locales) == 1 else "en"
    blocks: list[Block] = [header("quaybot"), section(t(loc, "*Where you can use `/quay`*"))]
    if home.channels:
        lines = [
            f"<#{c.channel_id}> · {', '.join(code(n) for n in c.namespaces)} · "
            f"*{t(loc, c.role.label)}*: {t(loc, CAN[c.role])}" + (t(loc, " · alerts here") if c.alerts else "")
            for c in home.channels
        ]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    else:
        blocks.append(section(t(loc, "No channel's `users` list in the access file names you, so none is shown here.")))
    if home.unlisted:
        blocks.append(
            context(
                plural(
                    loc,
                    home.unlisted,
                    "{count} mapped channel is open to all its members: it is not listed here, since the bot "
                    "does not read channel membership. `/quay help` in a channel says what you can do there.",
                    "{count} mapped channels are open to all their members: they are not listed here, since the bot "
                    "does not read channel membership. `/quay help` in a channel says what you can do there.",
                )
            )
        )
    blocks += [DividerBlock(), section(t(loc, "*Open failure alerts*"))]
    if not home.alerts:
        blocks.append(context(t(loc, "None in these channels.")))
    for alert in home.alerts:
        state = (
            t(loc, "disabled by Quay")
            if alert.state == "disabled"
            else t(loc, "failing, {count} of {limit}", count=alert.failures, limit=FAILURES_BEFORE_DISABLED)
        )
        blocks.append(
            section(
                f"<#{alert.channel}> · {code(f'{alert.namespace}/{alert.repository}')} · {code(alert.event)} → "
                f"{code(alert.method)} {code(alert.target)} · *{state}*"
            )
        )
        value = f"{alert.channel} {alert.namespace}/{alert.repository} {alert.uuid}"
        blocks.append(
            actions(
                button(t(loc, "Send test"), HOME_ALERT_TEST_ACTION, value),
                button(t(loc, "Reset failures"), HOME_RESET_ACTION, value, style="primary"),
                button(t(loc, "Delete"), HOME_ALERT_DELETE_ACTION, value, style="danger"),
                button(t(loc, "Mute 24h"), HOME_ALERT_MUTE_ACTION, value),
            )
        )
    blocks += [DividerBlock(), section(t(loc, "*Your latest changes*"))]
    if home.audit:
        lines = [
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(r.at))} · <#{r.channel_id}> · "
            f"{code('/quay ' + r.command)} · {escape(t(loc, r.outcome))}"
            for r in home.audit
        ]
        blocks += [section(chunk) for chunk in chunk_lines(lines)]
    else:
        blocks.append(context(t(loc, "Nothing yet.")))
    blocks.append(actions(button(t(loc, "Refresh"), HOME_REFRESH_ACTION, NO_VALUE)))
    blocks.append(context(t(loc, "Updated {when}", when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now)))))
    return View(type="home", blocks=blocks)
