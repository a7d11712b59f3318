"""The App Home, in one place: what one user may do and from where, the open alerts of those channels
and their own latest changes (`home_of`), the tab drawn from it (`render_home`: Home tabs hold 100
blocks; this stays far under), and its alert buttons, each acting as from the alert's channel once
the tab is shown to have offered it to this user.

A channel is shown only when the access file's `users` list for it names this user: that is the one
way to know, without reading Slack's channel membership (`channels:read`, `groups:read`), that the
user may act from it. Channels open to all their members are not listed, and the home says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.access import AccessPolicy, Caller, ChannelAccess, Role
from bot.blocks.ids import (
    HOME_ALERT_DELETE_ACTION,
    HOME_ALERT_MUTE_ACTION,
    HOME_ALERT_TEST_ACTION,
    HOME_REFRESH_ACTION,
    HOME_RESET_ACTION,
    NO_VALUE,
)
from bot.blocks.message import actions, button, chunk_lines, code, context, escape, header, section
from bot.blocks.people import login_button
from bot.i18n import plural, t
from bot.identities import Identities
from bot.interactions.buttons import ButtonReplies
from bot.interactions.replies import Reply, Shared
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.store.alerts import AlertRecord, AlertStore
from bot.store.audit import AuditLog, AuditRecord
from bot.store.db import Database

log = logging.getLogger(__name__)

# What the home holds --------------------------------------------------------------------------

OPEN_ALERTS = 20
AUDIT_ROWS = 10


@dataclass(frozen=True)
class Home:
    user_id: str
    channels: tuple[ChannelAccess, ...]
    alerts: tuple[AlertRecord, ...]
    audit: tuple[AuditRecord, ...]
    unlisted: int  # channels mapped without a users list: not shown, whoever asks
    account: Account | None = None  # the person's own Quay account, where linking is set up


@dataclass(frozen=True)
class Account:
    linked_as: str | None
    login_url: str  # a fresh login link (it lasts 10 minutes; the tab is drawn again at each opening)


async def home_of(
    user_id: str,
    policy: AccessPolicy,
    db: Database,
    alerts: AlertStore,
    audit: AuditLog,
    identities: Identities | None = None,
    team_id: str = "",
) -> Home:
    channels = tuple(sorted(policy.named_channels(user_id), key=lambda c: c.channel_id))
    ids = [c.channel_id for c in channels]
    open_alerts = await db.run(lambda: alerts.open_alerts(ids, OPEN_ALERTS))
    rows = await db.run(lambda: audit.for_user(user_id, AUDIT_ROWS))
    unlisted = sum(1 for c in policy.channels.values() if c.users is None)
    account = None
    if identities is not None and identities.enabled and team_id:
        me = Caller(team_id, "", user_id)
        linked = await identities.link_of(me)
        account = Account(linked.quay_username if linked else None, await identities.login_url(me))
    return Home(user_id, channels, tuple(open_alerts), tuple(rows), unlisted, account)


def may_act_from(policy: AccessPolicy, user_id: str, channel_id: str) -> bool:
    """A button of the home names a channel: honoured only for one the home could show this user."""
    return any(c.channel_id == channel_id for c in policy.named_channels(user_id))


# The tab ----------------------------------------------------------------------------------------

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
    if home.account is not None:
        blocks += [DividerBlock(), section(t(loc, "*Your Quay account*"))]
        if home.account.linked_as:
            said = t(
                loc,
                "Linked to {account}: in channels set to act as each person, commands run as it.",
                account=code(home.account.linked_as),
            )
            label = t(loc, "Link another Quay account")
        else:
            said = t(loc, "Not linked: in channels set to act as each person, nothing runs for you until it is.")
            label = t(loc, "Link your Quay account")
        blocks += [section(said), actions(login_button(label, home.account.login_url))]
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


# Its buttons ------------------------------------------------------------------------------------


class HomeReplies:
    def __init__(self, shared: Shared, buttons: ButtonReplies, alerts: AlertStore | None) -> None:
        self.shared = shared
        self.buttons = buttons
        self.alerts = alerts

    async def view(self, user_id: str, team_id: str = "") -> View:
        assert self.alerts is not None  # built with the bot
        service = self.shared.service
        home = await home_of(
            user_id, service.policy, self.alerts.db, self.alerts, self.shared.audit, service.identities, team_id
        )
        return render_home(home)

    def alert_button(
        self, kind: str, value: str, user_id: str, team_id: str
    ) -> tuple[Caller, Callable[[], Awaitable[list[Reply]]]] | None:
        """An alert's button on the home tab: the channel it names must be one the home shows this
        user (a forged value gets nothing); then the same handler as in the channel, as from there."""
        channel, _, rest = value.partition(" ")
        if not may_act_from(self.shared.service.policy, user_id, channel):
            log.warning("a home button named a channel it could not show", extra={"channel": channel[:32]})
            return None
        caller = Caller(team_id, channel, user_id)
        handlers = {
            "test": self.buttons.alert_test,
            "reset": self.buttons.reset,
            "delete": self.buttons.alert_delete,
            "mute": self.buttons.alert_mute,
        }
        handler = handlers[kind]
        return caller, lambda: handler(rest, caller)
