"""What a reply is rendered for: the Quay it links to, who acted, where, in which language."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.access import Role
from bot.i18n import t


@dataclass(frozen=True)
class RenderContext:
    quay_url: str
    user_id: str | None = None  # who acted, named in channel announcements
    confirmation_id: str | None = None  # set: confirmation prompts get Confirm/Cancel buttons
    confirm_hint: str | None = None  # shown instead of buttons (the CLI's "--yes")
    role: Role | None = None  # the channel's: which actions a card offers
    now: float = field(default_factory=time.time)
    locale: str = "en"  # the channel's language
    approval_ttl: float | None = None  # how long an approval request stays open, in seconds

    def t(self, message: str, /, **params: object) -> str:
        return t(self.locale, message, **params)
