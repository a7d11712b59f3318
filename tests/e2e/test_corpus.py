"""Request bodies of the shapes real Slack sends (`tests/data/slack/corpus/`), replayed signed against
the running bot over HTTP and as Socket Mode envelopes. Each gets the answer Slack expects, the
effect a user would see (a reply, a published home tab) or none at all, and never a traceback."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import SIGNING_SECRET, start_in_socket_mode
from tests.e2e.test_hostile import Tracebacks
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "data" / "slack" / "corpus" / "cases.json").read_text()
)
JSON = "application/json"


@pytest.fixture
def tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def corpus_world(world: FakeQuay) -> FakeQuay:
    world.add_repo("team-a/payload-svc", description="Signs the release payload")
    return world


def filled(value: Any, response_url: str, trigger: str) -> Any:
    """The case's body with a fresh response_url and trigger_id (as Slack gives each request)."""
    text = json.dumps(value).replace("{response_url}", response_url).replace("{trigger_id}", trigger)
    return json.loads(text)


def http_body(case: dict[str, Any], body: Any) -> tuple[bytes, str]:
    kind = case["kind"]
    if kind == "raw_form":
        return str(body).encode(), "application/x-www-form-urlencoded"
    if kind == "form":
        return urlencode(body).encode(), "application/x-www-form-urlencoded"
    if kind == "interactive":
        return urlencode({"payload": json.dumps(body)}).encode(), "application/x-www-form-urlencoded"
    return json.dumps(body).encode(), JSON


def writes(world: FakeQuay) -> list[Any]:
    return [r for r in world.requests if r.method != "GET"]


def expect_effects(case: dict[str, Any], slack: FakeSlack, response_url: str, published_before: int) -> None:
    response_id = response_url.rsplit("/", 1)[-1]
    if case["reply"] is not None:
        reply = slack.wait_for(response_id, timeout=10)[0]
        assert case["reply"] in reply.text, (case["name"], reply.text)
    want_home = case.get("publishes_home_for")
    if want_home is not None:
        deadline = time.monotonic() + 10
        while not [c for c in slack.calls_to("views.publish")[published_before:] if c.body.get("user_id") == want_home]:
            assert time.monotonic() < deadline, f"{case['name']}: no home tab published"
            time.sleep(0.02)
    if case["reply"] is None:
        slack.assert_no_call(response_id, within=0.3)
    if want_home is None:
        assert slack.calls_to("views.publish")[published_before:] == [], case["name"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_captured_shape_gets_the_right_answer_over_http(
    case, driver: SlackDriver, slack: FakeSlack, corpus_world: FakeQuay, tracebacks: Tracebacks
):
    response_url = slack.new_response_url()
    body = filled(case["body"], response_url, slack.new_trigger())
    raw, content_type = http_body(case, body)
    published = len(slack.calls_to("views.publish"))
    answer = driver.post(raw, content_type=content_type)
    assert answer.status_code == case["http_status"], (case["name"], answer.status_code, answer.text)
    if "http_body" in case:
        assert answer.text == case["http_body"]
    if "http_json" in case:
        assert answer.json() == case["http_json"]
    expect_effects(case, slack, response_url, published)
    assert writes(corpus_world) == []
    assert tracebacks.records == []


SOCKET_CASES = [c for c in CASES if c["envelope"] is not None]


@pytest.fixture
def socket_world(quay: FakeQuayServer, corpus_world: FakeQuay, slack: FakeSlack, tmp_path: Path, access_file: Path):
    bot, socket = start_in_socket_mode(quay.url, slack, tmp_path, access_file)
    yield socket
    bot.stop()
    socket.stop()


@pytest.mark.parametrize("case", SOCKET_CASES, ids=[c["name"] for c in SOCKET_CASES])
def test_each_captured_shape_gets_the_right_answer_in_socket_mode(
    case, socket_world, slack: FakeSlack, corpus_world: FakeQuay, tracebacks: Tracebacks
):
    response_url = slack.new_response_url()
    body = filled(case["body"], response_url, slack.new_trigger())
    published = len(slack.calls_to("views.publish"))
    ack = socket_world.push(case["envelope"], body)
    assert "envelope_id" in ack  # every envelope is acked, or Slack sends it again
    expect_effects(case, slack, response_url, published)
    assert writes(corpus_world) == []
    assert tracebacks.records == []


def test_an_event_slack_retries_is_handled_once(driver: SlackDriver, slack: FakeSlack, world: FakeQuay):
    """Slack retries an event it thinks was lost with a new signature, the same event_id and
    X-Slack-Retry-Num: the home tab is drawn once."""
    [case] = [c for c in CASES if c["name"] == "app_home_opened, home tab"]
    body = filled(case["body"], "", "retried")
    raw = json.dumps(body).encode()
    assert driver.post(raw, content_type=JSON).status_code == 200
    deadline = time.monotonic() + 10
    while not slack.calls_to("views.publish"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    retry = driver.http.post(
        f"{driver.bot_url}/slack/events",
        content=raw,
        headers={
            **_signed(raw, int(time.time()) + 1),
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        },
    )
    assert retry.status_code == 200
    time.sleep(0.5)
    assert len(slack.calls_to("views.publish")) == 1


def _signed(raw: bytes, ts: int) -> dict[str, str]:
    from tests.fakes.slack_driver import signed_headers

    return signed_headers(SIGNING_SECRET, raw, ts, JSON)


def test_socket_mode_redelivery_of_an_envelope_runs_once(socket_world, slack: FakeSlack, corpus_world: FakeQuay):
    """Slack redelivers an envelope it thinks was not acked (retry_attempt 1): the command runs once."""
    [case] = [c for c in CASES if c["name"] == "slash command from an Enterprise Grid workspace"]
    response_url = slack.new_response_url()
    body = filled(case["body"], response_url, slack.new_trigger())
    socket_world.push("slash_commands", body)
    socket_world.push("slash_commands", body)
    response_id = response_url.rsplit("/", 1)[-1]
    slack.wait_for(response_id)
    slack.assert_no_call(response_id, within=1.0, predicate=lambda call: call is not slack.wait_for(response_id)[0])


def test_the_corpus_covers_what_the_issue_names():
    names = " ".join(c["name"] for c in CASES)
    for shape in ("Enterprise Grid", "org-wide", "direct message", "ssl_check", "url_verification", "app_home_opened"):
        assert shape in names
    kinds = {c["body"].get("type") for c in CASES if isinstance(c["body"], dict)}
    assert {"view_submission", "view_closed", "shortcut", "message_action", "block_actions"} <= kinds
    assert all(c["modelled_on"] for c in CASES)
