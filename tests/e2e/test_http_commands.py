"""Every /quay command through Slack's path: signed HTTP request in, ack, reply on response_url."""

from __future__ import annotations

import json
import logging
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.e2e.conftest import ALICE, SIGNING_SECRET
from tests.fakes.quay import FakeQuay, Fault
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver, signed_headers


def test_independent_signature_matches_slack_sdk():
    body = b"token=x&text=repo+list"
    headers = signed_headers(SIGNING_SECRET, body, 1_790_000_000)
    verifier = SignatureVerifier(SIGNING_SECRET, clock=type("C", (), {"now": lambda self: 1_790_000_000})())
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


@pytest.mark.parametrize(
    ("channel", "text", "expected", "in_channel"),
    [
        ("C0READ", "help", "This channel acts on `team-a` with the *read* role", False),
        ("C0READ", "repo list", "*Repositories in `team-a`*, page 1 (1–2)", False),
        ("C0READ", "repo info api", "The API", False),
        ("C0READ", "notify list api", "has no notifications", False),
        ("C0WRITE", 'repo create svc --description "new one"', "created <http", True),
        ("C0WRITE", 'repo describe api "better"', "updated the description of `team-a/api`", True),
        ("C0ADMIN", "repo visibility web private", "made `team-a/web` private", True),
        (
            "C0WRITE",
            "notify create api repo_push webhook url=https://ci.example.com/hook/secret",
            "added a `repo_push` notification",
            True,
        ),
        ("C0READ", "repo delete api", "needs the admin role; this channel has read", False),
        ("C0READ", "repo frob", "unknown subcommand", False),
        # Where nothing may run, the refusal comes first, not a usage hint that would only lead to it.
        ("C0NOWHERE", "repo list", "This channel (C0NOWHERE) is not mapped to any Quay namespace.", False),
        ("C0NOWHERE", "repo info api", "This channel (C0NOWHERE) is not mapped", False),
        ("C0NOWHERE", "repo frob", "This channel (C0NOWHERE) is not mapped", False),
    ],
)
def test_commands(driver: SlackDriver, channel, text, expected, in_channel):
    sent = driver.slash(text, user=ALICE, channel=channel)
    assert (sent.status, sent.body) == (200, "")
    reply = driver.reply(sent)
    assert expected in reply.text
    assert reply.body["response_type"] == ("in_channel" if in_channel else "ephemeral")
    assert "hook/secret" not in reply.text  # webhook paths are masked


def test_refusals_name_the_access_file_but_not_where_it_lives_on_the_server(driver: SlackDriver, access_file):
    replies = [
        driver.reply(driver.slash(text, user=user, channel=channel)).text
        for text, user, channel in [
            ("repo list team-a", ALICE, "C0NOWHERE"),  # not mapped
            ("repo delete api", ALICE, "C0READ"),  # the role
            ("repo list other-team", ALICE, "C0READ"),  # the namespace
        ]
    ]
    for reply in replies:
        assert "in the access file (`access.yml`)" in reply.replace("\n", " ")
        assert str(access_file.parent) not in reply


def test_notification_commands_end_to_end(driver: SlackDriver, world: FakeQuay):
    item = world.add_notification("team-a/api", failures=3)
    reply = driver.reply(driver.slash(f"notify get api {item.uuid}", user=ALICE, channel="C0READ"))
    assert "disabled by Quay after 3 failures" in reply.text and "secret-path" not in reply.text
    reply = driver.reply(driver.slash(f"notify test api {item.uuid}", user=ALICE, channel="C0WRITE"))
    assert "Not sent" in reply.text and world.queued_tests == []
    click = driver.click(reply, "quaybot_notify_reset", user=ALICE, channel="C0WRITE")
    assert click.status == 200
    done = driver.slack.wait_for(click.response_id)[0]
    assert "reset the failures" in done.text and world.notifications[item.uuid].number_of_failures == 0
    reply = driver.reply(driver.slash(f"notify test api {item.uuid}", user=ALICE, channel="C0WRITE"))
    assert "Test queued" in reply.text and world.queued_tests == [item.uuid]
    reply = driver.reply(driver.slash(f"notify reset api {item.uuid}", user=ALICE, channel="C0WRITE"))
    assert reply.body["response_type"] == "in_channel"


def test_reset_button_rechecks_access_of_the_clicker(driver: SlackDriver, world: FakeQuay):
    item = world.add_notification("team-a/api", failures=3)
    reply = driver.reply(driver.slash(f"notify test api {item.uuid}", user=ALICE, channel="C0WRITE"))
    click = driver.click(reply, "quaybot_notify_reset", user=ALICE, channel="C0READ")
    answer = driver.slack.wait_for(click.response_id)[0]
    assert "needs the write role" in answer.text and world.notifications[item.uuid].number_of_failures == 3


