"""Tables. Timestamps are UNIX seconds (floats): the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.db import Base


class Confirmation(Base):
    """A destructive command waiting for its requester's click."""

    __tablename__ = "confirmations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(Text)  # canonical text; destructive commands carry no secret
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    # pending -> running -> done | failed | refused; pending -> cancelled | expired
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    claimed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntry(Base):
    """One change attempted through the bot."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(Text)  # secrets masked
    namespace: Mapped[str | None] = mapped_column(String(255), nullable=True)
    repository: Mapped[str | None] = mapped_column(String(512), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))
    quay_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class Alert(Base):
    """What one channel has been told about one notification."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("channel_id", "notification_uuid", name="uq_alert_channel_notification"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    notification_uuid: Mapped[str] = mapped_column(String(64), index=True)
    namespace: Mapped[str] = mapped_column(String(255), index=True)
    repository: Mapped[str] = mapped_column(String(512))  # the name inside the namespace
    state: Mapped[str] = mapped_column(String(16))  # healthy | failing | disabled | recovered | gone
    failures: Mapped[int] = mapped_column(Integer, default=0)
    parent_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # outbox post of this episode
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    event: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)  # masked
    updated_at: Mapped[float] = mapped_column(Float)


class Mute(Base):
    __tablename__ = "mutes"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notification_uuid: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[float] = mapped_column(Float)
    by_user: Mapped[str] = mapped_column(String(32))


class OutboxItem(Base):
    """A Slack message to send: delivered once, in order per channel, retried until Slack takes it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # alert | digest (a new parent) | update (edit it) | thread | post | ephemeral (a reply response_url lost)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the alert item an update/thread is about
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # for ephemeral messages
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)  # Slack's ts once sent
    payload: Mapped[str] = mapped_column(Text)  # JSON: text and blocks
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # pending -> sending (claimed by one sender until claim_expires_at) -> sent | pending (retry) | dead
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claim_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class InventoryRepo(Base):
    """The repositories of a watched namespace, and whether they had notifications when last looked at."""

    __tablename__ = "inventory"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    has_notifications: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: never checked
    # Some notification is for an event no usage-log entry precedes (a vulnerability, an expiry, a
    # build): where the logs are read, only those repositories are read again now and then. None: unknown.
    unlogged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    checked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    listed_at: Mapped[float] = mapped_column(Float)
    # Quay's `last_modified` (start of the newest tag, epoch seconds): when it moves, there was a push.
    last_modified: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A read due soon (after a push, while failing, after the bot itself changed a notification).
    next_check_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    pushed_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # what `next_check_at` counts from


class NamespaceWatch(Base):
    """Per watched namespace: when its inventory was listed, and a warning already given."""

    __tablename__ = "namespace_watch"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    listed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    warning: Mapped[str | None] = mapped_column(Text, nullable=True)
    warned_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    rotation_cursor: Mapped[str | None] = mapped_column(String(512), nullable=True)  # last name read in rotation
    first_pass_done_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Lease(Base):
    """Who leads the watcher: one row, taken over when its holder stops renewing it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[float] = mapped_column(Float)


class Subscription(Base):
    """A channel's subscription to the Quay events of one repository, or of a whole namespace."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel_id", "namespace", "repository", name="uq_subscription_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    namespace: Mapped[str] = mapped_column(String(255), index=True)
    repository: Mapped[str] = mapped_column(String(512))  # "" for every repository of the namespace
    events: Mapped[str] = mapped_column(Text)  # space-separated event names
    # SHA-256 of the secret in the webhook URL; the secret itself is only in Quay's notification config.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)


class SubscriptionHook(Base):
    """A Quay notification the bot created for a subscription: exactly what `unsubscribe` deletes."""

    __tablename__ = "subscription_hooks"

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(512), primary_key=True)
    event: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_uuid: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[float] = mapped_column(Float)


class EventMessage(Base):
    """Events that share one Slack message: a repository's pushes within a minute, a build's stages."""

    __tablename__ = "event_messages"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    outbox_item_id: Mapped[int] = mapped_column(Integer)  # the post the later events edit and thread under
    opened_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    data: Mapped[str] = mapped_column(Text)  # JSON: what the message shows so far


class SeenRequest(Base):
    """A Slack request already taken (its signature, trigger or event id, hashed): a replay of it, or
    Slack's retry, is acked and not run again. Kept a little beyond Slack's five-minute window."""

    __tablename__ = "seen_requests"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[float] = mapped_column(Float, index=True)


class OpenedView(Base):
    """A modal the bot opened, and for whom: only its submission is taken."""

    __tablename__ = "opened_views"

    view_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    callback_id: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[float] = mapped_column(Float, index=True)


class LinkedAccount(Base):
    """A Slack user's linked Quay account: its OAuth token, encrypted (`bot/sealing.py`)."""

    __tablename__ = "linked_accounts"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    quay_username: Mapped[str] = mapped_column(String(255))
    token_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[str] = mapped_column(Text)
    linked_at: Mapped[float] = mapped_column(Float)


class LoginStart(Base):
    """A `/quay login` in progress: its single-use state, who asked, and (once the browser has opened
    the start page) the hash of the cookie that binds the browser to it."""

    __tablename__ = "login_starts"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Approval(Base):
    """A command its requester confirmed, waiting for a second member's approval."""

    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    requester_id: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(Text)  # canonical text, as a confirmation's
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    # pending -> running -> done | failed | refused; pending -> rejected | withdrawn | expired
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)


class LogFeed(Base):
    """How far the watch has read a namespace's usage logs, and which source it uses for it."""

    __tablename__ = "log_feeds"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The newest entry's time (Quay's logs have whole seconds and no id) and the keys of the entries
    # already taken in that second: a later read skips exactly those.
    newest_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    seen: Mapped[str] = mapped_column(Text, default="[]")
    source: Mapped[str] = mapped_column(String(16), default="logs")  # logs | listing
    why: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the listing, when it is
    retry_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # when to try the logs again
