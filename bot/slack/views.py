"""The modals the bot opened, remembered so that only their own submissions are taken: a
`view_submission` is signed by Slack, but its view id, callback and channel are whatever the
sender wrote, and a forged one naming a channel would otherwise act there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.access import Caller
from bot.store.db import Database
from bot.store.guards import GuardStore, View

log = logging.getLogger(__name__)


class OpenedViews:
    def __init__(self, db: Database, store: GuardStore) -> None:
        self.db = db
        self.store = store

    async def opened(self, view_id: str, callback_id: str, caller: Caller) -> None:
        view = View(view_id, caller.team_id, caller.user_id, caller.channel_id, callback_id)
        try:
            await self.db.run(lambda: self.store.remember_view(view))
        except Exception as error:  # its submission is then refused, with a word to run the command again
            log.warning("an opened form could not be recorded", extra={"error": type(error).__name__})

    async def opener(self, view: Mapping[str, Any], user_id: str, team_id: str) -> Caller | None:
        """Who the submitted view was opened for, and where: None unless the bot opened this view, with
        this callback, for this user of this team."""
        view_id, callback_id = view.get("id"), view.get("callback_id")
        if not isinstance(view_id, str) or not isinstance(callback_id, str):
            return None
        try:
            known = await self.db.run(lambda: self.store.opened_view(view_id))
        except Exception as error:
            log.warning("a submitted form could not be checked", extra={"error": type(error).__name__})
            return None
        if known is None or (known.user_id, known.team_id, known.callback_id) != (user_id, team_id, callback_id):
            log.warning("a form submission for a form the bot did not open for its sender was refused")
            return None
        return Caller(known.team_id, known.channel_id, known.user_id)

    async def closed(self, view_id: str) -> None:
        """A submission was taken: the same view is not taken twice."""
        try:
            await self.db.run(lambda: self.store.forget_view(view_id))
        except Exception as error:
            log.warning("a submitted form could not be forgotten", extra={"error": type(error).__name__})
