"""The watch reads what is likely to fail first: a push seen in the listing, a notification the bot
changed, a test it sent; and it resumes after a restart where it stopped."""

from __future__ import annotations

import dataclasses
import time

from tests.e2e.conftest import ALICE, SIGNING_SECRET, start, watch_settings
from tests.e2e.test_watch import flush, parents, sweep, threads
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

DEAD = "dead.example.com"


def many_repositories(world: FakeQuay, cold: int = 200, hot: int = 5) -> None:
    for i in range(cold):
        world.add_repo(f"team-a/cold{i:03d}")
    for i in range(hot):
        world.add_repo(f"team-a/hot{i}")
        world.add_notification(f"team-a/hot{i}")


def no_rotation(bot) -> None:
    """Leave the rotation (almost) no time: only the listing and the reads it hints at remain."""
    watcher = bot.bot.watch.watcher
    watcher.settings = dataclasses.replace(watcher.settings, shortest_period=0.0, requests_per_second=10_000)


def notification_reads(world: FakeQuay) -> list[str]:
    return [r.path for r in world.requests_to("GET", "/notification/$")]


def test_a_push_makes_a_cold_repository_read_in_the_next_sweep(quay, world: FakeQuay, slack, tmp_path, watch_access):
    bot = start(watch_settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world)
        sweep(bot)  # the first pass: every repository once
        assert len(set(notification_reads(world))) == 207
        no_rotation(bot)
        before = len(notification_reads(world))
        sweep(bot)
        assert len(notification_reads(world)) - before < 10  # the listing alone, nearly
        # Someone adds a webhook in Quay's UI to a repository the bot saw without notifications,
        # and pushes; Quay's worker counts the first failure.
        world.worker.dead_hosts.add(DEAD)
        world.add_notification("team-a/cold042", config={"url": f"https://{DEAD}/hook"})
        world.push("team-a/cold042")
        world.worker.tick(time.time() + 10)
        before = len(notification_reads(world))
        report = sweep(bot)
        reads = notification_reads(world)[before:]
        assert "/api/v1/repository/team-a/cold042/notification/" in reads and len(reads) < 10
        assert report.namespaces[0].pushed == 1
        flush(bot)
        [alert] = parents(slack, "C0ALERTS")
        assert "team-a/cold042" in alert.text and "Quay retries twice more, about 40 s apart" in alert.text
        # It is followed on Quay's retry schedule, without waiting for a sweep.
        store, db = bot.bot.watch.watcher.inventory_store, bot.bot.db
        [entry] = [e for e in bot.run(db.run(lambda: store.inventory("team-a"))) if e.name == "cold042"]
        assert entry.next_check_at is not None and entry.next_check_at - time.time() < 25
    finally:
        bot.stop()


def test_a_restart_resumes_without_a_new_first_pass(quay, world: FakeQuay, slack, tmp_path, watch_access):
    settings = watch_settings(quay, slack, tmp_path, watch_access)
    first = start(settings)
    many_repositories(world)
    sweep(first)
    first.stop()
    second = start(settings)
    try:
        no_rotation(second)
        store, db = second.bot.watch.watcher.inventory_store, second.bot.db
        inventory = second.run(db.run(lambda: store.inventory("team-a")))
        assert {e.name for e in inventory if e.has_notifications} == {f"hot{i}" for i in range(5)}  # hot set kept
        assert all(e.checked_at is not None for e in inventory)
        before = len(notification_reads(world))
        world.worker.dead_hosts.add("hooks.example.com")  # where the hot repositories' webhooks go
        world.push("team-a/hot3")
        world.worker.tick(time.time() + 10)
        sweep(second)
        reads = notification_reads(world)[before:]
        assert reads == ["/api/v1/repository/team-a/hot3/notification/"]  # no new first pass
        flush(second)
        [alert] = parents(slack, "C0ALERTS")
        assert "team-a/hot3" in alert.text
    finally:
        second.stop()


