"""Faults: Quay slow, down, overloaded; Slack failing; the database gone; the bot killed mid-action.
Every case: a clear answer inside Slack's limits, nothing done twice, nothing silently lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from tests.conftest import T
from tests.e2e.conftest import ALICE, SIGNING_SECRET, BotThread, make_settings
from tests.e2e.test_serve_process import Process, base_env
from tests.fakes.quay import FakeQuay, Fault
from tests.fakes.slack_api import FakeSlack, SlackFault
from tests.fakes.slack_driver import SlackDriver


def test_create_slower_than_the_timeout_is_checked_before_reporting(
    quay, world: FakeQuay, slack, tmp_path, access_file
):
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file, QUAY_TIMEOUT_SECONDS=0.5))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        world.inject(Fault(method="POST", path="/api/v1/repository$", delay=1.0))  # Quay finishes after we gave up
        reply = driver.reply(driver.slash("repo create slow", user=ALICE, channel="C0WRITE"), timeout=20)
        assert "created" in reply.text and reply.body["response_type"] == "in_channel"
        assert len(world.requests_to("POST", "/api/v1/repository$")) == 1  # the write was not repeated
        assert ("team-a", "slow") in world.repos
    finally:
        driver.close()
        bot.stop()


def test_create_whose_connection_dropped_says_what_is_known(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(method="POST", path="/api/v1/repository$", drop=True))
    reply = driver.reply(driver.slash("repo create lost", user=ALICE, channel="C0WRITE"), timeout=20)
    assert "does not exist yet" in reply.text and "Running the command again is safe" in reply.text
    assert len(world.requests_to("POST", "/api/v1/repository$")) == 1 and ("team-a", "lost") not in world.repos


def test_writes_are_not_repeated_on_503(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(method="PUT", status=503))
    reply = driver.reply(driver.slash('repo describe api "x"', user=ALICE, channel="C0WRITE"))
    assert "Quay is unavailable" in reply.text and "Nothing was changed" in reply.text
    assert len(world.requests_to("PUT")) == 1 and world.repos[("team-a", "api")].description == "The API"


def test_reads_retry_transient_errors(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(method="GET", path="/team-a/api$", status=502))
    world.inject(Fault(method="GET", path="/team-a/api$", status=429))
    world.inject(Fault(method="GET", path="/team-a/api$", drop=True))
    reply = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"), timeout=20)
    assert "The API" in reply.text and len(world.requests_to("GET", "/team-a/api$")) == 4


def test_rate_limit_longer_than_the_budget_is_explained(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(method="GET", path="/team-a/api$", status=429, headers={"Retry-After": "120"}))
    reply = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"))
    assert "rate-limiting" in reply.text and "Retry after 120 s" in reply.text


def test_quay_unreachable(quay, world, slack, tmp_path, access_file):
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        quay.stop()
        reply = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"), timeout=40)
        assert "Could not connect to Quay" in reply.text and "Traceback" not in reply.text
        assert driver.http.get(f"{bot.url}/healthz").status_code == 200  # the bot stays up
    finally:
        driver.close()
        bot.stop()


def test_response_url_failures_are_retried(driver: SlackDriver, slack: FakeSlack):
    slack.fail_next("response", SlackFault(status=500), times=2)
    sent = driver.slash("repo info api", user=ALICE, channel="C0READ")
    calls = slack.wait_for(sent.response_id, count=3, timeout=20)
    assert "The API" in calls[-1].text


def test_a_reply_response_url_cannot_take_is_kept_and_delivered(driver: SlackDriver, slack: FakeSlack, bot: BotThread):
    slack.fail_next("response", SlackFault(status=404, body={"ok": False, "error": "expired_url"}))
    driver.slash("repo info api", user=ALICE, channel="C0READ")
    deadline = time.monotonic() + 20
    while not slack.calls_to("chat.postEphemeral"):
        assert time.monotonic() < deadline, "the reply was lost"
        bot.run(bot.bot.outbox.send_due())
        time.sleep(0.05)
    [kept] = slack.calls_to("chat.postEphemeral")
    assert kept.body["user"] == ALICE and kept.body["channel"] == "C0READ" and "The API" in kept.text


def test_database_gone_then_back(quay, world: FakeQuay, slack, tmp_path, access_file, postgres):
    url = postgres.create_database(f"quaybot_{uuid.uuid4().hex[:12]}")
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file, QUAYBOT_DATABASE_URL=url))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        postgres.pause()
        try:
            assert driver.http.get(f"{bot.url}/healthz").status_code == 503
            reply = driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0ADMIN"), timeout=30)
            assert "database is not answering, so nothing was done" in reply.text
            assert world.requests_to("DELETE") == []
            read = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"), timeout=30)
            assert "The API" in read.text  # reads need no database
        finally:
            postgres.resume()
        deadline = time.monotonic() + 30
        while driver.http.get(f"{bot.url}/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        prompt = driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0ADMIN"), timeout=30)
        click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
        slack.wait_for(click.response_id, count=2, timeout=30)
        assert ("team-a", "api") not in world.repos
    finally:
        driver.close()
        bot.stop()


def test_killed_between_claim_and_quay_call_is_never_run_twice(quay, world: FakeQuay, slack, tmp_path, access_file):
    env = base_env(quay, slack, tmp_path, access_file)
    first = Process(env, tmp_path)
    driver = SlackDriver(f"http://127.0.0.1:{first.wait_for_port()}", SIGNING_SECRET, slack)
    try:
        prompt = driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0ADMIN"))
        world.inject(Fault(method="GET", path="/team-a/api$", delay=10))  # the delete's own look first
        reads = len(world.requests_to("GET", "/team-a/api$"))
        driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
        deadline = time.monotonic() + 20
        while len(world.requests_to("GET", "/team-a/api$")) == reads:  # claimed, and talking to Quay
            assert time.monotonic() < deadline
            time.sleep(0.02)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        second = Process(env, tmp_path)
        try:
            driver.bot_url = f"http://127.0.0.1:{second.wait_for_port()}"
            again = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
            assert "being carried out" in slack.wait_for(again.response_id)[0].text
            # Later the row is reaped: it says what is known, and still nothing runs twice.
            reaped = subprocess.run(
                [sys.executable, "-c", REAP, env["QUAYBOT_DATABASE_URL"]],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "PYTHONPATH": os.getcwd()},
            )
            assert reaped.stdout.strip() == "1", reaped.stderr
            last = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
            assert "whether Quay did it is unknown" in slack.wait_for(last.response_id)[0].text
            assert world.requests_to("DELETE") == [] and ("team-a", "api") in world.repos
        finally:
            second.stop()
    finally:
        driver.close()
        if first.proc.poll() is None:
            first.proc.kill()


REAP = """
import asyncio, sys, time
from bot.store import ConfirmationStore, Database
store = ConfirmationStore(Database(sys.argv[1]), 600)
print(asyncio.run(store.reap_interrupted(time.time() + 1)))
"""


def test_audit_and_state_survive(driver: SlackDriver, bot: BotThread):
    """A refused change is audited too (nothing is lost from the record)."""
    driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0READ"))
    rows = bot.bot.interactions.audit.since(0)
    assert [r.outcome for r in rows] == ["refused"] and json.dumps(rows[0].as_dict())
    assert T not in json.dumps([r.as_dict() for r in rows])
