"""The Bolt listeners: ack within Slack's 3 seconds, then hand over to `Interactions`, then send.

They stay thin on purpose: everything they decide is in `bot/interactions/`, which has no Slack in it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.access import Caller
from bot.blocks import forms as form_views
from bot.blocks.forms import EVENT_SELECT, METHOD_SELECT, Invalid
from bot.blocks.ids import (
    ALERT_DELETE_ACTION,
    ALERT_MUTE_ACTION,
    ALERT_TEST_ACTION,
    APPROVE_ACTION,
    CANCEL_ACTION,
    COMMAND_ACTION,
    COMMAND_PAGE_ACTION,
    CONFIRM_ACTION,
    HOME_ALERT_DELETE_ACTION,
    HOME_ALERT_MUTE_ACTION,
    HOME_ALERT_TEST_ACTION,
    HOME_REFRESH_ACTION,
    HOME_RESET_ACTION,
    LIST_NEXT_ACTION,
    LIST_PREVIOUS_ACTION,
    LOGIN_OPEN_ACTION,
    NO_VALUE,
    OPEN_NOTIFY_CREATE,
    OPEN_REPO_CREATE,
    REJECT_ACTION,
    REPO_MENU_ACTION,
    RESET_ACTION,
    TAG_RESTORE_PREVIOUS_ACTION,
    WITHDRAW_ACTION,
    numbered_pattern,
)
from bot.blocks.message import plain
from bot.i18n import t
from bot.interactions import Interactions, Reply
from bot.slack.background import Background
from bot.slack.delivery import ReplyDelivery
from bot.slack.requests import COMMAND, caller_of
from bot.slack.views import OpenedViews

# What a Web API call can end in besides an answer: Slack's refusal, or no answer at all (slack_sdk has
# already retried a dropped connection once).
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)
log = logging.getLogger(__name__)


def register(
    app: AsyncApp, interactions: Interactions, delivery: ReplyDelivery, background: Background, views: OpenedViews
) -> None:
    async def on_quay(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()  # before any Quay call: Slack gives up after 3 seconds
        caller = caller_of(command)
        text = str(command.get("text") or "")
        locale = interactions.locale_of(caller)
        form = interactions.forms.for_text(text, caller)
        if form is not None:
            await _open(client, str(command.get("trigger_id") or ""), form, respond, caller, delivery, locale, views)
            return
        await delivery.answer(
            respond,
            caller,
            lambda: interactions.commands.command(text, caller),
            what="slack.command",
            locale=locale,
        )

    def button(handle: Callable[[str, Caller], Awaitable[list[Reply]]]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            value, caller = _action(body)
            locale = interactions.locale_of(caller)
            await delivery.answer(respond, caller, lambda: handle(value, caller), what="slack.action", locale=locale)

        return listener

    def opener(form: Callable[[str, Caller], View | Reply]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
            await ack()
            value, caller = _action(body)
            trigger, locale = str(body.get("trigger_id") or ""), interactions.locale_of(caller)
            await _open(client, trigger, form(value, caller), respond, caller, delivery, locale, views)

        return listener

    async def on_repo_menu(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        value, caller = _action(body)
        verb, _, repo = value.partition(" ")
        locale = interactions.locale_of(caller)
        if verb != "describe":
            work = lambda: interactions.buttons.repo_menu(value, caller)  # noqa: E731 - one call, named for the line below
            await delivery.answer(respond, caller, work, what="slack.action", locale=locale)
            return
        trigger = str(body.get("trigger_id") or "")
        describe = interactions.forms.describe(caller, repo)
        view_id = await _open(client, trigger, describe, respond, caller, delivery, locale, views)
        if view_id is not None:  # opened at once; the current description follows from Quay
            loaded = await interactions.forms.describe_loaded(caller, repo)
            await _update(
                client, view_id, loaded if isinstance(loaded, View) else form_views.notice(loaded.text, locale)
            )

    async def on_form_changed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("id"), str):
            log.warning("a form's select came without its form")  # Slack always sends the view
            return
        known = view.get("hash")
        await _update(
            client, view["id"], interactions.forms.notify_changed(view), known if isinstance(known, str) else None
        )

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        caller = await views.opener(view, str(user.get("id") or ""), str(team))
        if caller is None:  # not a form the bot opened for this user: nothing is done
            await ack()
            return
        checked = interactions.forms.read(str(view.get("callback_id")), view, caller)
        if isinstance(checked, Invalid):
            await ack(response_action="errors", errors=checked.errors)
            return
        await views.closed(str(view["id"]))
        await ack()  # the modal closes; the result is posted where the form was opened, as for the typed command
        locale = interactions.locale_of(caller)
        # Bolt answers Slack only when this listener returns: the work goes on after that.
        work = delivery.post(
            caller, lambda: interactions.commands.run(checked, caller), what="slack.form", locale=locale
        )
        background.start(work, "a form submission")

    async def on_link_opened(ack: AsyncAck) -> None:
        await ack()  # a link button: the browser opens its URL; Slack only tells the app it was clicked

    async def publish_home(client: AsyncWebClient, user_id: str, team_id: str = "") -> None:
        view = await interactions.home.view(user_id, team_id)
        try:
            await client.views_publish(user_id=user_id, view=view)
        except SLACK_FAILURES as error:  # the next opening of the tab publishes it again
            log.warning("the App Home could not be published", extra={"error": _failure(error)})

    async def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            await publish_home(client, str(event["user"]), str(body.get("team_id") or ""))

    async def on_home_refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        await publish_home(client, str(user.get("id") or ""), str(team))

    def home_button(kind: str) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            value, caller = _action(body)
            found = interactions.home.alert_button(kind, value, caller.user_id, caller.team_id)
            if found is not None:
                # No response_url on a home tab: replies go to the alert's channel, as from there.
                await delivery.post(found[0], found[1], what="slack.home")
            await publish_home(client, caller.user_id, caller.team_id)

        return listener

    # Bolt tries listeners in the order they were added, building each one's arguments: the
    # command, by far the most frequent request, goes first.
    app.command(COMMAND)(on_quay)
    app.event("app_home_opened")(on_home_opened)
    app.action(HOME_REFRESH_ACTION)(on_home_refresh)
    app.action(HOME_ALERT_TEST_ACTION)(home_button("test"))
    app.action(HOME_RESET_ACTION)(home_button("reset"))
    app.action(HOME_ALERT_DELETE_ACTION)(home_button("delete"))
    app.action(HOME_ALERT_MUTE_ACTION)(home_button("mute"))
    app.action(CONFIRM_ACTION)(button(interactions.confirming.confirm))
    app.action(CANCEL_ACTION)(button(interactions.confirming.cancel))
    app.action(RESET_ACTION)(button(interactions.buttons.reset))
    app.action(ALERT_TEST_ACTION)(button(interactions.buttons.alert_test))
    app.action(ALERT_DELETE_ACTION)(button(interactions.buttons.alert_delete))
    app.action(ALERT_MUTE_ACTION)(button(interactions.buttons.alert_mute))
    app.action(LIST_PREVIOUS_ACTION)(button(interactions.buttons.list_page))
    app.action(LIST_NEXT_ACTION)(button(interactions.buttons.list_page))
    app.action(OPEN_REPO_CREATE)(opener(lambda value, caller: interactions.forms.repo_create(caller)))
    app.action(OPEN_NOTIFY_CREATE)(
        opener(
            lambda value, caller: interactions.forms.notify_create(caller, None if value in ("", NO_VALUE) else value)
        )
    )
    app.action(REPO_MENU_ACTION)(on_repo_menu)
    app.action(LOGIN_OPEN_ACTION)(on_link_opened)
    app.action(numbered_pattern(COMMAND_ACTION))(button(interactions.buttons.typed))
    app.action(numbered_pattern(COMMAND_PAGE_ACTION))(button(interactions.buttons.typed_page))
    app.action(numbered_pattern(TAG_RESTORE_PREVIOUS_ACTION))(button(interactions.buttons.restore_previous))
    if interactions.approving is not None:
        app.action(APPROVE_ACTION)(button(interactions.approving.approve))
        app.action(REJECT_ACTION)(button(interactions.approving.reject))
        app.action(WITHDRAW_ACTION)(button(interactions.approving.withdraw))
    app.action(EVENT_SELECT)(on_form_changed)
    app.action(METHOD_SELECT)(on_form_changed)
    for callback_id in interactions.service.registry.forms:  # every command's form
        app.view(callback_id)(on_submit)


async def _open(
    client: AsyncWebClient,
    trigger_id: str,
    form: View | Reply,
    respond: AsyncRespond,
    caller: Caller,
    delivery: ReplyDelivery,
    locale: str,
    views: OpenedViews,
) -> str | None:
    """Open the form at once (its trigger lasts 3 s), or say why not; the opened view's id, which
    is remembered with who it was opened for."""
    if isinstance(form, Reply):
        await delivery.send(respond, caller, form)
        return None
    try:
        opened = await client.views_open(trigger_id=trigger_id, view=form)
    except SLACK_FAILURES as error:
        code = _failure(error)
        log.warning("a form could not be opened", extra={"error": code})
        text = t(
            locale,
            ":x: Slack did not open the form ({code}). Run the command again; typed forms still work (`/quay help`).",
            code=code,
        )
        await delivery.send(respond, caller, Reply(plain(text)))
        return None
    view_id = str((opened.get("view") or {}).get("id") or "") or None
    if view_id is not None:
        await views.opened(view_id, str(form.callback_id), caller)
    return view_id


async def _update(client: AsyncWebClient, view_id: str, view: View, known_hash: str | None = None) -> None:
    """Redraw an open form. Slack refuses when the user closed it meanwhile (`not_found`) or changed
    it again (`hash_conflict`, and that change redraws it): nothing to tell anyone."""
    try:
        await client.views_update(view_id=view_id, hash=known_hash, view=view)
    except SLACK_FAILURES as error:
        log.warning("a form could not be redrawn", extra={"error": _failure(error)})


def _failure(error: Exception) -> str:
    """Slack's error code, or what kept its answer from coming."""
    return str(error.response.get("error", "")) if isinstance(error, SlackApiError) else type(error).__name__


def _action(body: dict[str, Any]) -> tuple[str, Caller]:
    actions = body.get("actions") or [{}]
    chosen = actions[0].get("selected_option") or {}  # an overflow menu or a select
    value = str(actions[0].get("value") or (chosen.get("value") if isinstance(chosen, dict) else "") or "")
    return value, caller_of(body)
