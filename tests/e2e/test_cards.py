"""`repo info` as a card: recent tags, notifications with their health, and a menu of what the
channel's role allows, each item going through the same checks as the typed command."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ALICE
from tests.e2e.test_modals import delivered, text
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import Call
from tests.fakes.slack_driver import SlackDriver


def menu(card: Call) -> list[str]:
    for block in card.body["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":
            return [o["text"]["text"] for o in accessory["options"]]
    return []


def choose(driver: SlackDriver, card: Call, label: str, channel: str = "C0ADMIN") -> Any:
    [accessory] = [b["accessory"] for b in card.body["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    [option] = [o for o in accessory["options"] if o["text"]["text"] == label]
    response_url = driver.slack.new_response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel},
        "trigger_id": driver.slack.new_trigger(),
        "response_url": response_url,
        "actions": [
            {"action_id": accessory["action_id"], "block_id": "b", "type": "overflow", "selected_option": option}
        ],
    }
    return driver.send_payload(payload, response_url)


def test_a_card_shows_recent_tags_and_notification_health(driver: SlackDriver, world: FakeQuay):
    world.add_repo("team-a/many", tags=[f"v{i}" for i in range(12)])
    for index in range(12):
        world.repos[("team-a", "many")].tags[f"v{index}"]["last_modified"] = f"Fri, 27 Nov 2026 01:{index:02d}:00 -0000"
    world.add_notification("team-a/many", event="repo_push")
    world.add_notification("team-a/many", event="build_failure", failures=1)
    world.add_notification("team-a/many", event="vulnerability_found", failures=3)
    card = driver.reply(driver.slash("repo info team-a/many", user=ALICE, channel="C0ADMIN"))
    shown = card.text
    assert "`v11`" in shown and "`v2`" in shown and "`v1`" not in shown and "and 2 more" in shown  # newest 10
    assert shown.index("`v11`") < shown.index("`v10`")
    assert "12.0 KB" in shown and " ago" in shown
    digest = world.repos[("team-a", "many")].tags["v11"]["manifest_digest"].removeprefix("sha256:")[:12]
    assert f"`{digest}`" in shown
    assert ":white_check_mark: healthy" in shown and "1 of 3 failures" in shown and "disabled by Quay" in shown
    assert "hooks.example.com" in shown and "secret-path" not in shown  # targets masked
    assert menu(card) == ["List notifications", "Edit description", "Make public", "Delete repository"]


def test_the_menu_offers_what_the_role_allows(driver: SlackDriver):
    reader = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"))
    writer = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0WRITE"))
    assert menu(reader) == ["List notifications"]
    assert menu(writer) == ["List notifications", "Edit description"]


def test_delete_and_visibility_from_the_menu_ask_for_confirmation(driver: SlackDriver, world: FakeQuay):
    card = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0ADMIN"))
    [prompt] = driver.slack.wait_for(choose(driver, card, "Delete repository").response_id)
    assert "Delete `team-a/api`?" in prompt.text and ("team-a", "api") in world.repos
    [prompt] = driver.slack.wait_for(choose(driver, card, "Make public").response_id)
    assert "Make `team-a/api` public?" in prompt.text and not world.repos[("team-a", "api")].is_public
    world.add_notification("team-a/api")
    [listing] = driver.slack.wait_for(choose(driver, card, "List notifications").response_id)
    assert "repo_push" in listing.text


def test_a_forged_menu_choice_still_meets_the_access_policy(driver: SlackDriver, world: FakeQuay):
    card = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0ADMIN"))
    [accessory] = [b["accessory"] for b in card.body["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    accessory["options"].append({"text": {"type": "plain_text", "text": "Sneaky"}, "value": "delete team-a/api"})
    [refused] = driver.slack.wait_for(choose(driver, card, "Sneaky", channel="C0READ").response_id)
    assert "Not allowed" in refused.text and ("team-a", "api") in world.repos


def test_edit_description_opens_a_form_with_the_current_text(driver: SlackDriver, world: FakeQuay, bot, slack):
    card = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0WRITE"))
    before = len(world.requests)
    choose(driver, card, "Edit description", channel="C0WRITE")
    [opened] = slack.wait_for("views.open")
    assert "Reading the description" in str(opened.body["view"])  # opened at once, before Quay answers
    [update] = slack.wait_for("views.update")
    [read] = world.requests[before:]  # the repository alone: no tags, no notifications
    assert (read.method, read.path) == ("GET", "/api/v1/repository/team-a/api")
    assert read.query.get("includeTags") != "true"
    [field] = [b for b in update.body["view"]["blocks"] if b.get("block_id") == "description"]
    assert field["element"]["initial_value"] == "The API"
    view = slack.views[update.body["view_id"]]
    answer = driver.submit_view(view, {"description": text("The API, v2")}, user=ALICE)
    assert answer.status_code == 200
    [post] = delivered(bot, slack, "C0WRITE")
    assert "updated the description of `team-a/api`" in post.text
    assert world.repos[("team-a", "api")].description == "The API, v2"
