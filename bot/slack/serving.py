"""What the Slack side needs of the running bot (`Serving`), and an acked request's turn: Bolt runs
it once a work slot is free (`bot/work.py`); if the bot stops before it is done, its user is told
whether it ever started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from slack_bolt.async_app import AsyncApp, AsyncRespond

from bot.access import AccessPolicy
from bot.access_reload import AccessReloader
from bot.alerts.runner import WatchLoop
from bot.blocks.message import plain
from bot.i18n import t
from bot.identities import Identities
from bot.interactions import Reply
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.background import Background
from bot.slack.delivery import ReplyDelivery
from bot.slack.identity import BotIdentity
from bot.slack.replays import ReplayGuard
from bot.slack.requests import caller_of
from bot.store.db import Database
from bot.subscriptions.receiver import EventReceiver
from bot.work import WorkGate

# After the grace period, each of the two tellings gets this long (the manifests' pod stop budget
# counts them: `tests/test_kubernetes.py`).
TELL_SECONDS = 3.0
STOPPED_FIRST = ":x: quaybot was restarting and did not get to this, so nothing was done. Run it again in a minute."
STOPPED_DURING = (
    ":warning: quaybot was restarting while it did this and had to stop, so whether Quay did it is unknown. "
    "Check before running it again."
)


class Serving(Protocol):
    """What the Slack side needs of the bot (`bot.app.Bot` has it); no import of `bot.app` here."""

    settings: Settings
    policy: AccessPolicy
    db: Database
    metrics: Metrics
    slack: AsyncApp
    watch: WatchLoop
    identity: BotIdentity
    gate: WorkGate
    reloader: AccessReloader
    receiver: EventReceiver
    background: Background
    delivery: ReplyDelivery
    replays: ReplayGuard
    identities: Identities | None

    def aclose(self) -> Awaitable[None]: ...


def start_in_turn(
    bot: Serving, dispatch: Callable[[], Awaitable[object]], body: object, name: str, keys: list[str]
) -> None:
    """An acked request, in both modes: Bolt runs it when its turn for a work slot comes, unless it
    was taken before (`keys`, `bot/slack/replays.py`); if the bot stops before it is done, its user
    is told whether it ever started."""

    async def once() -> object:
        if not await bot.replays.first_time(keys):
            return None
        return await dispatch()

    work = bot.gate.run(
        once,
        unstarted=lambda: tell_stopped(bot, body, STOPPED_FIRST),
        interrupted=lambda: tell_stopped(bot, body, STOPPED_DURING),
    )
    bot.background.start(work, name)


async def tell_stopped(bot: Serving, body: object, message: str) -> None:
    """The bot is stopping before this acked request was done (`STOPPED_FIRST`: it never started;
    `STOPPED_DURING`: it was cut off): its user hears so, through its response_url, else the outbox.
    Requests without one (events) are not told."""
    if not isinstance(body, dict) or not isinstance(body.get("response_url"), str):
        return
    caller = caller_of(body)
    text = t(bot.policy.locale_of(caller.channel_id), message)
    await bot.delivery.send(AsyncRespond(response_url=body["response_url"]), caller, Reply(plain(text)))
