"""Subscriptions, Quay side: each is one `webhook` notification per repository and event, pointing at
`QUAYBOT_PUBLIC_URL/quay/events/<token>?event=<event>` and titled `quaybot …`. The bot records every
notification it makes, so `unsubscribe` deletes exactly those, and a sync keeps namespace-wide
subscriptions in step with the namespace's repositories.

No Slack here: callers get plain results (`bot/subscriptions/reports.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.metrics import Metrics
from bot.quay import NewNotification, QuayClient, QuayError, QuayNotFound
from bot.quay.catalogue import TITLE_PREFIX, InvalidNotification, validate_method
from bot.quay.names import RepositoryRef
from bot.store.db import Database
from bot.store.subscriptions import Hook, SubscriptionRecord, SubscriptionStore
from bot.subscriptions import tokens
from bot.subscriptions.reports import (
    NotSubscribed,
    Subscribed,
    SubscriptionLine,
    SubscriptionsListed,
    SubscriptionTarget,
    Unsubscribed,
)

log = logging.getLogger(__name__)

# A namespace-wide subscription above this many new notifications asks for confirmation first.
CONFIRM_ABOVE = 100
# Quay skips repo_image_expiry without a number of days; a week's notice is what the docs show.
EVENT_CONFIG: dict[str, dict[str, int]] = {"repo_image_expiry": {"days": 7}}


class NotConfigured(Exception):
    """`reason` and `remedy` are catalogue messages (English), filled in with `params` where shown."""

    def __init__(self, reason: str, remedy: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.remedy = remedy
        self.params = params


@dataclass(frozen=True)
class SyncReport:
    subscriptions: int
    created: int
    forgotten: int
    problems: int


def check_public_url(public_url: str | None) -> str:
    """The base URL Quay posts to, or `NotConfigured` saying what to set."""
    if not public_url:
        raise NotConfigured(
            "Subscriptions need QUAYBOT_PUBLIC_URL, the address at which Quay can reach this bot, and it is not set.",
            "Ask the bot's operator to set QUAYBOT_PUBLIC_URL (see the README's Subscriptions section).",
        )
    try:
        validate_method("webhook", {"url": public_url}, "")
    except InvalidNotification as error:
        raise NotConfigured(
            "QUAYBOT_PUBLIC_URL ({url}) cannot be used: {error}.",
            "Ask the bot's operator to set it to an address Quay accepts and can reach.",
            url=public_url,
            error=str(error),
        ) from None
    return public_url.rstrip("/")


class Request(Protocol):
    """What `subscribe` and `unsubscribe` ask for: a target, and events (none: every event)."""

    @property
    def target(self) -> SubscriptionTarget: ...

    @property
    def events(self) -> tuple[str, ...]: ...


class SubscriptionManager:
    def __init__(
        self,
        db: Database,
        store: SubscriptionStore,
        public_url: str | None,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.store = store
        self.public_url = public_url
        self.metrics = metrics
        self.clock = clock

    # Commands -----------------------------------------------------------------------------------

    async def new_notifications(self, command: Request, channel_id: str, client: QuayClient) -> tuple[int, list[str]]:
        """How many notifications `subscribe` would create (for the confirmation of a large one), and the
        repositories it read to know (for `subscribe` to use rather than list them again)."""
        check_public_url(self.public_url)
        target = command.target
        existing = await self.db.run(lambda: self.store.find(channel_id, target.namespace, target.repository))
        have = {(h.repository, h.event) for h in await self._hooks(existing)}
        repositories = await self._repositories(target, client)
        return sum(1 for name in repositories for event in command.events if (name, event) not in have), repositories

    async def subscribe(
        self,
        command: Request,
        channel_id: str,
        user_id: str,
        client: QuayClient,
        repositories: list[str] | None = None,
    ) -> Subscribed:
        """`repositories`: the target's, when the caller has just listed them."""
        public_url = check_public_url(self.public_url)
        target = command.target
        existing = await self.db.run(lambda: self.store.find(channel_id, target.namespace, target.repository))
        if repositories is None:
            repositories = await self._repositories(target, client)
        if existing is None:
            token = tokens.mint()
            now = self.clock()
            subscription = await self.db.run(
                lambda: self.store.create(
                    channel_id,
                    target.namespace,
                    target.repository,
                    command.events,
                    tokens.token_hash(token),
                    user_id,
                    now,
                )
            )
        else:
            events = tuple(dict.fromkeys((*existing.events, *command.events)))
            token = await self._token_of(existing, public_url, client)
            await self.db.run(lambda: self.store.set_events(existing.id, events))
            refreshed = await self.db.run(lambda: self.store.get(existing.id))
            assert refreshed is not None  # a concurrent unsubscribe would have to run between two lines
            subscription = refreshed
        created, kept, problem = await self._ensure_hooks(subscription, repositories, token, public_url, client)
        if existing is None and created == 0 and kept == 0 and problem is not None and repositories:
            # Nothing could be made: leave no subscription behind that only looks like it works.
            await self.db.run(lambda: self.store.delete(subscription.id))
            raise problem
        return Subscribed(
            target,
            subscription.events,
            len(repositories),
            created,
            kept,
            problem,
        )

    async def unsubscribe(self, command: Request, channel_id: str, client: QuayClient) -> Unsubscribed | NotSubscribed:
        target = command.target
        subscription = await self.db.run(lambda: self.store.find(channel_id, target.namespace, target.repository))
        if subscription is None:
            listed = await self.db.run(lambda: self.store.for_channel(channel_id))
            return NotSubscribed(target, tuple(record.target for record, _ in listed))
        removing = tuple(e for e in (command.events or subscription.events) if e in subscription.events)
        deleted = gone = 0
        problem: QuayError | None = None
        for hook in await self._hooks(subscription):
            if hook.event not in removing and command.events:
                continue
            ref = RepositoryRef(subscription.namespace, hook.repository)
            try:
                await client.delete_notification(ref, hook.notification_uuid)
                deleted += 1
            except QuayNotFound:
                gone += 1  # deleted by hand, or with its repository
            except QuayError as error:
                problem = error
                break
            await self._forget(subscription, [(hook.repository, hook.event)])
        self._count("deleted", deleted)
        remaining = tuple(e for e in subscription.events if e not in removing)
        if problem is None:
            if remaining:
                await self.db.run(lambda: self.store.set_events(subscription.id, remaining))
            else:
                await self.db.run(lambda: self.store.delete(subscription.id))
        return Unsubscribed(
            target, removing, remaining if problem is None else subscription.events, deleted, gone, problem
        )

    async def listing(self, channel_id: str) -> SubscriptionsListed:
        rows = await self.db.run(lambda: self.store.for_channel(channel_id))
        return SubscriptionsListed(
            tuple(SubscriptionLine(r.target, r.events, count, r.created_by, r.created_at) for r, count in rows)
        )

    # Keeping in step ----------------------------------------------------------------------------

    async def sync(self, client_for: Callable[[str], QuayClient]) -> SyncReport:
        """Every subscription gets the notifications it lacks: a namespace-wide one for repositories
        made since; hooks of repositories that are gone are forgotten (Quay deleted them with it)."""
        if not self.public_url:
            return SyncReport(0, 0, 0, 0)
        public_url = check_public_url(self.public_url)
        subscriptions = await self.db.run(self.store.all)
        created = forgotten = problems = 0
        # Channels subscribed to the same namespace share one listing of it per sync.
        listings: dict[SubscriptionTarget, list[str] | QuayError] = {}
        for subscription in subscriptions:
            client = client_for(subscription.namespace)
            target = SubscriptionTarget(subscription.namespace, subscription.repository)
            if target not in listings:
                listings[target] = await self._listing(target, client)
            repositories = listings[target]
            if isinstance(repositories, QuayError):
                problems += 1
                log.warning(
                    "could not list a subscription's repositories",
                    extra={"target": str(target), "error": repositories.message},
                )
                continue
            hooks = await self._hooks(subscription)
            present = set(repositories)
            stale = [(h.repository, h.event) for h in hooks if h.repository not in present]
            if stale:
                await self._forget(subscription, stale)
                forgotten += len(stale)
            have = {(h.repository, h.event) for h in hooks}
            missing = [name for name in repositories if any((name, e) not in have for e in subscription.events)]
            if not missing:
                continue
            try:
                token = await self._token_of(subscription, public_url, client)
            except QuayError as error:
                problems += 1
                log.warning(
                    "could not read a subscription's webhook", extra={"target": str(target), "error": error.message}
                )
                continue
            made, _, problem = await self._ensure_hooks(subscription, missing, token, public_url, client)
            created += made
            if problem is not None:
                problems += 1
                log.warning(
                    "could not create a subscription's notifications",
                    extra={"target": str(target), "error": problem.message},
                )
        if created or forgotten:
            log.info("subscriptions synced", extra={"created": created, "forgotten": forgotten})
        return SyncReport(len(subscriptions), created, forgotten, problems)

    # Parts --------------------------------------------------------------------------------------

    async def _hooks(self, subscription: SubscriptionRecord | None) -> list[Hook]:
        if subscription is None:
            return []
        return await self.db.run(lambda: self.store.hooks(subscription.id))

    async def _repositories(self, target: SubscriptionTarget, client: QuayClient) -> list[str]:
        if target.repository is not None:
            repository = await client.get_repository(
                RepositoryRef(target.namespace, target.repository), include_tags=False
            )
            return [repository.name]
        return [r.name async for r in client.iter_repositories(target.namespace) if r.namespace == target.namespace]

    async def _listing(self, target: SubscriptionTarget, client: QuayClient) -> list[str] | QuayError:
        try:
            return await self._repositories(target, client)
        except QuayNotFound:
            return []
        except QuayError as error:
            return error

    async def _token_of(self, subscription: SubscriptionRecord, public_url: str, client: QuayClient) -> str:
        """The secret in the subscription's webhook URLs. Only its hash is stored, so it is read back
        from one of the notifications made with it; with none left, a new one is made."""
        for hook in await self._hooks(subscription):
            ref = RepositoryRef(subscription.namespace, hook.repository)
            try:
                notification = await client.get_notification(ref, hook.notification_uuid)
            except QuayNotFound:
                await self._forget(subscription, [(hook.repository, hook.event)])
                continue
            # Any base: after QUAYBOT_PUBLIC_URL changed, the old webhooks still carry the token.
            token = tokens.token_in(str(notification.config.get("url", "")))
            if token is not None and tokens.matches(token, subscription.token_hash):
                return token
        token = tokens.mint()
        await self.db.run(lambda: self.store.set_token_hash(subscription.id, tokens.token_hash(token)))
        return token

    async def _ensure_hooks(
        self,
        subscription: SubscriptionRecord,
        repositories: Sequence[str],
        token: str,
        public_url: str,
        client: QuayClient,
    ) -> tuple[int, int, QuayError | None]:
        """(created, already there, the error that stopped it)."""
        have = {(h.repository, h.event) for h in await self._hooks(subscription)}
        created = kept = 0
        for name in repositories:
            missing = [e for e in subscription.events if (name, e) not in have]
            kept += len(subscription.events) - len(missing)
            if not missing:
                continue
            ref = RepositoryRef(subscription.namespace, name)
            try:
                # Ours already in Quay (a create whose answer was lost, or whose record was): adopt it.
                for notification in await client.list_notifications(ref, verify_repository=False):
                    url = str(notification.config.get("url", ""))
                    if notification.event in missing and tokens.token_in(url, public_url) == token:
                        await self._record(subscription, name, notification.event, notification.uuid)
                        missing.remove(notification.event)
                        kept += 1
                for event in missing:
                    new = NewNotification(
                        event=event,
                        method="webhook",
                        config={"url": tokens.hook_url(public_url, token, event)},
                        event_config=EVENT_CONFIG.get(event, {}),
                        title=f"{TITLE_PREFIX}: events for Slack channel {subscription.channel_id}",
                    )
                    made = await client.create_notification(ref, new)
                    await self._record(subscription, name, event, made.uuid)
                    created += 1
            except QuayError as error:  # QuayOutcomeUnknown too: the next sync adopts it if Quay made it
                self._count("created", created)
                return created, kept, error
        self._count("created", created)
        return created, kept, None

    async def _record(self, subscription: SubscriptionRecord, repository: str, event: str, uuid: str) -> None:
        now = self.clock()
        await self.db.run(lambda: self.store.add_hook(subscription.id, repository, event, uuid, now))

    async def _forget(self, subscription: SubscriptionRecord, keys: list[tuple[str, str]]) -> None:
        await self.db.run(lambda: self.store.forget_hooks(subscription.id, keys))

    def _count(self, change: str, number: int) -> None:
        if self.metrics is not None and number:
            self.metrics.subscription_hooks.labels(change).inc(number)
