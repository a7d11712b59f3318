"""Wiring: settings in, a running bot out. Everything is built here and nowhere else."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import tracing
from bot.access import AccessPolicy
from bot.access_file import load_policy
from bot.access_reload import AccessReloader
from bot.alerts.reads import WatchSettings
from bot.alerts.runner import WatchLoop
from bot.alerts.watcher import Watcher
from bot.auditing import AuditChannel
from bot.egress import egress_policy
from bot.identities import Identities
from bot.interactions import Interactions
from bot.logs import add_secrets
from bot.metrics import Metrics
from bot.quay import QuayClient, RetryPolicy
from bot.quay.client import CallObserver
from bot.quay.oauth import OAuthApplication
from bot.sealing import Sealer
from bot.service import CommandService
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.background import Background
from bot.slack.delivery import ReplyDelivery
from bot.slack.identity import BotIdentity
from bot.slack.outbox import OutboxSender
from bot.slack.replays import ReplayGuard
from bot.slack.views import OpenedViews
from bot.slices import COMMAND_NAMES
from bot.store import AuditLog, ConfirmationStore, Database
from bot.store.alerts import AlertStore
from bot.store.approvals import ApprovalStore
from bot.store.guards import GuardStore
from bot.store.links import LinkStore
from bot.store.outbox import OutboxStore
from bot.store.subscriptions import SubscriptionStore
from bot.subscriptions import tokens
from bot.subscriptions.manager import SubscriptionManager
from bot.subscriptions.pushers import WhoPushed
from bot.subscriptions.receiver import EventReceiver
from bot.work import WorkGate

log = logging.getLogger(__name__)
# Grouped event messages (a build's stages) are forgotten after this long without a new event.
EVENT_GROUPS_KEPT = 2 * 24 * 3600.0


class SlackSettingsMissing(Exception):
    pass


def check_slack_settings(settings: Settings, *, watch_only: bool = False) -> None:
    """Name every variable the chosen mode needs and does not have, in one line."""
    needed = {"SLACK_BOT_TOKEN": settings.slack_bot_token}
    if watch_only:
        if settings.slack_bot_token is None:
            raise SlackSettingsMissing("quaybot watch needs SLACK_BOT_TOKEN (not set)")
        return
    if settings.effective_mode == "http":
        needed["SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    else:
        needed["SLACK_APP_TOKEN"] = settings.slack_app_token
    missing = [name for name, value in needed.items() if value is None]
    if missing:
        raise SlackSettingsMissing(f"QUAYBOT_MODE={settings.effective_mode} needs {' and '.join(missing)} (not set)")


@dataclass
class Bot:
    settings: Settings
    policy: AccessPolicy
    db: Database
    quay: QuayClient
    metrics: Metrics
    interactions: Interactions
    slack: AsyncApp
    watch: WatchLoop
    outbox: OutboxSender
    delivery: ReplyDelivery
    identity: BotIdentity
    gate: WorkGate
    reloader: AccessReloader
    service: CommandService
    subscriptions: SubscriptionManager
    receiver: EventReceiver
    background: Background
    replays: ReplayGuard
    identities: Identities | None = None
    secrets: list[str] = field(default_factory=list, repr=False)

    async def aclose(self) -> None:
        await self.delivery.aclose()
        await self.quay.aclose()
        await self.watch.watcher.quay.aclose()
        self.db.dispose()


def _observed(count: CallObserver) -> CallObserver:
    """Each Quay call counted in /metrics and, when tracing is on, a span of its trace."""

    def observe(method: str, path: str, outcome: str, seconds: float) -> None:
        count(method, path, outcome, seconds)
        tracing.quay_call(method, path, outcome, seconds)

    return observe


def secret_values(settings: Settings, policy: AccessPolicy | None = None) -> list[str]:
    values = [
        settings.quay_token,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.quay_oauth_client_secret,
        settings.secret_key,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    if policy is not None:
        found += [t.get_secret_value() for t in policy.tokens.values()]
    return found


def build_identities(settings: Settings, db: Database, quay: QuayClient) -> Identities:
    """People's linked Quay accounts; without the settings linking needs, `/quay login` says which."""
    app = OAuthApplication.from_settings(settings)
    sealer = Sealer(settings.secret_key) if settings.secret_key is not None else None
    return Identities(db, LinkStore(db, sealer), quay, app, settings.linking_missing)


