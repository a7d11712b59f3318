"""The App Home of one user: what they may do and from where, the open alerts of those channels, and
their own latest changes. No Slack here; `bot/blocks/home.py` renders it.

A channel is shown only when the access file's `users` list for it names this user: that is the one
way to know, without reading Slack's channel membership (`channels:read`, `groups:read`), that the
user may act from it. Channels open to all their members are not listed, and the home says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import AccessPolicy, ChannelAccess
from bot.store.alerts import AlertRecord, AlertStore
from bot.store.audit import AuditLog, AuditRecord
from bot.store.db import Database

OPEN_ALERTS = 20
AUDIT_ROWS = 10


@dataclass(frozen=True)
class Home:
    user_id: str
    channels: tuple[ChannelAccess, ...]
    alerts: tuple[AlertRecord, ...]
    audit: tuple[AuditRecord, ...]
    unlisted: int  # channels mapped without a users list: not shown, whoever asks


async def home_of(user_id: str, policy: AccessPolicy, db: Database, alerts: AlertStore, audit: AuditLog) -> Home:
    channels = tuple(sorted(policy.named_channels(user_id), key=lambda c: c.channel_id))
    ids = [c.channel_id for c in channels]
    open_alerts = await db.run(lambda: alerts.open_alerts(ids, OPEN_ALERTS))
    rows = await db.run(lambda: audit.for_user(user_id, AUDIT_ROWS))
    unlisted = sum(1 for c in policy.channels.values() if c.users is None)
    return Home(user_id, channels, tuple(open_alerts), tuple(rows), unlisted)


def may_act_from(policy: AccessPolicy, user_id: str, channel_id: str) -> bool:
    """A button of the home names a channel: honoured only for one the home could show this user."""
    return any(c.channel_id == channel_id for c in policy.named_channels(user_id))
