"""The watch fed by Quay's usage logs, end to end: a push in the fake Quay (its log entry, its worker's
failed delivery) to the alert in Slack with no listing in between; a notification added in Quay's
UI read at once; the listing back where the logs cannot be read; and a restart that replays nothing."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import start, watch_settings
from tests.e2e.test_watch import flush, parents, sweep
from tests.e2e.test_watch_hints import many_repositories, notification_reads
from tests.fakes.quay import FakeQuay

DEAD = "dead.example.com"


def listings(world: FakeQuay) -> int:
    return len(world.requests_to("GET", "^/api/v1/repository$"))


def follow(bot) -> None:
    """One turn of the follow-ups (which read the usage logs first), as the watch loop runs them."""
    watcher = bot.bot.watch.watcher
    watcher.sources._polled.clear()  # the logs are due now, as a few seconds later
    bot.run(watcher.follow_up())


def settings(quay, slack, tmp_path, watch_access):
    return watch_settings(quay, slack, tmp_path, watch_access, QUAYBOT_INVENTORY_INTERVAL_SECONDS=3600)


def test_a_logged_push_leads_to_the_alert_without_a_listing(quay, world: FakeQuay, slack, tmp_path, watch_access):
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world)
        sweep(bot)  # the first pass, and the one listing an inventory interval asks for
        follow(bot)  # the logs' position: nothing replayed
        metrics = bot.bot.metrics.render().decode()
        assert 'quaybot_watch_source{namespace="team-a",source="logs"} 1.0' in metrics
        listed = listings(world)
        world.worker.dead_hosts.add(DEAD)
        [hook] = [n for n in world.notifications.values() if n.repo_id == world.repos["team-a", "hot1"].id]
        hook.config["url"] = f"https://{DEAD}/hook"
        world.push("team-a/hot1")
        world.worker.tick(time.time() + 10)  # Quay counts the first failure
        follow(bot)
        flush(bot)
        [alert] = parents(slack, "C0ALERTS")
        assert "team-a/hot1" in alert.text
        sweep(bot)  # a sweep now reads no listing: the logs showed the push
        assert listings(world) == listed
    finally:
        bot.stop()


def test_a_notification_added_in_quays_ui_is_read_at_once(quay, world: FakeQuay, slack, tmp_path, watch_access):
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)
        sweep(bot)
        follow(bot)
        uuid = world.add_notification("team-a/cold007", config={"url": "https://hooks.example.com/x"}).uuid
        world.oauth.log("team-a", "add_repo_notification", "someone", {"repo": "cold007", "notification_id": uuid})
        before = len(notification_reads(world))
        follow(bot)
        assert notification_reads(world)[before:] == ["/api/v1/repository/team-a/cold007/notification/"]
    finally:
        bot.stop()


def test_where_the_logs_cannot_be_searched_the_listing_stays(quay, world: FakeQuay, slack, tmp_path, watch_access):
    world.oauth.unsearchable.add("team-a")
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)
        sweep(bot)
        follow(bot)
        metrics = bot.bot.metrics.render().decode()
        assert 'quaybot_watch_source{namespace="team-a",source="listing"} 1.0' in metrics
        listed = listings(world)
        sweep(bot)
        assert listings(world) == listed + 1  # every sweep lists, as before
        state = bot.run(bot.bot.db.run(lambda: bot.bot.watch.watcher.sources.feeds.state("team-a")))
        assert state.source == "listing" and "search_unavailable" in (state.why or "")
    finally:
        bot.stop()


def test_a_restart_neither_misses_nor_replays(quay, world: FakeQuay, slack, tmp_path, watch_access):
    config = settings(quay, slack, tmp_path, watch_access)
    first = start(config)
    many_repositories(world, cold=20)
    sweep(first)
    follow(first)
    first.stop()
    world.push("team-a/hot3")  # while no bot runs
    second = start(config)
    try:
        sources = second.bot.watch.watcher.sources
        store = second.bot.watch.watcher.inventory_store
        listed = listings(world)
        sweep(second)  # the logs are read first: the restart costs no listing
        assert listings(world) == listed
        follow(second)
        inventory = second.run(second.bot.db.run(lambda: store.inventory("team-a")))
        [entry] = [e for e in inventory if e.name == "hot3"]
        assert entry.pushed_at is not None  # the push made while it was down was taken
        position = second.run(second.bot.db.run(lambda: sources.feeds.state("team-a")))
        follow(second)
        again = second.run(second.bot.db.run(lambda: sources.feeds.state("team-a")))
        assert again.newest_at == position.newest_at and again.seen == position.seen
    finally:
        second.stop()


def alerting_hook(bot, world: FakeQuay, slack):
    """team-a/hot2's webhook, failing after a push and alerted in C0ALERTS (as the logs fed it)."""
    many_repositories(world, cold=5)
    sweep(bot)
    follow(bot)
    [hook] = [n for n in world.notifications.values() if n.repo_id == world.repos["team-a", "hot2"].id]
    world.worker.dead_hosts.add(DEAD)
    hook.config["url"] = f"https://{DEAD}/hook"
    world.push("team-a/hot2")
    world.worker.tick(time.time() + 10)
    follow(bot)
    flush(bot)
    [alert] = parents(slack, "C0ALERTS")
    assert "team-a/hot2" in alert.text
    return hook