def build_bot(settings: Settings, policy: AccessPolicy | None = None, *, watch_only: bool = False) -> Bot:
    check_slack_settings(settings, watch_only=watch_only)
    policy = policy or load_policy(settings.access_file, os.environ, settings.quay_token, commands=COMMAND_NAMES)
    metrics = Metrics()
    db = Database(settings.database_url)
    db.create_tables()
    quay = QuayClient(
        settings.quay_url,
        verify=settings.quay_verify_tls,
        timeout=settings.quay_timeout_seconds,
        observer=_observed(metrics.observe_quay),
        max_connections=settings.max_concurrent_commands,
    )
    subscription_store = SubscriptionStore(db)
    subscriptions = SubscriptionManager(db, subscription_store, settings.public_url, metrics)
    identities = build_identities(settings, db, quay)
    service = CommandService(
        policy,
        quay,
        settings.quay_token,
        subscriptions=subscriptions,
        egress=egress_policy(settings, tokens.receiver_prefix(settings.public_url)),
        identities=identities,
    )
    alerts = AlertStore(db)
    outbox = OutboxStore(db)
    watcher = Watcher(
        policy,
        # Its own connection pool and request counter: the sweep must not starve commands.
        QuayClient(
            settings.quay_url,
            verify=settings.quay_verify_tls,
            timeout=settings.quay_timeout_seconds,
            observer=_observed(metrics.observe_watch),
            max_connections=settings.watch_concurrency,
        ),
        settings.quay_token,
        db,
        alerts,
        metrics,
        settings.quay_url,
        WatchSettings(
            interval=settings.alert_interval_seconds,
            inventory_interval=settings.inventory_interval_seconds,
            concurrency=settings.watch_concurrency,
            requests_per_second=settings.watch_requests_per_second,
        ),
    )
    confirmations = ConfirmationStore(db, settings.confirm_ttl_seconds)
    approvals = ApprovalStore(db, settings.approval_ttl_seconds)
    audit_channel = AuditChannel(lambda: bot.policy, outbox)
    identities.observers.append(audit_channel.link_event)
    interactions = Interactions(
        service,
        confirmations,
        AuditLog(db),
        metrics,
        settings.quay_url,
        alerts,
        watcher.announcer,
        approvals=approvals,
        audit_channel=audit_channel,
    )
    assert settings.slack_bot_token is not None  # check_slack_settings
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    identity = BotIdentity(client, settings.slack_bot_token.get_secret_value())
    bolt_log = logging.getLogger("bot.slack.bolt")
    with _quiet(bolt_log):
        slack = _bolt_app(client, identity, bolt_log)
    gate = WorkGate(settings.max_concurrent_commands, settings.command_queue_size, metrics)
    delivery = ReplyDelivery(db, outbox, metrics, gate=gate)
    background = Background()
    guards = GuardStore(db)
    replays = ReplayGuard(db, guards, metrics)
    listeners.register(slack, interactions, delivery, background, OpenedViews(db, guards))
    sender = OutboxSender(db, outbox, client, metrics)
    stuck_after = 2 * RetryPolicy().total_seconds + 4 * settings.quay_timeout_seconds  # longer than any action

    async def maintenance() -> None:
        await confirmations.reap_interrupted(time.time() - stuck_after)
        await approvals.reap_interrupted(time.time() - stuck_after)
        await subscriptions.sync(service.client_for)
        await db.run(lambda: subscription_store.forget_groups_before(time.time() - EVENT_GROUPS_KEPT))

    watch = WatchLoop(
        watcher,
        db,
        alerts,
        sender.send_due,
        metrics,
        interval=settings.alert_interval_seconds,
        maintenance=maintenance,
    )

    def use_policy(new: AccessPolicy) -> None:
        # Swapped whole, one reference at a time: each reader sees the old policy or the new one.
        bot.policy = service.policy = watcher.policy = new
        bot.secrets = secret_values(settings, new)
        add_secrets(bot.secrets)

    reloader = AccessReloader(
        settings.access_file,
        os.environ,
        settings.quay_token,
        use_policy,
        metrics,
        every=settings.access_reload_seconds,
        commands=COMMAND_NAMES,
    )
    bot = Bot(
        settings,
        policy,
        db,
        quay,
        metrics,
        interactions,
        slack,
        watch,
        sender,
        delivery,
        identity,
        gate,
        reloader,
        service,
        subscriptions,
        EventReceiver(
            db,
            subscription_store,
            lambda: bot.policy,
            metrics,
            who_pushed=WhoPushed(quay, settings.quay_token, lambda: bot.policy),
        ),
        background,
        replays,
        identities,
        secret_values(settings, policy),
    )
    return bot


def _bolt_app(client: AsyncWebClient, identity: BotIdentity, logger: logging.Logger) -> AsyncApp:
    return AsyncApp(
        client=client,
        # Every HTTP request is verified by the bot's own server before Bolt sees it (over the raw
        # bytes, before parsing), and Socket Mode requests are not signed: Bolt's second check is off.
        signing_secret=secrets.token_hex(16),
        request_verification_enabled=False,
        authorize=identity.authorizer(),
        # Bolt runs each listener to its end inside the request's own task: commands, clicks and
        # events are acked by the server before Bolt runs, and a form submission hands its work to
        # `background` once acked. Bolt's other mode would add a task and a 10 ms ack poll per request.
        process_before_response=True,
        logger=logger,
    )


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns, at every start, that the client
    and `authorize` given to it take the token's place, which is the intent: nothing to tell an operator."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