def test_a_notification_created_through_the_bot_is_watched_at_once(
    quay, world: FakeQuay, slack: FakeSlack, tmp_path, watch_access
):
    bot = start(watch_settings(quay, slack, tmp_path, watch_access))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        many_repositories(world, cold=50, hot=0)
        sweep(bot)
        no_rotation(bot)
        sent = driver.slash(
            f"notify create team-a/cold007 repo_push webhook url=https://{DEAD}/hook", user=ALICE, channel="C0ALERTS"
        )
        assert "added a repo_push notification to team-a/cold007" in slack.wait_for(sent.response_id)[0].text
        before = len(notification_reads(world))
        assert bot.run(bot.bot.watch.watcher.follow_up()) == 1  # between sweeps, at once
        assert notification_reads(world)[before:] == ["/api/v1/repository/team-a/cold007/notification/"]
        store, db = bot.bot.watch.watcher.inventory_store, bot.bot.db
        [entry] = [e for e in bot.run(db.run(lambda: store.inventory("team-a"))) if e.name == "cold007"]
        assert entry.has_notifications  # hot from now on
    finally:
        driver.close()
        bot.stop()


def _test_then(world: FakeQuay, slack: FakeSlack, bot, deliver_ok: bool) -> str:
    item = world.add_notification("team-a/api")
    bot.bot.interactions.test_checks = (0.4, 0.8)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        sent = driver.slash(f"notify test team-a/api {item.uuid}", user=ALICE, channel="C0ALERTS")
        assert "Test queued" in slack.wait_for(sent.response_id)[0].text
        world.run_notification_worker(deliver_ok=deliver_ok)  # Quay's worker takes its turn
        return slack.wait_for(sent.response_id, count=2)[1].text
    finally:
        driver.close()


def test_notify_test_follow_up_says_when_quay_counted_a_failure(watch_bot, world: FakeQuay, slack: FakeSlack):
    text = _test_then(world, slack, watch_bot, deliver_ok=False)
    assert "Quay counted a failure (1 of 3)" in text and "retries twice more, about 40 s apart" in text


def test_notify_test_follow_up_says_no_failure_was_counted(watch_bot, world: FakeQuay, slack: FakeSlack):
    text = _test_then(world, slack, watch_bot, deliver_ok=True)
    assert "No failure counted within 1 s" in text and "Quay records only failures" in text


def test_more_than_five_new_alerts_make_one_digest(watch_bot, world: FakeQuay, slack: FakeSlack):
    items = []
    for i in range(7):
        world.add_repo(f"team-a/svc{i}")
        items.append(world.add_notification(f"team-a/svc{i}", failures=1))
    sweep(watch_bot)
    flush(watch_bot)
    [digest] = parents(slack, "C0ALERTS")
    assert "7 Quay notifications started failing" in digest.text
    buttons = [b for b in digest.body["blocks"] if b["type"] == "actions"]
    assert len(buttons) == 7  # each alert keeps its own actions
    # A later change of one of them is a line in the digest's thread, not a rewrite of the digest.
    world.set_failures(items[2].uuid, 3)
    sweep(watch_bot)
    flush(watch_bot)
    [line] = threads(slack, "C0ALERTS")
    assert (
        line.body["thread_ts"]
        and "team-a/svc2" not in line.text
        and "svc2 (repo_push → webhook): Now disabled" in line.text
    )
    # A click on a digest button works like on a single alert.
    driver = SlackDriver(watch_bot.url, SIGNING_SECRET, slack)
    reset = driver.click(digest, "quaybot_notify_reset", user=ALICE, channel="C0ALERTS")
    assert "reset the failures" in slack.wait_for(reset.response_id)[0].text
    driver.close()


def test_few_new_alerts_stay_single(watch_bot, world: FakeQuay, slack: FakeSlack):
    for i in range(5):
        world.add_repo(f"team-a/one{i}")
        world.add_notification(f"team-a/one{i}", failures=1)
    sweep(watch_bot)
    flush(watch_bot)
    assert len(parents(slack, "C0ALERTS")) == 5


def test_first_pass_progress_is_logged_and_in_metrics(quay, world: FakeQuay, slack, tmp_path, watch_access, caplog):
    caplog.set_level("INFO", logger="bot.alerts.watcher")
    bot = start(watch_settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=40, hot=0)
        watcher = bot.bot.watch.watcher
        generous = watcher.settings
        no_rotation(bot)
        sweep(bot)
        sweep(bot)
        progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("first pass ")]
        assert progress[-1] == "first pass 0 / 42"  # 40 and the two the tests seed; none read yet
        watcher.settings = generous
        sweep(bot)  # reads everything left
        sweep(bot)  # and notices the first pass is done
        assert any(r.getMessage() == "first pass done" for r in caplog.records)
        metrics = bot.bot.metrics.render().decode()
        assert 'quaybot_watch_first_pass_checked{namespace="team-a"} 42.0' in metrics
        assert 'quaybot_watch_repositories{namespace="team-a"} 42.0' in metrics
    finally:
        bot.stop()
