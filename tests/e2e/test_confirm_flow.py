"""Confirmation buttons: only a valid, unexpired, unused confirmation by its requester runs the action."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from bot.access_file import parse_policy
from tests.e2e.conftest import ACCESS, ALICE, BOB, SIGNING_SECRET, BotThread
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_driver import SlackDriver


def ask_delete(driver: SlackDriver, repo: str = "api"):
    sent = driver.slash(f"repo delete {repo}", user=ALICE, channel="C0ADMIN")
    prompt = driver.reply(sent)
    assert f"Delete `team-a/{repo}`?" in prompt.text
    return prompt


def deletes(world: FakeQuay) -> int:
    return len(world.requests_to("DELETE"))


def answers(driver: SlackDriver, sent, count: int = 1):
    return driver.slack.wait_for(sent.response_id, count=count)


def test_prompt_shows_impact_and_buttons(driver: SlackDriver, world: FakeQuay):
    world.add_notification("team-a/api")
    prompt = ask_delete(driver)
    assert "Tags: 2" in prompt.text and "Notifications: 1" in prompt.text and "Visibility: private" in prompt.text
    assert prompt.body["response_type"] == "ephemeral" and deletes(world) == 0
    [actions] = [b for b in prompt.body["blocks"] if b["type"] == "actions"]
    confirm, cancel = actions["elements"]
    assert confirm["style"] == "danger" and "confirm" in confirm and cancel["text"]["text"] == "Cancel"


def test_confirm_by_requester_deletes_once(driver: SlackDriver, world: FakeQuay, bot: BotThread):
    prompt = ask_delete(driver)
    first = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    replaced, announced = answers(driver, first, 2)
    assert replaced.body["replace_original"] is True and "Confirmed" in replaced.text
    assert announced.body["response_type"] == "in_channel" and f"<@{ALICE}> deleted `team-a/api`" in announced.text
    assert ("team-a", "api") not in world.repos and deletes(world) == 1
    second = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    [again] = answers(driver, second)
    assert "already used (done)" in again.text and deletes(world) == 1
    audit = bot.bot.interactions.audit.since(0)
    assert [r.outcome for r in audit] == ["confirmation_requested", "confirmed_succeeded"]
    assert audit[-1].repository == "team-a/api" and audit[-1].user_id == ALICE


def test_double_click_at_once_runs_once(driver: SlackDriver, world: FakeQuay):
    prompt = ask_delete(driver)
    with ThreadPoolExecutor(4) as pool:
        clicks = list(
            pool.map(lambda _: driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN"), range(4))
        )
    assert all(c.status == 200 for c in clicks)
    texts = [answers(driver, c)[0].text for c in clicks]
    refused = sum("already used" in t or "being carried out right now" in t for t in texts)
    assert sum("Confirmed" in t for t in texts) == 1 and refused == 3
    assert deletes(world) == 1


def test_another_users_click_does_nothing(driver: SlackDriver, world: FakeQuay):
    prompt = ask_delete(driver)
    click = driver.click(prompt, "quaybot_confirm", user=BOB, channel="C0ADMIN")
    [answer] = answers(driver, click)
    assert f"Only <@{ALICE}>, who asked for it, can confirm" in answer.text and deletes(world) == 0
    # The requester can still confirm afterwards.
    mine = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    answers(driver, mine, 2)
    assert deletes(world) == 1


def test_click_after_expiry(driver: SlackDriver, world: FakeQuay, bot: BotThread):
    prompt = ask_delete(driver)
    bot.bot.interactions.confirmations.clock = lambda: time.time() + 601
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    [answer] = answers(driver, click)
    assert "expired" in answer.text and answer.body["replace_original"] is True
    assert not [b for b in answer.body["blocks"] if b["type"] == "actions"]  # no buttons left to click
    assert deletes(world) == 0


def test_click_after_the_channel_lost_its_admin_role(driver: SlackDriver, world: FakeQuay, bot: BotThread):
    prompt = ask_delete(driver)
    demoted = ACCESS.replace("role: admin", "role: write")
    bot.bot.interactions.service.policy = parse_policy(demoted, "access.yml", {}, bot.bot.settings.quay_token)
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    [answer] = answers(driver, click)
    assert "needs the admin role; this channel has write" in answer.text and deletes(world) == 0
    assert bot.bot.interactions.audit.since(0)[-1].outcome == "confirmed_refused"


def test_cancel(driver: SlackDriver, world: FakeQuay):
    prompt = ask_delete(driver)
    click = driver.click(prompt, "quaybot_cancel", user=ALICE, channel="C0ADMIN")
    [answer] = answers(driver, click)
    assert "Cancelled: nothing was done" in answer.text and answer.body["replace_original"] is True
    assert not [b for b in answer.body["blocks"] if b["type"] == "actions"]
    late = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    assert "already used (cancelled)" in answers(driver, late)[0].text and deletes(world) == 0


def test_unknown_confirmation_id(driver: SlackDriver, world: FakeQuay):
    prompt = ask_delete(driver)
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN", value="made-up-id")
    assert "unknown" in answers(driver, click)[0].text and deletes(world) == 0


def test_restart_between_command_and_click(settings, slack, world: FakeQuay):
    first = BotThread(settings)
    driver = SlackDriver(first.url, SIGNING_SECRET, slack)
    prompt = ask_delete(driver)
    first.stop()
    second = BotThread(settings)
    try:
        driver.bot_url = second.url
        click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
        answers(driver, click, 2)
        assert deletes(world) == 1 and ("team-a", "api") not in world.repos
    finally:
        driver.close()
        second.stop()


def test_visibility_public_and_notification_delete_confirm(driver: SlackDriver, world: FakeQuay):
    sent = driver.slash("repo visibility api public", user=ALICE, channel="C0ADMIN")
    prompt = driver.reply(sent)
    assert "Make `team-a/api` public?" in prompt.text and not world.repos[("team-a", "api")].is_public
    answers(driver, driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN"), 2)
    assert world.repos[("team-a", "api")].is_public
    item = world.add_notification("team-a/api")
    prompt = driver.reply(driver.slash(f"notify delete api {item.uuid}", user=ALICE, channel="C0ADMIN"))
    assert "secret-path" not in prompt.text and item.uuid in world.notifications
    answers(driver, driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN"), 2)
    assert item.uuid not in world.notifications
