"""Modals end to end: signed slash commands and clicks open them (`views.open` with the trigger),
selects re-render them (`views.update`), signed `view_submission`s are answered with field errors or
close them, and the result reaches the channel as the typed command's would."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tests.e2e.conftest import ALICE, BotThread
from tests.fakes.quay import FakeQuay, Fault
from tests.fakes.slack_api import FakeSlack, SlackFault
from tests.fakes.slack_driver import SlackDriver


def text(value: str | None) -> dict[str, Any]:
    return {"text": {"type": "plain_text_input", "value": value}}


def chosen(value: str, action_id: str = "text") -> dict[str, Any]:
    return {action_id: {"type": "static_select", "selected_option": {"value": value}}}


def radio(value: str) -> dict[str, Any]:
    return {"text": {"type": "radio_buttons", "selected_option": {"value": value}}}


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def posts(slack: FakeSlack, channel: str, method: str = "chat.postMessage") -> list[Any]:
    return [c for c in slack.calls_to(method) if c.body.get("channel") == channel]


def delivered(
    bot: BotThread, slack: FakeSlack, channel: str, method: str = "chat.postMessage", containing: str = ""
) -> list[Any]:
    """Replies with no response_url (a form's result, a home button's) go through the outbox: send it,
    and wait for the posts to `channel` whose text has `containing`."""
    deadline = time.monotonic() + 10
    while not (found := [c for c in posts(slack, channel, method) if containing in c.text]):
        assert time.monotonic() < deadline, f"nothing posted to {channel} with {method}"
        bot.run(bot.bot.outbox.send_due())
        time.sleep(0.05)
    return found


def test_repo_create_with_no_name_opens_a_modal_before_any_quay_call(driver: SlackDriver, world: FakeQuay):
    before = len(world.requests)
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    assert len(world.requests) == before  # the trigger lasts 3 s: nothing may come first
    assert block_ids(view) == ["namespace", "name", "visibility", "description"]
    [namespace] = [b for b in view["blocks"] if b["block_id"] == "namespace"]
    assert [o["value"] for o in namespace["element"]["options"]] == ["team-a"]
    assert json.loads(view["private_metadata"]) == {"channel": "C0WRITE"}
    visibility = next(b for b in view["blocks"] if b["block_id"] == "visibility")
    assert visibility["element"]["initial_option"]["value"] == "private"


def test_invalid_input_is_shown_on_the_field_and_a_valid_one_creates(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    values = {"namespace": chosen("team-a"), "name": text("Bad Name!"), "visibility": radio("private")}
    answer = driver.submit_view(view, values, user=ALICE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_action"] == "errors" and set(body["errors"]) == {"name"}
    assert ("team-a", "Bad Name!") not in world.repos
    values |= {"name": text("new-svc"), "description": text("made from a form")}
    answer = driver.submit_view(view, values, user=ALICE)
    assert answer.status_code == 200 and answer.content in (b"", b"{}")  # closes the modal
    [post] = delivered(bot, slack, "C0WRITE")
    assert f"<@{ALICE}> created" in post.text and "team-a/new-svc" in post.text and "(private)" in post.text
    repo = world.repos[("team-a", "new-svc")]
    assert repo.description == "made from a form" and not repo.is_public


def test_a_submission_closes_the_modal_before_quay_has_answered(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    # Slack waits 3 s for the answer to a submission; a slow Quay must not hold the modal open.
    world.inject(Fault(method="POST", path="/api/v1/repository$", delay=1.5))
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    values = {"namespace": chosen("team-a"), "name": text("slow-svc"), "visibility": radio("private")}
    answer = driver.submit_view(view, values, user=ALICE)
    assert answer.status_code == 200 and ("team-a", "slow-svc") not in world.repos
    [post] = delivered(bot, slack, "C0WRITE")
    assert "team-a/slow-svc" in post.text and ("team-a", "slow-svc") in world.repos


def test_access_is_checked_when_the_modal_opens_and_again_on_submit(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread, access_file
):
    refused = driver.reply(driver.slash("repo create", user=ALICE, channel="C0READ"))
    assert "Not allowed" in refused.text and slack.calls_to("views.open") == []
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    access_file.write_text(
        access_file.read_text().replace(
            "C0WRITE:\n    namespaces: [team-a]\n    role: write", "C0WRITE:\n    namespaces: [team-a]\n    role: read"
        )
    )
    bot.bot.reloader.check()
    values = {"namespace": chosen("team-a"), "name": text("late"), "visibility": radio("public")}
    assert driver.submit_view(view, values, user=ALICE).status_code == 200
    [ephemeral] = delivered(bot, slack, "C0WRITE", "chat.postEphemeral")
    assert "Not allowed" in ephemeral.text and ephemeral.body["user"] == ALICE
    assert ("team-a", "late") not in world.repos


def test_an_expired_trigger_is_said_not_swallowed(driver: SlackDriver, slack: FakeSlack, monkeypatch):
    clock = [slack.now()]
    monkeypatch.setattr(slack, "now", lambda: clock[0])
    real_new_trigger = slack.new_trigger

    def old_trigger() -> str:
        trigger = real_new_trigger()
        clock[0] += 4  # Slack received the command 4 s before the bot's views.open
        return trigger

    monkeypatch.setattr(slack, "new_trigger", old_trigger)
    reply = driver.reply(driver.slash("repo create", user=ALICE, channel="C0WRITE"))
    assert "expired_trigger_id" in reply.text and "Run the command again" in reply.text


def test_notify_create_modal_follows_the_method_and_the_event(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    driver.slash("notify create api", user=ALICE, channel="C0WRITE")  # the bare name: the channel's namespace
    view = driver.opened_view("quaybot_notify_create")
    assert block_ids(view) == ["repository", "event", "method", "title"]
    repository = next(b for b in view["blocks"] if b["block_id"] == "repository")
    assert repository["element"]["initial_value"] == "team-a/api"
    events = next(b for b in view["blocks"] if b["block_id"] == "event")["element"]["options"]
    from bot.quay.catalogue import EVENTS

    assert [o["value"] for o in events] == list(EVENTS)  # one catalogue, listed once
    typed = {"repository": text("team-a/api"), "title": text("CI hook")}
    state = typed | {"method": chosen("webhook", "quaybot_form_method")}
    driver.select_in_view(view, "method", "quaybot_form_method", "webhook", state, user=ALICE)
    [update] = slack.wait_for("views.update")
    updated = update.body["view"]
    assert "config:url" in block_ids(updated)
    title = next(b for b in updated["blocks"] if b["block_id"] == "title")
    assert title["element"]["initial_value"] == "CI hook"  # what was typed is kept
    state |= {"event": chosen("build_failure", "quaybot_form_event")}
    driver.select_in_view(view, "event", "quaybot_form_event", "build_failure", state, user=ALICE)
    updated = slack.wait_for("views.update", count=2)[1].body["view"]
    assert block_ids(updated) == ["repository", "event", "method", "config:url", "event_config:ref-regex", "title"]
    stored = slack.views[view["id"]]
    bad = state | {"config:url": text("http://localhost/hook")}
    answer = driver.submit_view(stored, bad, user=ALICE).json()
    assert answer["response_action"] == "errors" and "localhost" in answer["errors"]["config:url"]
    good = state | {"config:url": text("https://ci.example.com/hook"), "event_config:ref-regex": text("heads/main")}
    assert driver.submit_view(stored, good, user=ALICE).status_code == 200
    [post] = delivered(bot, slack, "C0WRITE")
    assert "added a `build_failure` notification to `team-a/api`" in post.text and "ci.example.com" in post.text
    [made] = [n for n in world.notifications.values() if n.title == "CI hook"]
    assert made.event_config == {"ref-regex": "heads/main"} and made.config == {"url": "https://ci.example.com/hook"}


def test_a_form_slack_never_answered_for_is_said_not_swallowed(driver: SlackDriver, slack: FakeSlack, caplog):
    # The connection drops on views.open, and again on slack_sdk's one retry of it.
    slack.fail_next("views.open", SlackFault(drop=True), times=2)
    with caplog.at_level(logging.WARNING):
        reply = driver.reply(driver.slash("repo create", user=ALICE, channel="C0WRITE"))
    assert "Slack did not open the form" in reply.text and "Run the command again" in reply.text
    assert not [r for r in caplog.records if r.exc_info], "no answer from Slack is not a crash"


def test_a_redraw_slack_refuses_is_one_warning_and_the_next_change_redraws(
    driver: SlackDriver, slack: FakeSlack, caplog
):
    driver.slash("notify create api", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_notify_create")
    # The user picked twice quickly: Slack refuses the older redraw.
    slack.fail_next("views.update", SlackFault(body={"ok": False, "error": "hash_conflict"}))
    state = {"repository": text("team-a/api"), "method": chosen("webhook", "quaybot_form_method")}
    with caplog.at_level(logging.WARNING):
        driver.select_in_view(view, "method", "quaybot_form_method", "webhook", state, user=ALICE)
        slack.wait_for("views.update")
        deadline = time.monotonic() + 5
        while "a form could not be redrawn" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [getattr(r, "error", None) for r in caplog.records if "redrawn" in r.getMessage()] == ["hash_conflict"]
    assert not [r for r in caplog.records if r.exc_info], "a refused redraw is not a crash"
    driver.select_in_view(view, "method", "quaybot_form_method", "webhook", state, user=ALICE)
    updated = slack.wait_for("views.update", count=2)[1].body["view"]
    assert "config:url" in block_ids(updated)


def test_quay_alone_offers_the_forms_as_buttons(driver: SlackDriver, slack: FakeSlack):
    help_page = driver.reply(driver.slash("", user=ALICE, channel="C0WRITE"))
    labels = [e["text"]["text"] for b in help_page.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Create a repository", "Add a notification"]
    driver.click(help_page, "quaybot_open_notify_create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_notify_create")
    assert next(b for b in view["blocks"] if b["block_id"] == "repository")["element"].get("initial_value") is None
    driver.click(help_page, "quaybot_open_repo_create", user=ALICE, channel="C0WRITE")
    driver.opened_view("quaybot_repo_create")
    reader = driver.reply(driver.slash("", user=ALICE, channel="C0READ"))
    assert not [b for b in reader.body["blocks"] if b["type"] == "actions"]  # read role: no forms
