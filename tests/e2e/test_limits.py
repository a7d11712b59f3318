"""Commands at the limit: the ack comes before any work, work is bounded and a full queue says so at
once, a Slack that cannot be reached does not hold up acks, and the database never hangs the bot."""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from typing import Any

import httpx
import psycopg

from bot.store.db import POOL_SIZE
from tests.e2e.conftest import ALICE, SIGNING_SECRET, BotThread, make_settings, start_in_socket_mode
from tests.fakes.quay import FakeQuay, Fault
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver


def one_slot_bot(quay, world: FakeQuay, slack, tmp_path, access_file, quay_delay: float, **extra: Any):
    """The bot with one work slot, and Quay answering `repo info`'s read after `quay_delay` seconds."""
    world.inject(Fault(method="GET", path="/team-a/api$", delay=quay_delay, times=10))
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file, QUAYBOT_MAX_CONCURRENT_COMMANDS=1, **extra))
    return bot, SlackDriver(bot.url, SIGNING_SECRET, slack)


def test_a_full_queue_answers_busy_at_once_and_the_rest_are_served(quay, world: FakeQuay, slack, tmp_path, access_file):
    bot, driver = one_slot_bot(quay, world, slack, tmp_path, access_file, 1.5, QUAYBOT_COMMAND_QUEUE_SIZE=1)
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            sent = list(pool.map(lambda _: driver.slash("repo info api", user=ALICE, channel="C0READ"), range(3)))
        assert all(s.status == 200 for s in sent)
        assert max(s.latency for s in sent) < 1.0  # acked before the 1.5 s Quay call, every one
        replies = [slack.wait_for(s.response_id, timeout=15)[0].text for s in sent]
        assert sum("The bot is busy right now, so nothing was done" in r for r in replies) == 1
        assert sum("The API" in r for r in replies) == 2  # one at a time, the second after waiting its turn
        deadline = time.monotonic() + 5  # a slot is given back just after its reply has gone
        while "quaybot_commands_in_flight 0.0" not in (metrics := bot.bot.metrics.render().decode()):
            assert time.monotonic() < deadline, "a command kept its slot"
            time.sleep(0.02)
        assert "quaybot_commands_busy_total 1.0" in metrics and "quaybot_commands_queued 0.0" in metrics
        assert len(world.requests_to("GET", "/team-a/api$")) == 2  # the busy one never reached Quay
    finally:
        driver.close()
        bot.stop()


def test_commands_not_done_when_the_grace_period_ends_are_told_which_way(
    quay, world: FakeQuay, slack, tmp_path, access_file
):
    bot, driver = one_slot_bot(quay, world, slack, tmp_path, access_file, 3.0, QUAYBOT_SHUTDOWN_GRACE_SECONDS=1)
    try:
        sent = [driver.slash("repo info api", user=ALICE, channel="C0READ") for _ in range(3)]
        deadline = time.monotonic() + 5
        while (bot.bot.gate.in_flight, bot.bot.gate.queued) != (1, 2):
            assert time.monotonic() < deadline, "the commands did not line up"
            time.sleep(0.02)
    finally:
        driver.close()
        bot.stop()  # SIGTERM's path: drain for the grace period, then stop
    waiting = [slack.wait_for(s.response_id, timeout=10)[0].text for s in sent[1:]]
    assert all("restarting and did not get to this, so nothing was done" in text for text in waiting)
    assert len(world.requests_to("GET", "/team-a/api$")) == 1  # the waiting two never reached Quay
    # The one running was cut off: its user is told the outcome is unknown, once, and nothing else
    # (the bot has stopped, so every post it made is in).
    [cut_off] = slack.calls_to(sent[0].response_id)
    assert "whether Quay did it is unknown. Check before running it again" in cut_off.text


def test_commands_ack_and_answer_while_slack_api_is_unreachable(quay, world, slack, tmp_path, access_file):
    settings = make_settings(quay.url, slack, tmp_path, access_file, SLACK_API_URL="http://127.0.0.1:9/api/")
    bot = BotThread(settings)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        sent = driver.slash("repo info api", user=ALICE, channel="C0READ")
        assert sent.status == 200 and sent.latency < 1.0  # no auth.test on the way
        assert "The API" in slack.wait_for(sent.response_id)[0].text  # response_url is not the Web API
    finally:
        driver.close()
        bot.stop()


def test_socket_mode_acks_the_envelope_before_the_work(quay, world: FakeQuay, slack, tmp_path, access_file):
    world.inject(Fault(method="GET", path="/team-a/api$", delay=1.5))
    bot, socket = start_in_socket_mode(quay.url, slack, tmp_path, access_file)
    try:
        response_url = slack.new_response_url()
        driver = SlackDriver(bot.url, "unused", slack)
        fields = driver.slash_fields("repo info api", user=ALICE, channel="C0READ", response_url=response_url)
        started = time.monotonic()
        ack = socket.push("slash_commands", fields)
        acked = time.monotonic() - started
        assert "envelope_id" in ack and acked < 1.0
        assert "The API" in slack.wait_for(response_url.rsplit("/", 1)[-1])[0].text
        driver.close()
    finally:
        bot.stop()
        socket.stop()


def test_a_database_holding_a_lock_gives_a_clear_answer_and_no_pile_up(
    quay, world, slack: FakeSlack, tmp_path, access_file, postgres
):
    url = postgres.create_database(f"hang_{uuid.uuid4().hex[:12]}")
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file, QUAYBOT_DATABASE_URL=url))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    holder = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    try:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE confirmations IN ACCESS EXCLUSIVE MODE")  # another session, stuck
        started = time.monotonic()
        sent = [driver.slash("repo delete team-a/api", user=ALICE, channel="C0ADMIN") for _ in range(12)]
        replies = [slack.wait_for(s.response_id, timeout=30)[0].text for s in sent]
        assert all("database is not answering, so nothing was done" in r for r in replies)
        assert time.monotonic() - started < 25  # seconds, not the lock's lifetime
        database_threads = [t for t in threading.enumerate() if t.name.startswith("quaybot-db")]
        assert 0 < len(database_threads) <= POOL_SIZE  # its own threads, bounded, not one per request
        with httpx.Client(trust_env=False) as http:
            assert http.get(f"{bot.url}/healthz").status_code == 200  # SELECT 1 needs no lock
        holder.execute("ROLLBACK")
        ok = driver.slash("repo delete team-a/api", user=ALICE, channel="C0ADMIN")
        assert "Delete" in slack.wait_for(ok.response_id)[0].text  # and everything resumes
    finally:
        holder.close()
        driver.close()
        bot.stop()
