"""The App Home: the tab a user opens, and its alert buttons, each acting as from the alert's
channel once the tab is shown to have offered it to this user."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_sdk.models.views import View

from bot.access import Caller
from bot.blocks.home import render_home
from bot.home import home_of, may_act_from
from bot.interactions.buttons import ButtonReplies
from bot.interactions.replies import Reply, Shared
from bot.store.alerts import AlertStore

log = logging.getLogger(__name__)


class HomeReplies:
    def __init__(self, shared: Shared, buttons: ButtonReplies, alerts: AlertStore | None) -> None:
        self.shared = shared
        self.buttons = buttons
        self.alerts = alerts

    async def view(self, user_id: str) -> View:
        assert self.alerts is not None  # built with the bot
        home = await home_of(user_id, self.shared.service.policy, self.alerts.db, self.alerts, self.shared.audit)
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