def test_a_reset_made_in_quays_ui_is_said_by_whom(quay, world: FakeQuay, slack, tmp_path, watch_access):
    from tests.e2e.test_watch import threads

    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        hook = alerting_hook(bot, world, slack)
        # Someone resets it in Quay's UI: no OAuth application in the log entry.
        world.set_failures(hook.uuid, 0)
        world.oauth.log("team-a", "reset_repo_notification", "carol", {"repo": "hot2", "notification_id": hook.uuid})
        follow(bot)
        flush(bot)
        assert any("Failures reset in Quay by `carol`." in c.text for c in threads(slack, "C0ALERTS"))
    finally:
        bot.stop()


def test_a_notification_deleted_in_quays_ui_while_alerting_is_said_by_whom(
    quay, world: FakeQuay, slack, tmp_path, watch_access
):
    from tests.e2e.test_watch import threads

    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        hook = alerting_hook(bot, world, slack)
        # Someone deletes it in Quay's UI: gone from the API, logged with no OAuth application.
        del world.notifications[hook.uuid]
        world.oauth.log("team-a", "delete_repo_notification", "dave", {"repo": "hot2", "notification_id": hook.uuid})
        follow(bot)
        flush(bot)
        lines = [c.text for c in threads(slack, "C0ALERTS")]
        assert sum("Notification deleted in Quay by `dave`." in line for line in lines) == 1
        assert not any("Notification deleted." in line for line in lines)  # the read after says nothing more
        state = bot.run(
            bot.bot.db.run(lambda: bot.bot.watch.watcher.announcer.store.notification_snapshot(hook.uuid, time.time()))
        )
        assert {r.state for r in state.records.values()} == {"gone"}
    finally:
        bot.stop()


def age_reads(bot, seconds: float) -> None:
    """Every repository was last read `seconds` earlier: an inventory interval (or more) has passed."""
    from sqlalchemy import update

    from bot.store.tables import InventoryRepo

    def aged() -> None:
        with bot.bot.db.session() as session, session.begin():
            session.execute(update(InventoryRepo).values(checked_at=InventoryRepo.checked_at - seconds))

    bot.run(bot.bot.db.run(aged))


def test_where_the_logs_are_read_only_notifications_no_log_announces_are_read_again(
    quay, world: FakeQuay, slack, tmp_path, watch_access
):
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)  # hot0..hot4: repo_push webhooks, whose failures follow a push
        world.add_repo("team-a/scanned")
        world.add_notification("team-a/scanned", event="vulnerability_found")  # fires on a scan, never logged
        sweep(bot)
        follow(bot)
        age_reads(bot, 7200)  # two inventory intervals later, nothing pushed
        before = len(notification_reads(world))
        sweep(bot)
        assert notification_reads(world)[before:] == ["/api/v1/repository/team-a/scanned/notification/"]
    finally:
        bot.stop()


def test_where_the_logs_cannot_be_read_every_repository_with_notifications_is_read_again(
    quay, world: FakeQuay, slack, tmp_path, watch_access
):
    world.oauth.unsearchable.add("team-a")
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)
        world.add_repo("team-a/scanned")
        world.add_notification("team-a/scanned", event="vulnerability_found")
        sweep(bot)
        age_reads(bot, 7200)
        before = len(notification_reads(world))
        sweep(bot)
        again = set(notification_reads(world)[before:])
        assert {f"/api/v1/repository/team-a/hot{i}/notification/" for i in range(5)} <= again
        assert "/api/v1/repository/team-a/scanned/notification/" in again
    finally:
        bot.stop()


