"""The App Home tab: app_home_opened (Events API, signed JSON) publishes it; it shows only the channels
whose `users` list names the user, their open alerts with working buttons, and the user's changes."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ALICE, BOB, MALLORY, bot_with_access
from tests.e2e.test_modals import delivered
from tests.e2e.test_watch import flush
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import FakeSlack, SlackFault

HOME_ACCESS = """
channels:
  C0OPS:
    namespaces: [team-a]
    role: admin
    alerts: true
    users: [U0ALICE]
  C0SECRET:
    namespaces: [team-a]
    role: admin
    alerts: true
    users: [U0BOB]
  C0OPEN:
    namespaces: [team-a]
    role: read
"""


@pytest.fixture
def home(quay, world: FakeQuay, slack: FakeSlack, tmp_path: Path):
    with bot_with_access(quay, slack, tmp_path, HOME_ACCESS) as running:
        yield running


def published(slack: FakeSlack, user: str, count: int = 1) -> dict[str, Any]:
    calls = slack.wait_for("views.publish", lambda c: c.body.get("user_id") == user, count=count)
    deadline = time.monotonic() + 5
    while slack.homes.get(user, {}).get("blocks") != calls[count - 1].body["view"]["blocks"]:
        assert time.monotonic() < deadline, "the home tab was refused by the fake Slack"
        time.sleep(0.02)
    return slack.homes[user]


def home_with_an_alert(home, world: FakeQuay, slack: FakeSlack, user: str, failures: int):
    """A failing notification of team-a/api, alerted by a sweep, and the home `user` then opens."""
    bot, driver = home
    item = world.add_notification("team-a/api", failures=failures)
    bot.run(bot.bot.watch.watcher.sweep())
    flush(bot)
    driver.home_opened(user)
    return item, published(slack, user)


def words(view: dict[str, Any]) -> str:
    return str(view["blocks"])


def test_the_home_shows_only_channels_that_name_the_user(home, slack: FakeSlack):
    _bot, driver = home
    assert driver.home_opened(ALICE).status_code == 200
    mine = words(published(slack, ALICE))
    assert "<#C0OPS>" in mine and "<#C0SECRET>" not in mine and "<#C0OPEN>" not in mine
    assert "1 mapped channel is open to all its members" in mine
    driver.home_opened(MALLORY)
    nobody = words(published(slack, MALLORY))
    assert "No channel's `users` list" in nobody and "C0OPS" not in nobody and "C0SECRET" not in nobody


def test_open_alerts_with_working_buttons_and_the_users_changes(home, world: FakeQuay, slack: FakeSlack):
    bot, driver = home
    item, view = home_with_an_alert(home, world, slack, ALICE, failures=1)
    assert "<#C0OPS> · `team-a/api`" in words(view) and "failing, 1 of 3" in words(view)
    assert "<#C0SECRET>" not in words(view)  # the same alert in Bob's channel is Bob's
    assert driver.click_in_home(view, "quaybot_home_alert_reset", user=ALICE).status_code == 200
    refreshed = published(slack, ALICE, count=2)
    delivered(bot, slack, "C0OPS", containing="reset the failures")  # announced in its channel
    assert world.notifications[item.uuid].number_of_failures == 0
    assert "Your latest changes" in words(refreshed) and "notify reset team-a/api" in words(refreshed)


def test_a_forged_home_button_does_nothing(home, world: FakeQuay, slack: FakeSlack):
    _bot, driver = home
    item, view = home_with_an_alert(home, world, slack, MALLORY, failures=2)
    forged = {
        "type": "actions",
        "block_id": "x",
        "elements": [
            {
                "type": "button",
                "action_id": "quaybot_home_alert_reset",
                "text": {"type": "plain_text", "text": "x"},
                "value": f"C0OPS team-a/api {item.uuid}",
            }
        ],
    }
    driver.click_in_home({**view, "blocks": [*view["blocks"], forged]}, "quaybot_home_alert_reset", user=MALLORY)
    published(slack, MALLORY, count=2)
    assert world.notifications[item.uuid].number_of_failures == 2


def test_other_events_and_tabs_are_not_published(home, slack: FakeSlack):
    _bot, driver = home
    event = {
        "type": "event_callback",
        "team_id": "T0TEAM",
        "event": {"type": "app_home_opened", "user": BOB, "tab": "messages"},
    }
    import json

    assert driver.post(json.dumps(event).encode(), content_type="application/json").status_code == 200
    other = {"type": "event_callback", "team_id": "T0TEAM", "event": {"type": "message", "user": BOB}}
    # Acked and dropped: Slack retries any other answer, and turns off an app's events when most fail.
    assert driver.post(json.dumps(other).encode(), content_type="application/json").status_code == 200
    time.sleep(0.3)
    assert slack.calls_to("views.publish") == []


def test_a_home_slack_refuses_is_a_warning_and_the_next_opening_publishes_it(home, slack: FakeSlack, caplog):
    _, driver = home
    slack.fail_next("views.publish", SlackFault(status=429, body={"ok": False, "error": "ratelimited"}))
    with caplog.at_level(logging.WARNING):
        driver.home_opened(ALICE)
        slack.wait_for("views.publish")
        deadline = time.monotonic() + 5
        while "could not be published" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert [getattr(r, "error", None) for r in caplog.records if "published" in r.getMessage()] == ["ratelimited"]
    assert not [r for r in caplog.records if r.exc_info]
    driver.home_opened(ALICE)
    assert "C0OPS" in str(published(slack, ALICE, count=2))
