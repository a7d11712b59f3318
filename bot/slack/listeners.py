"""The Bolt listeners: ack within Slack's 3 seconds, then hand over to `Interactions`, then send.

They stay thin on purpose: everything they decide is in `bot/interactions.py`, which has no Slack in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.access import Caller
from bot.blocks.ids import (
    ALERT_DELETE_ACTION,
    ALERT_MUTE_ACTION,
    ALERT_TEST_ACTION,
    CANCEL_ACTION,
    CONFIRM_ACTION,
    RESET_ACTION,
)
from bot.interactions import Interactions, Reply
from bot.slack.delivery import ReplyDelivery

COMMAND = "/quay"


def register(app: AsyncApp, interactions: Interactions, delivery: ReplyDelivery) -> None:
    async def on_quay(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()  # before any Quay call: Slack gives up after 3 seconds
        caller = Caller(command.get("team_id", ""), command.get("channel_id", ""), command.get("user_id", ""))
        text = str(command.get("text") or "")
        await delivery.answer(respond, caller, lambda: interactions.command(text, caller), what="slack.command")

    def button(handle: Callable[[str, Caller], Awaitable[list[Reply]]]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            value, caller = _action(body)
            await delivery.answer(respond, caller, lambda: handle(value, caller), what="slack.action")

        return listener

    app.command(COMMAND)(on_quay)
    app.action(CONFIRM_ACTION)(button(interactions.confirm))
    app.action(CANCEL_ACTION)(button(interactions.cancel))
    app.action(RESET_ACTION)(button(interactions.reset_button))
    app.action(ALERT_TEST_ACTION)(button(interactions.alert_test_button))
    app.action(ALERT_DELETE_ACTION)(button(interactions.alert_delete_button))
    app.action(ALERT_MUTE_ACTION)(button(interactions.alert_mute_button))


def _action(body: dict[str, Any]) -> tuple[str, Caller]:
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
    user = (body.get("user") or {}).get("id") or ""
    return value, Caller(str(team), str(channel), str(user))
