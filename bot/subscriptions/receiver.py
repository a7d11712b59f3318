"""`POST /quay/events/<token>?event=<event>`: Quay's webhook deliveries for subscriptions.

Checked in this order, cheapest first, and nothing is posted unless every check passes: the size
(64 KiB at most), the token's shape, the token (an unknown one gets a bare 404), the event (one the
subscription asked for), the body (the JSON shape Quay sends for that event), the repository (one the
subscription covers), the channel's access (it may still read the namespace), and a per-subscription
rate. The message goes to the outbox and the answer is immediate, far inside Quay's 10 s timeout.

Answers: 404 unknown token, 413 too large, 400 a body that is not the event's shape or is about
another repository; 200 otherwise, including events dropped on purpose (an event no longer
subscribed, a channel that lost access, a flood): a non-2xx would count as a delivery failure in
Quay and end with Quay disabling the bot's own notification.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import IntegrityError

from bot.access import AccessPolicy
from bot.metrics import Metrics
from bot.quay.events import InvalidEvent, PushEvent, parse_event
from bot.quay.names import RepositoryRef
from bot.store.db import Database
from bot.store.subscriptions import SubscriptionRecord, SubscriptionStore
from bot.subscriptions import tokens
from bot.subscriptions.grouping import pushers_named, route
from bot.subscriptions.pushers import WhoPushed

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class Verdict(Enum):
    POSTED = 200
    DROPPED = 202  # answered 200 as well: see the module's docstring
    UNKNOWN = 404
    TOO_LARGE = 413
    INVALID = 400

    @property
    def status(self) -> int:
        return 200 if self is Verdict.DROPPED else self.value


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimit:
    """A token bucket per subscription: `burst` events at once, then `per_minute`."""

    def __init__(self, burst: int = 20, per_minute: float = 30.0) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self.buckets: dict[int, Bucket] = {}

    def allow(self, key: int, now: float) -> bool:
        bucket = self.buckets.setdefault(key, Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True


class EventReceiver:
    def __init__(
        self,
        db: Database,
        store: SubscriptionStore,
        policy: Callable[[], AccessPolicy],
        metrics: Metrics,
        *,
        rate: RateLimit | None = None,
        clock: Callable[[], float] = time.time,
        who_pushed: WhoPushed | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.policy = policy
        self.metrics = metrics
        self.rate = rate or RateLimit()
        self.clock = clock
        self._warned: dict[int, float] = {}
        self._writing = asyncio.Lock()
        self.who_pushed = who_pushed
        self.naming: set[asyncio.Task[None]] = set()  # who-pushed reads under way (kept from the GC)

    async def receive(self, token: str, event: str, body: bytes) -> Verdict:
        verdict = await self._receive(token, event, body)
        self.metrics.events_received.labels(verdict.name.lower()).inc()
        return verdict

    async def _receive(self, token: str, event: str, body: bytes) -> Verdict:
        if len(body) > MAX_BODY:
            return Verdict.TOO_LARGE
        if not tokens.well_formed(token):
            return Verdict.UNKNOWN
        wanted = tokens.token_hash(token)
        subscription = await self.db.run(lambda: self.store.by_token_hash(wanted))
        if subscription is None or not tokens.matches(token, subscription.token_hash):
            return Verdict.UNKNOWN
        if event not in subscription.events:
            log.info("an event the subscription no longer asks for was dropped", extra=_where(subscription, event))
            return Verdict.DROPPED
        try:
            payload = parse_event(event, body)
        except InvalidEvent as error:
            log.warning("a Quay event was refused", extra=_where(subscription, event) | {"problem": str(error)})
            return Verdict.INVALID
        if not subscription.covers(payload.namespace, payload.name):
            log.warning(
                "a Quay event about a repository outside its subscription was refused",
                extra=_where(subscription, event) | {"payload_repository": payload.repository[:200]},
            )
            return Verdict.INVALID
        access = self.policy().channel(subscription.channel_id)
        if access is None or subscription.namespace not in access.namespaces:
            log.warning(
                "an event for a channel that lost access to its namespace was dropped",
                extra=_where(subscription, event),
            )
            return Verdict.DROPPED
        now = self.clock()
        if not self.rate.allow(subscription.id, now):
            self._warn_flood(subscription, event, now)
            return Verdict.DROPPED
        routed = route(event, payload, now, access.locale)
        channel = subscription.channel_id
        for attempt in (1, 2):
            try:
                # One write at a time from here: on SQLite, writers that collide wait in its busy
                # handler's growing sleeps (tens of ms); in line they take about a millisecond each.
                async with self._writing:
                    await self.db.run(lambda: self.store.post_event(channel, routed, now))
                break
            except IntegrityError:
                if attempt == 2:  # two deliveries opened the same group at once: the second joins it
                    raise
        if isinstance(payload, PushEvent) and self.who_pushed is not None and payload.updated_tags:
            task = asyncio.create_task(self._name_pushers(channel, payload))
            self.naming.add(task)
            task.add_done_callback(self.naming.discard)
        return Verdict.POSTED

    async def _name_pushers(self, channel: str, push: PushEvent) -> None:
        """After the answer to Quay: the push message names who pushed, where the logs say it."""
        assert self.who_pushed is not None
        try:
            repo = RepositoryRef(push.namespace, push.name)
            pushers = await self.who_pushed(repo, list(push.updated_tags))
            if pushers:
                named = pushers_named(push.repository, pushers)
                async with self._writing:
                    await self.db.run(lambda: self.store.amend_group(channel, named, self.clock()))
        except Exception:  # a name the message goes without; never the event itself
            log.exception("who pushed could not be added to a push message", extra={"channel": channel})

    def _warn_flood(self, subscription: SubscriptionRecord, event: str, now: float) -> None:
        if now - self._warned.get(subscription.id, 0.0) >= 60.0:
            self._warned[subscription.id] = now
            log.warning("too many Quay events for one subscription; dropping some", extra=_where(subscription, event))


def _where(subscription: SubscriptionRecord, event: str) -> dict[str, object]:
    return {"subscription": subscription.id, "target": subscription.target, "event": event[:64]}
