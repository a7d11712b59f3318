"""Two watchers on one database post once per state change: SQLite, and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.e2e.conftest import BotThread
from tests.e2e.test_watch import WATCH_ACCESS, parents, threads
from tests.fakes.postgres import PostgresServer
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import FakeSlack


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"quaybot_{uuid.uuid4().hex[:12]}")


def replica(quay, slack, tmp_path, database_url, **extra: object) -> BotThread:
    from tests.e2e.conftest import make_settings

    access = tmp_path / "replicas.yml"
    access.write_text(WATCH_ACCESS)
    settings = make_settings(
        quay.url,
        slack,
        tmp_path,
        access,
        **{
            "QUAYBOT_DATABASE_URL": database_url,
            "QUAYBOT_ALERT_INTERVAL_SECONDS": 0.3,
            "QUAYBOT_INVENTORY_INTERVAL_SECONDS": 0.3,
            "QUAYBOT_WATCH_REQUESTS_PER_SECOND": 200,
            **extra,
        },
    )
    bot = BotThread(settings, watch=True)
    bot.bot.outbox.per_channel_interval = 0.0
    bot.bot.outbox.backoff_base = 0.05
    bot.bot.watch.lease_seconds = 1.5
    return bot


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def leaders(*bots: BotThread) -> int:
    return sum(bot.bot.watch.leading for bot in bots)


def test_two_watchers_post_once_per_change(quay, world: FakeQuay, slack: FakeSlack, tmp_path, database_url):
    one = replica(quay, slack, tmp_path, database_url)
    two = replica(quay, slack, tmp_path, database_url)
    try:
        # A scan's notification: no log entry announces its failures, so the rotation reads it every
        # inventory interval (0.3 s here) and the counts set below are seen at once.
        item = world.add_notification("team-a/api", failures=1, event="vulnerability_found")
        wait_until(lambda: len(parents(slack, "C0ALERTS")) >= 1)
        world.set_failures(item.uuid, 3)
        wait_until(lambda: len(threads(slack, "C0ALERTS")) >= 1)
        world.set_failures(item.uuid, 0)
        wait_until(lambda: len(threads(slack, "C0ALERTS")) >= 2)
        time.sleep(1.5)  # several more sweeps by whoever leads: nothing more may be said
        assert leaders(one, two) == 1
        for channel in ("C0ALERTS", "C0READERS"):
            assert len(parents(slack, channel)) == 1
            assert [c.body["text"] for c in threads(slack, channel)] == [
                "Now disabled by Quay after 3 failures: events are dropped until it is reset.",
                "Recovered: deliveries succeed again.",
            ]
        # The leader goes away; the other takes over when the lease lapses, and says nothing twice.
        leader, follower = (one, two) if one.bot.watch.leading else (two, one)
        leader.stop()
        world.set_failures(item.uuid, 1)
        wait_until(lambda: follower.bot.watch.leading and len(parents(slack, "C0ALERTS")) == 2)
        time.sleep(1.0)
        assert len(parents(slack, "C0ALERTS")) == 2
    finally:
        for bot in (one, two):
            if bot.thread.is_alive():
                bot.stop()


def test_even_concurrent_sweeps_do_not_double_post_on_postgresql(
    quay, world: FakeQuay, slack: FakeSlack, tmp_path, postgres
):
    """The lease keeps one sweeper; if two ever overlap, row locks and unique keys still keep one post.
    (SQLite serialises writers by itself; PostgreSQL runs transactions concurrently, so it is tested here.)"""
    database_url = postgres.create_database(f"quaybot_{uuid.uuid4().hex[:12]}")
    # A sweep stops reading at its deadline (its period: the alert interval here) and the next one
    # reads the rest; at 0.3 s a loaded machine split the twenty into two posts. Ten seconds is
    # never reached, so each sweep reads all twenty and both decide on the same new alerts.
    one = replica(quay, slack, tmp_path, database_url, QUAYBOT_ALERT_INTERVAL_SECONDS=10)
    two = replica(quay, slack, tmp_path, database_url, QUAYBOT_ALERT_INTERVAL_SECONDS=10)
    try:
        for bot in (one, two):  # stop both loops; drive the sweeps by hand, at the same time
            bot.run(bot.server.close_watch())
        for i in range(20):
            world.add_repo(f"team-a/r{i:02d}")
            world.add_notification(f"team-a/r{i:02d}", failures=1)
        time.sleep(0.4)  # the inventory is due again: both sweeps list and check everything at once

        async def both() -> None:
            results = await asyncio.gather(
                asyncio.wrap_future(asyncio.run_coroutine_threadsafe(one.bot.watch.watcher.sweep(), one.loop)),
                asyncio.wrap_future(asyncio.run_coroutine_threadsafe(two.bot.watch.watcher.sweep(), two.loop)),
                return_exceptions=True,
            )
            assert any(not isinstance(r, BaseException) for r in results), results

        for _ in range(3):
            asyncio.run(both())
        one.run(one.bot.db.run(one.bot.outbox.store.depth))
        from sqlalchemy import func, select

        from bot.store.tables import Alert, OutboxItem

        with one.bot.db.session() as session:
            posts = session.scalars(
                select(OutboxItem.id).where(OutboxItem.kind == "digest", OutboxItem.channel_id == "C0ALERTS")
            ).all()
            announced = session.scalar(
                select(func.count()).where(Alert.channel_id == "C0ALERTS", Alert.parent_item_id.in_(posts))
            )
        # Twenty at once make one digest (more than five new alerts for a channel), each alert in it once.
        assert len(posts) == 1 and announced == 20
    finally:
        one.stop()
        two.stop()