@pytest.mark.parametrize("fed_for", [600.0, 0.0])
def test_a_webhook_found_failing_long_after_its_last_logged_push_is_read_at_its_next_push(
    quay, world: FakeQuay, slack, tmp_path, watch_access, fed_for: float
):
    """A first pass finds webhooks that failed once, weeks ago. Where the logs have been read for longer
    than Quay retries and show no push to the repository, the count cannot move before the next push
    or a reset, which the logs show: it is read then, not six times in two minutes nor every 5
    minutes. Where the event is one no log shows (a scan), or the logs have only just begun to be
    read, Quay may still be retrying: every 20 s."""
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)
        for name, event in (("stale", "repo_push"), ("scanned", "vulnerability_found")):
            world.add_repo(f"team-a/{name}")
            world.add_notification(f"team-a/{name}", event=event, failures=1)
        follow(bot)  # the logs' position: from now on every push is seen
        watcher = bot.bot.watch.watcher
        # The first pass reaches these repositories `fed_for` seconds into the feed (ten minutes: as at
        # 10,000 repositories).
        watcher.sources._covered["team-a"] -= fed_for
        sweep(bot)
        flush(bot)
        assert len(parents(slack, "C0ALERTS")) == 2  # both alerted all the same
        store, db = watcher.inventory_store, bot.bot.db
        due = {e.name: e.next_check_at for e in bot.run(db.run(lambda: store.inventory("team-a")))}
        now = time.time()
        assert due["scanned"] is not None and due["scanned"] - now < 25  # Quay may be retrying the scan's
        if fed_for:
            assert due["stale"] is None  # read again at its next push, or when its count is reset
        else:
            assert due["stale"] is not None and due["stale"] - now < 25
    finally:
        bot.stop()


def test_a_first_pass_reads_first_what_the_logs_window_names(quay, world: FakeQuay, slack, tmp_path, watch_access):
    """From an empty database, the repositories pushed to and those whose notifications were added
    lately (the logs' window) are read before any other: a failing notification added in Quay's UI
    an hour ago is alerted before the first pass has listed anything, with nothing replayed."""
    many_repositories(world, cold=200)
    world.worker.dead_hosts.add(DEAD)
    added = world.add_notification("team-a/cold150", config={"url": f"https://{DEAD}/hook"}, failures=1)
    world.oauth.log("team-a", "add_repo_notification", "dave", {"repo": "cold150", "notification_id": added.uuid})
    world.push("team-a/cold120")
    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        follow(bot)  # the first read of the logs, before any listing or sweep
        assert listings(world) == 0
        assert sorted(notification_reads(world)) == [
            "/api/v1/repository/team-a/cold120/notification/",
            "/api/v1/repository/team-a/cold150/notification/",
        ]
        flush(bot)
        [alert] = parents(slack, "C0ALERTS")
        assert "team-a/cold150" in alert.text
        assert "dave" not in alert.text  # the addition is not replayed as news
    finally:
        bot.stop()


def test_a_first_pass_fed_by_the_logs_spends_no_request_on_the_healing_listing(
    quay, world: FakeQuay, slack, tmp_path, watch_access
):
    """The listing that heals what a feed could miss runs every inventory interval, but not while a first
    pass (which reads every repository anyway) goes on with the logs read without a gap."""
    from sqlalchemy import update

    from bot.store.tables import NamespaceWatch

    def an_interval_later(*, passing: bool) -> None:
        def aged() -> None:
            with bot.bot.db.session() as session, session.begin():
                values: dict[str, object] = {"listed_at": NamespaceWatch.listed_at - 7200}
                if passing:
                    values["first_pass_done_at"] = None  # still under way
                session.execute(update(NamespaceWatch).values(**values))

        bot.run(bot.bot.db.run(aged))

    bot = start(settings(quay, slack, tmp_path, watch_access))
    try:
        many_repositories(world, cold=20)
        follow(bot)
        sweep(bot)  # the first listing
        listed = listings(world)
        an_interval_later(passing=True)
        follow(bot)
        sweep(bot)
        assert listings(world) == listed  # the pass goes on: no listing
        an_interval_later(passing=False)
        follow(bot)
        sweep(bot)
        assert listings(world) == listed + 1  # done: the listing heals, an interval after the last
    finally:
        bot.stop()