@pytest.mark.parametrize("kind", ["forged", "stale", "tampered"])
def test_bad_signatures_get_401_and_no_quay_call(driver: SlackDriver, world: FakeQuay, slack: FakeSlack, kind):
    before = len(world.requests)
    response_url = slack.new_response_url()
    body = driver.slash_body("repo info api", user=ALICE, channel="C0READ", response_url=response_url)
    if kind == "forged":
        response = driver.post(body, secret="not-the-secret")
    elif kind == "stale":
        response = driver.post(body, ts=int(time.time()) - 301)
    else:
        response = driver.post(body, tamper=body.replace(b"repo+info", b"repo+delete"))
    assert response.status_code == 401
    slack.assert_no_call(response_url.rsplit("/", 1)[-1], within=0.5)
    assert len(world.requests) == before


def test_slacks_own_checks_of_the_request_url_are_answered(driver: SlackDriver, world: FakeQuay):
    # Saving the Request URL (Event Subscriptions) sends url_verification; Slack probes the
    # certificate with ssl_check. Both must pass, or the app cannot be set up in HTTP mode.
    challenge = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    answer = driver.post(challenge.encode(), content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    before = len(world.requests)
    assert driver.post(b"ssl_check=1&token=legacy").status_code == 200
    assert len(world.requests) == before


def test_ack_comes_before_a_slow_quay_answer(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(method="GET", path="/team-a/api$", delay=2.0))
    sent = driver.slash("repo info api", user=ALICE, channel="C0READ")
    assert sent.status == 200
    # The ack came back while Quay was still thinking: no reply yet, and the reply is not lost.
    assert driver.slack.calls_to(sent.response_id) == []
    assert "The API" in driver.reply(sent, timeout=15).text


def test_quay_down_gives_a_clear_ephemeral_error(driver: SlackDriver, world: FakeQuay):
    world.inject(Fault(status=503, times=50))
    reply = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"), timeout=30)
    assert "Quay is unavailable" in reply.text and reply.body["response_type"] == "ephemeral"


def test_healthz_and_metrics(bot, driver: SlackDriver):
    driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"))
    driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0READ"))
    health = driver.http.get(f"{bot.url}/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    metrics = driver.http.get(f"{bot.url}/metrics").text
    assert 'quaybot_commands_total{command="repo info",outcome="succeeded"} 1.0' in metrics
    assert 'quaybot_denials_total{command="repo delete"} 1.0' in metrics
    assert 'quaybot_quay_requests_total{endpoint="GET /api/v1/repository/{repo}",status="200"}' in metrics
    assert "quaybot_quay_request_seconds_bucket" in metrics and "team-a/api" not in metrics


def test_healthz_is_503_when_the_database_is_gone(bot, driver: SlackDriver):
    def broken() -> None:
        raise RuntimeError("database unavailable")

    bot.bot.db.ping = broken  # type: ignore[method-assign]
    health = driver.http.get(f"{bot.url}/healthz")
    assert health.status_code == 503 and json.loads(health.text)["status"] == "unavailable"


def test_requests_refused_before_bolt_are_counted_and_a_wrong_secret_is_said(
    bot, driver: SlackDriver, caplog: pytest.LogCaptureFixture
):
    """Every command fails when SLACK_SIGNING_SECRET is not the app's (a rotated secret) or the clock
    is off by minutes; the operator must read why in the log, once a minute, not per request."""
    body = driver.slash_body("repo list", user=ALICE, channel="C0READ", response_url="http://127.0.0.1:9/r/1")
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            assert driver.post(body, secret="the-previous-signing-secret").status_code == 401
        assert driver.post(body, ts=int(time.time()) - 600).status_code == 401
        assert driver.http.post(f"{bot.url}/slack/events", content=body).status_code == 401
        assert driver.post(b"payload=%7B%22type%22%3A%22shortcut%22%7D").status_code == 404
    told = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    [wrong] = [m for m in told if "SLACK_SIGNING_SECRET" in m]
    assert "Signing Secret" in wrong
    [late] = [m for m in told if "clock" in m]
    assert "5 minutes" in late
    [unsigned] = [m for m in told if "without Slack's signature" in m]
    assert "/slack/events" in unsigned
    assert "the-previous-signing-secret" not in "\n".join(told)
    metrics = driver.http.get(f"{bot.url}/metrics").text
    assert 'quaybot_slack_requests_refused_total{reason="signature_mismatch"} 5.0' in metrics
    assert 'quaybot_slack_requests_refused_total{reason="signature_stale"} 1.0' in metrics
    assert 'quaybot_slack_requests_refused_total{reason="unsigned"} 1.0' in metrics
    assert 'quaybot_slack_requests_refused_total{reason="unsupported"} 1.0' in metrics
