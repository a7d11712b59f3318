"""The notification-failure watch end to end: fake Quay failures in, Slack alerts out."""

from __future__ import annotations

import time

from pydantic import SecretStr

from tests.e2e.conftest import ALICE, SIGNING_SECRET, WATCH_ACCESS, BotThread, start, watch_settings  # noqa: F401
from tests.fakes.quay import FakeQuay, Fault
from tests.fakes.slack_api import Call, FakeSlack, SlackFault
from tests.fakes.slack_driver import SlackDriver


def sweep(bot: BotThread):
    return bot.run(bot.bot.watch.watcher.sweep())


def flush(bot: BotThread, timeout: float = 20) -> None:
    """Send everything due, waiting out retry delays, until the outbox is empty."""
    deadline = time.monotonic() + timeout
    store = bot.bot.outbox.store
    while bot.run(bot.bot.db.run(store.depth)) > 0:
        assert time.monotonic() < deadline, "the outbox did not drain"
        bot.run(bot.bot.outbox.send_due())
        time.sleep(0.02)


def tick(bot: BotThread) -> None:
    sweep(bot)
    flush(bot)


def parents(slack: FakeSlack, channel: str) -> list[Call]:
    return [
        c for c in slack.calls_to("chat.postMessage") if c.body.get("channel") == channel and "thread_ts" not in c.body
    ]


def threads(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.body.get("channel") == channel and "thread_ts" in c.body]


