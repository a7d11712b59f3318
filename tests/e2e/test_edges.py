"""The defects found by attacking a running bot from outside (issue 24), each reproduced through
Slack's real path: signed requests in, what the bot did to Quay and said in Slack out."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import ALICE, BOB, SIGNING_SECRET, BotThread
from tests.e2e.test_modals import chosen, delivered, radio, text
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver, signed_headers


def metrics(driver: SlackDriver) -> str:
    return driver.http.get(f"{driver.bot_url}/metrics").text


# 1. The word "payload" -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "command", "said"),
    [
        ("C0READ", "repo info team-a/payload-svc", "Signs"),
        ("C0WRITE", 'repo describe api "Signs the release payload"', "updated the description of `team-a/api`"),
    ],
)
def test_a_command_with_the_word_payload_is_answered(driver: SlackDriver, world: FakeQuay, channel, command, said):
    world.add_repo("team-a/payload-svc", description="Signs the release payload")
    sent = driver.slash(command, user=ALICE, channel=channel)
    assert (sent.status, sent.body) == (200, "")
    assert said in driver.reply(sent).text


def test_a_form_with_a_field_given_twice_is_malformed(driver: SlackDriver):
    fields = driver.slash_fields("repo list", user=ALICE, channel="C0READ", response_url="https://x.example/r")
    raw = urlencode(fields).encode() + b"&text=repo+delete+api"
    assert driver.post(raw).status_code == 400
    assert 'quaybot_slack_requests_refused_total{reason="malformed"} 1.0' in metrics(driver)


def test_interactivity_is_the_payload_alone(driver: SlackDriver):
    payload = json.dumps({"type": "block_actions", "user": {"id": ALICE}, "actions": [{"action_id": "x"}]})
    assert driver.post(urlencode({"payload": payload, "command": "/quay"}).encode()).status_code == 400


# 3. Names with a trailing newline ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["team-a/web\n", "team-a/web\r\n", "team-a\n/web", "web\n"])
def test_a_name_with_a_newline_is_refused_before_quay(driver: SlackDriver, world: FakeQuay, name):
    before = len(world.requests)
    quoted = json.dumps(name)  # "team-a/web\n" with the newline inside the quotes
    for command in (f"repo create {quoted}", f"notify list {quoted}", f"repo info {quoted}"):
        reply = driver.reply(driver.slash(command, user=ALICE, channel="C0WRITE"))
        assert "not a valid" in reply.text, (command, reply.text)
    assert world.requests[before:] == []


# 5. Absurd signature headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "9" * 400},
        {"X-Slack-Request-Timestamp": "9" * 5000},
        {"X-Slack-Request-Timestamp": "١٧٩٠٠٠٠٠٠٠"},  # Arabic-Indic digits: str.isdigit() says yes
        {"X-Slack-Request-Timestamp": "-1790000000"},
        {"X-Slack-Signature": "v0=" + "é" * 64},  # compare_digest raises on non-ASCII text
        {"X-Slack-Signature": "v0=" + "A" * 64},
        {"X-Slack-Signature": "v1=" + "0" * 64},
    ],
)
def test_a_malformed_signature_header_is_a_plain_401(driver: SlackDriver, caplog: pytest.LogCaptureFixture, headers):
    body = driver.slash_body("repo list", user=ALICE, channel="C0READ", response_url="https://x.example/r")
    signed = signed_headers(SIGNING_SECRET, body, int(time.time())) | headers
    encoded = {k: v.encode() for k, v in signed.items()}  # UTF-8 bytes on the wire
    with caplog.at_level(logging.INFO):
        for _ in range(50):
            answer = driver.http.post(f"{driver.bot_url}/slack/events", content=body, headers=encoded)
            assert (answer.status_code, answer.json()) == (401, {"error": "invalid request"})
    assert 'quaybot_slack_requests_refused_total{reason="malformed"} 50.0' in metrics(driver)
    told = [r for r in caplog.records if r.name.startswith(("bot", "aiohttp"))]
    assert not [r for r in told if r.exc_info], "a traceback"
    assert len(told) < 5  # fifty probes are not fifty log lines


# 6. Replays -------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_header", [False, True])
def test_a_replayed_command_runs_once(driver: SlackDriver, world: FakeQuay, slack: FakeSlack, retry_header):
    response_url = slack.new_response_url()
    command = "notify create api repo_push webhook url=https://ci.example.com/hook"
    body = driver.slash_body(command, user=ALICE, channel="C0WRITE", response_url=response_url)
    headers = signed_headers(SIGNING_SECRET, body, int(time.time()))
    for attempt in range(3):
        extra = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if retry_header else {}
        answer = driver.http.post(f"{driver.bot_url}/slack/events", content=body, headers=headers | extra)
        assert (answer.status_code, answer.text) == (200, "")  # acked, as Slack wants
    driver.slack.wait_for(response_url.rsplit("/", 1)[-1])
    time.sleep(0.5)
    assert len(world.requests_to("POST", "/notification/$")) == 1
    assert len([n for n in world.notifications.values() if n.repo_id == world.repos[("team-a", "api")].id]) == 1
    assert 'quaybot_slack_requests_refused_total{reason="replayed"} 2.0' in metrics(driver)


def test_a_replayed_confirmation_click_runs_once(driver: SlackDriver, world: FakeQuay, slack: FakeSlack):
    prompt = driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0ADMIN"))
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    slack.wait_for(click.response_id, count=2)
    deletes = len(world.requests_to("DELETE"))
    assert deletes == 1
    # The same signed click again (captured off the wire): acked, nothing run, nothing said.
    [last] = [sent for sent in driver.sent if b"quaybot_confirm" in sent[0]][-1:]
    again = driver.http.post(f"{driver.bot_url}/slack/events", content=last[0], headers=last[1])
    assert again.status_code == 200
    time.sleep(0.5)
    assert len(world.requests_to("DELETE")) == deletes


# 7. Forms the bot never opened -----------------------------------------------------------------


def forged_view(callback_id: str, channel: str, view_id: str = "V0FORGED") -> dict[str, object]:
    return {
        "id": view_id,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"channel": channel}),
    }


def test_a_forged_form_submission_creates_nothing(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    values = {"namespace": chosen("team-a"), "name": text("forged"), "visibility": radio("public")}
    answer = driver.submit_view(forged_view("quaybot_repo_create", "C0WRITE"), values, user=ALICE)
    assert answer.status_code == 200 and answer.content in (b"", b"{}")
    time.sleep(0.5)
    bot.run(bot.bot.outbox.send_due())
    assert ("team-a", "forged") not in world.repos
    assert world.requests_to("POST") == []


def test_a_form_is_taken_only_from_whom_it_was_opened_for_and_once(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    values = {"namespace": chosen("team-a"), "name": text("by-bob"), "visibility": radio("private")}
    driver.submit_view(view, values, user=BOB)  # someone else's view id
    time.sleep(0.3)
    assert ("team-a", "by-bob") not in world.repos
    values["name"] = text("by-alice")
    assert driver.submit_view(view, values, user=ALICE).status_code == 200
    delivered(bot, slack, "C0WRITE", containing="by-alice")
    values["name"] = text("twice")
    driver.submit_view(view, values, user=ALICE)  # the same view, closed already
    time.sleep(0.3)
    assert ("team-a", "twice") not in world.repos


def test_a_form_acts_where_it_was_opened_whatever_its_metadata_says(
    driver: SlackDriver, world: FakeQuay, slack: FakeSlack, bot: BotThread
):
    driver.slash("repo create", user=ALICE, channel="C0WRITE")
    view = driver.opened_view("quaybot_repo_create")
    moved = {**view, "private_metadata": json.dumps({"channel": "C0ADMIN"})}
    values = {"namespace": chosen("team-a"), "name": text("moved"), "visibility": radio("private")}
    assert driver.submit_view(moved, values, user=ALICE).status_code == 200
    delivered(bot, slack, "C0WRITE", containing="moved")
    assert not [c for c in slack.calls_to("chat.postMessage") if c.body.get("channel") == "C0ADMIN"]


# 9. Texts of hundreds of kilobytes --------------------------------------------------------------


def test_a_huge_command_text_is_a_usage_error_and_the_bot_stays_responsive(driver: SlackDriver, world: FakeQuay):
    before = len(world.requests)
    sent = driver.slash("repo describe api " + '"' + "x" * 900_000 + '"', user=ALICE, channel="C0WRITE")
    assert driver.http.get(f"{driver.bot_url}/healthz").status_code == 200
    reply = driver.reply(sent)
    assert "characters long; a command takes 4000 at most" in reply.text
    assert world.requests[before:] == []
    assert len(json.dumps(reply.body)) < 10_000  # the text is not echoed back


# 4. Where notifications may point ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local address such as a cloud metadata service"),
        ("http://127.1:8080/", "No setting allows it."),
        ("http://[::ffff:127.0.0.1]/", "No setting allows it."),
        ("http://2130706433/", "No setting allows it."),
        ("http://metadata.google.internal/", "No setting allows it."),
        ("http://10.0.0.5/hook", "QUAYBOT_NOTIFY_ALLOWED_NETWORKS"),
    ],
)
def test_notify_create_into_the_network_is_refused_before_quay(driver: SlackDriver, world: FakeQuay, url, said):
    reply = driver.reply(driver.slash(f"notify create api repo_push webhook url={url}", user=ALICE, channel="C0WRITE"))
    assert said in reply.text.replace("\n", " ")
    assert reply.body["response_type"] == "ephemeral"
    assert world.requests_to("POST") == []


def test_notify_test_and_reset_check_the_target_already_in_quay(driver: SlackDriver, world: FakeQuay):
    inside = world.add_notification("team-a/api", config={"url": "http://10.0.0.5/hook"}, failures=1)
    for verb in ("test", "reset"):
        reply = driver.reply(driver.slash(f"notify {verb} api {inside.uuid}", user=ALICE, channel="C0WRITE"))
        assert "private or internal network" in reply.text, (verb, reply.text)
    assert world.queued_tests == [] and world.notifications[inside.uuid].number_of_failures == 1
    assert world.requests_to("POST") == []


def test_an_operator_allows_an_internal_network(quay, world: FakeQuay, slack: FakeSlack, tmp_path, access_file):
    from tests.e2e.conftest import make_settings

    bot = BotThread(
        make_settings(quay.url, slack, tmp_path, access_file, QUAYBOT_NOTIFY_ALLOWED_NETWORKS="10.0.0.0/24")
    )
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        reply = driver.reply(
            driver.slash("notify create api repo_push webhook url=http://10.0.0.5/hook", user=ALICE, channel="C0WRITE")
        )
        assert "added a `repo_push` notification" in reply.text
        reply = driver.reply(
            driver.slash("notify create api repo_push webhook url=http://10.0.1.5/hook", user=ALICE, channel="C0WRITE")
        )
        assert "private or internal network" in reply.text
    finally:
        driver.close()
        bot.stop()


def test_a_slack_target_on_another_host_is_a_usage_error(driver: SlackDriver, world: FakeQuay):
    reply = driver.reply(
        driver.slash(
            "notify create api repo_push slack url=https://hooks.slack.com.evil.example/services/x",
            user=ALICE,
            channel="C0WRITE",
        )
    )
    assert "Slack incoming webhook" in reply.text and world.requests_to("POST") == []