def updates(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.update") if c.body.get("channel") == channel]


def test_lifecycle_one_alert_edited_in_place_with_thread_lines(watch_bot, world: FakeQuay, slack: FakeSlack):
    item = world.add_notification(
        "team-a/api", method="slack", config={"url": "https://hooks.slack.com/services/T/B/SECRET"}
    )
    tick(watch_bot)
    assert parents(slack, "C0ALERTS") == []  # healthy: nothing to say
    world.set_failures(item.uuid, 1)
    tick(watch_bot)
    for channel in ("C0ALERTS", "C0READERS"):
        [alert] = parents(slack, channel)
        assert "A Quay notification is failing" in alert.text and "team-a/api" in alert.text
        assert "Failures*\\n1 of 3" in alert.text and "SECRET" not in alert.text
        assert [e["text"]["text"] for e in alert.body["blocks"][1]["elements"]] == [
            "Send test",
            "Reset failures",
            "Delete",
            "Mute 24h",
        ]
    assert parents(slack, "C0QUIET") == []  # alerts: false
    world.set_failures(item.uuid, 2)
    tick(watch_bot)
    assert len(updates(slack, "C0ALERTS")) == 1 and threads(slack, "C0ALERTS") == []  # same state: edit only
    world.set_failures(item.uuid, 3)
    tick(watch_bot)
    world.set_failures(item.uuid, 0)
    tick(watch_bot)
    tick(watch_bot)  # nothing new
    [alert] = parents(slack, "C0ALERTS")
    lines = threads(slack, "C0ALERTS")
    assert [c.body["text"] for c in lines] == [
        "Now disabled by Quay after 3 failures: events are dropped until it is reset.",
        "Recovered: deliveries succeed again.",
    ]
    parent_ts = watch_bot.run(watch_bot.bot.db.run(lambda: _ts_of_first_alert(watch_bot, "C0ALERTS")))
    assert all(c.body["thread_ts"] == parent_ts for c in lines)
    edits = updates(slack, "C0ALERTS")
    assert all(c.body["ts"] == parent_ts for c in edits)
    assert "Quay disabled a notification" in edits[1].text and "Recovered" in edits[-1].text
    assert not [b for b in edits[-1].body["blocks"] if b["type"] == "actions"]  # no buttons once recovered


def queued_texts(bot: BotThread, channel: str, *kinds: str) -> list[str]:
    import json

    from sqlalchemy import select

    from bot.store.tables import OutboxItem

    with bot.bot.db.session() as session:
        rows = session.scalars(
            select(OutboxItem)
            .where(OutboxItem.channel_id == channel, OutboxItem.kind.in_(kinds))
            .order_by(OutboxItem.id)
        )
        return [json.loads(r.payload)["text"] for r in rows]


def _ts_of_first_alert(bot: BotThread, channel: str) -> str:
    from sqlalchemy import select

    from bot.store.tables import OutboxItem

    with bot.bot.db.session() as session:
        return session.scalars(
            select(OutboxItem.ts)
            .where(OutboxItem.channel_id == channel, OutboxItem.kind == "alert")
            .order_by(OutboxItem.id)
        ).first()


def test_a_notification_already_disabled_alerts_once(watch_bot, world: FakeQuay, slack: FakeSlack):
    world.add_notification("team-a/api", failures=5)
    tick(watch_bot)
    tick(watch_bot)
    [alert] = parents(slack, "C0ALERTS")
    assert "Quay disabled a notification" in alert.text and "events since then are dropped" in alert.text


def test_deleted_notification_and_deleted_repository(watch_bot, world: FakeQuay, slack: FakeSlack):
    first = world.add_notification("team-a/api", failures=1)
    world.add_notification("team-a/web", failures=2)
    tick(watch_bot)
    del world.notifications[first.uuid]
    del world.repos[("team-a", "web")]
    watch_bot.bot.watch.watcher.settings = type(watch_bot.bot.watch.watcher.settings)(
        inventory_interval=0.001, interval=60
    )
    tick(watch_bot)
    texts = [c.body["text"] for c in threads(slack, "C0ALERTS")]
    assert texts.count("Notification deleted.") == 2


def test_alert_buttons_work_and_recheck_access(watch_bot, world: FakeQuay, slack: FakeSlack):
    item = world.add_notification("team-a/api", failures=3)
    tick(watch_bot)
    driver = SlackDriver(watch_bot.url, SIGNING_SECRET, slack)
    [alert] = parents(slack, "C0ALERTS")
    [reader_alert] = parents(slack, "C0READERS")
    # A read-only channel's buttons are refused by the policy, and nothing reaches Quay.
    refused = driver.click(reader_alert, "quaybot_notify_reset", user=ALICE, channel="C0READERS")
    assert "needs the write role" in slack.wait_for(refused.response_id)[0].text
    assert world.notifications[item.uuid].number_of_failures == 3
    # Send test on a disabled notification: refused with the reason, and the reset offered.
    test = driver.click(alert, "quaybot_alert_test", user=ALICE, channel="C0ALERTS")
    assert "Not sent" in slack.wait_for(test.response_id)[0].text and world.queued_tests == []
    # Reset: Quay is reset, and the alert says who did it.
    reset = driver.click(alert, "quaybot_notify_reset", user=ALICE, channel="C0ALERTS")
    assert "reset the failures" in slack.wait_for(reset.response_id)[0].text
    assert world.notifications[item.uuid].number_of_failures == 0
    flush(watch_bot)
    assert f"Failures reset by <@{ALICE}>." in [c.body["text"] for c in threads(slack, "C0ALERTS")]
    tick(watch_bot)
    assert "Recovered: deliveries succeed again." not in [c.body["text"] for c in threads(slack, "C0ALERTS")]
    # Send test now works.
    world.set_failures(item.uuid, 1)
    tick(watch_bot)
    [_, second] = parents(slack, "C0ALERTS")  # a new episode: a new alert
    test = driver.click(second, "quaybot_alert_test", user=ALICE, channel="C0ALERTS")
    assert "Test queued" in slack.wait_for(test.response_id)[0].text and world.queued_tests == [item.uuid]
    # Delete goes through the confirmation flow.
    delete = driver.click(second, "quaybot_alert_delete", user=ALICE, channel="C0ALERTS")
    prompt = slack.wait_for(delete.response_id)[0]
    assert "Delete notification" in prompt.text and item.uuid in world.notifications
    confirm = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ALERTS")
    slack.wait_for(confirm.response_id, count=2)
    assert item.uuid not in world.notifications
    tick(watch_bot)
    assert "Notification deleted." in [c.body["text"] for c in threads(slack, "C0ALERTS")]
    driver.close()


def test_mute_suppresses_new_alerts_in_that_channel_only(watch_bot, world: FakeQuay, slack: FakeSlack):
    item = world.add_notification("team-a/api", failures=1)
    tick(watch_bot)
    driver = SlackDriver(watch_bot.url, SIGNING_SECRET, slack)
    [alert] = parents(slack, "C0ALERTS")
    mute = driver.click(alert, "quaybot_alert_mute", user=ALICE, channel="C0ALERTS")
    answer = slack.wait_for(mute.response_id)[0]
    assert "muted new alerts" in answer.text and answer.body["response_type"] == "in_channel"
    refused = driver.click(parents(slack, "C0READERS")[0], "quaybot_alert_mute", user=ALICE, channel="C0READERS")
    assert "needs the write role" in slack.wait_for(refused.response_id)[0].text
    world.set_failures(item.uuid, 3)
    tick(watch_bot)
    world.set_failures(item.uuid, 0)
    tick(watch_bot)
    world.set_failures(item.uuid, 1)  # a new episode
    tick(watch_bot)
    assert len(parents(slack, "C0ALERTS")) == 1 and threads(slack, "C0ALERTS") == []  # muted: no new posts
    assert len(parents(slack, "C0READERS")) == 2  # the other channel is not muted
    driver.close()


def test_restart_neither_reposts_nor_loses(quay, world: FakeQuay, slack: FakeSlack, tmp_path, watch_access):
    settings = watch_settings(quay, slack, tmp_path, watch_access)
    first = start(settings)
    item = world.add_notification("team-a/api", failures=1)
    sweep(first)  # queued, not yet sent
    first.stop()
    second = start(settings)
    try:
        flush(second)
        tick(second)
        assert len(parents(slack, "C0ALERTS")) == 1
        world.set_failures(item.uuid, 3)
        tick(second)
    finally:
        second.stop()
    third = start(settings)
    try:
        tick(third)
        assert len(parents(slack, "C0ALERTS")) == 1 and len(threads(slack, "C0ALERTS")) == 1
    finally:
        third.stop()


def test_slack_down_then_up_every_alert_arrives_once_in_order(watch_bot, world: FakeQuay, slack: FakeSlack):
    first = world.add_notification("team-a/api", failures=1)
    world.add_notification("team-a/web", failures=1)
    slack.fail_next("chat.postMessage", SlackFault(status=500, body={"ok": False, "error": "internal_error"}), times=3)
    slack.fail_next(
        "chat.postMessage",
        SlackFault(status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}),
    )
    slack.fail_next("chat.postMessage", SlackFault(drop=True))
    sweep(watch_bot)
    world.set_failures(first.uuid, 3)
    sweep(watch_bot)
    flush(watch_bot, timeout=30)
    attempts = slack.calls_to("chat.postMessage")
    assert len(attempts) == 5 + 2 * 3  # five failed attempts, then each message exactly once per channel
    for channel in ("C0ALERTS", "C0READERS"):
        ok = [c.body["text"] for c in attempts if c.body.get("channel") == channel][-3:]  # failures came first
        assert ok == queued_texts(watch_bot, channel, "alert", "thread")  # in the order they were queued
    assert watch_bot.run(watch_bot.bot.db.run(watch_bot.bot.outbox.store.depth)) == 0
    metrics = watch_bot.bot.metrics.render().decode()
    assert "quaybot_slack_failures_total" in metrics


def test_per_channel_pacing(watch_bot, world: FakeQuay, slack: FakeSlack):
    watch_bot.bot.outbox.per_channel_interval = 3600.0
    for name in ("api", "web"):
        world.add_notification(f"team-a/{name}", failures=1)
    sweep(watch_bot)
    watch_bot.run(watch_bot.bot.outbox.send_due())
    watch_bot.run(watch_bot.bot.outbox.send_due())
    # One message per channel per interval: the second alert waits its turn.
    assert len(parents(slack, "C0ALERTS")) == 1 and len(parents(slack, "C0READERS")) == 1


def test_token_without_admin_warns_once_and_skips(quay, world: FakeQuay, slack: FakeSlack, tmp_path, watch_access):
    from tests.conftest import RO

    settings = watch_settings(quay, slack, tmp_path, watch_access, QUAY_TOKEN=SecretStr(RO))
    bot = start(settings)
    try:
        world.add_notification("team-a/api", failures=1)
        tick(bot)
        warnings = [c for c in parents(slack, "C0ALERTS") if "cannot watch" in c.text]
        assert len(warnings) == 1 and "repo:admin" in warnings[0].text
        before = len(world.requests)
        tick(bot)
        tick(bot)
        assert len(world.requests) == before  # skipped, not retried every cycle
        assert len([c for c in parents(slack, "C0ALERTS") if "cannot watch" in c.text]) == 1
    finally:
        bot.stop()


def test_quay_overloaded_stops_the_sweep_early(watch_bot, world: FakeQuay):
    for i in range(30):
        world.add_repo(f"team-a/r{i:02d}")
        world.add_notification(f"team-a/r{i:02d}")
    sweep(watch_bot)  # inventory + discovery
    for _ in range(watch_bot.bot.watch.watcher.settings.rotation):
        sweep(watch_bot)
    world.inject(Fault(method="GET", path="/notification/$", status=503, times=1000))
    before = len(world.requests_to("GET", "/notification/$"))
    report = sweep(watch_bot)
    assert report.namespaces[0].stopped and "overloaded" in report.namespaces[0].stopped
    sent = len(world.requests_to("GET", "/notification/$")) - before
    assert sent < 32 * 4  # far fewer than every repository with every retry
