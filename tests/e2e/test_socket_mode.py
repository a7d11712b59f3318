"""Socket Mode: the bot opens the socket through apps.connections.open, acks envelopes, answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.blocks.ids import REPO_MENU_ACTION
from tests.e2e.conftest import ALICE, start_in_socket_mode
from tests.e2e.test_modals import chosen, radio, text
from tests.fakes.slack_api import APP_TOKEN, FakeSlack
from tests.fakes.slack_driver import SlackDriver


class SocketBot:
    def __init__(self, quay, slack: FakeSlack, tmp_path, access_file) -> None:
        self.slack = slack
        self.bot, self.socket = start_in_socket_mode(quay.url, slack, tmp_path, access_file)
        self.driver = SlackDriver(self.bot.url, "unused", slack)

    def command(self, text: str, channel: str = "C0READ") -> tuple[dict[str, Any], str]:
        """Push `/quay text`; its envelope's ack and its response_url's id."""
        response_url = self.slack.new_response_url()
        fields = self.driver.slash_fields(text, user=ALICE, channel=channel, response_url=response_url)
        return self.socket.push("slash_commands", fields), response_url.rsplit("/", 1)[-1]

    def stop(self) -> None:
        self.driver.close()
        self.bot.stop()
        self.socket.stop()


@pytest.fixture
def socket_bot(quay, world, slack, tmp_path, access_file) -> Iterator[SocketBot]:
    bot = SocketBot(quay, slack, tmp_path, access_file)
    yield bot
    bot.stop()


def test_slash_command_over_socket_mode(socket_bot: SocketBot, slack):
    assert slack.calls_to("apps.connections.open")[0].token == APP_TOKEN
    ack, reply_id = socket_bot.command("repo info api")
    assert "envelope_id" in ack
    reply = slack.wait_for(reply_id)[0]
    assert "The API" in reply.text
    # Health and metrics are served on the HTTP port in Socket Mode too; /slack/events is not.
    with httpx.Client(trust_env=False) as http:
        assert http.get(f"{socket_bot.bot.url}/healthz").status_code == 200
        assert http.post(f"{socket_bot.bot.url}/slack/events", content=b"x").status_code == 404


# Payloads the HTTP path refuses with 400 or 404 before Bolt runs (each once crashed a listener there).
UNREADABLE: list[tuple[str, dict[str, Any]]] = [
    ("events_api", {"type": "event_callback", "team_id": "T0TEAM", "event": {"type": [], "user": ALICE}}),
    ("events_api", {"type": "event_callback", "team_id": "T0TEAM", "event": "app_home_opened"}),
    ("interactive", {"type": "block_actions", "user": {"id": ALICE}, "actions": []}),
    ("interactive", {"type": "block_actions", "user": {"id": ALICE}, "actions": [{"action_id": REPO_MENU_ACTION}]}),
    ("interactive", {"type": "view_submission", "user": {"id": ALICE}, "view": {"id": "V0", "callback_id": "x"}}),
    ("interactive", {"type": "shortcut", "user": {"id": ALICE}, "callback_id": "x"}),
    ("slash_commands", {"command": ["/quay"], "text": {}}),
]


def test_payloads_it_cannot_read_are_acked_and_dropped_without_a_traceback(socket_bot: SocketBot, slack):
    """Slack resends an envelope that is not acked; one the bot cannot read is acked, dropped with a
    warning, and the bot goes on answering."""
    crashed: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = crashed.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        for kind, payload in UNREADABLE:
            ack = socket_bot.socket.push(kind, payload)
            assert ack.get("envelope_id"), (kind, payload)
        deadline = time.monotonic() + 10
        while socket_bot.bot.bot.background.tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        ack, reply_id = socket_bot.command("repo info api")
        assert "The API" in slack.wait_for(reply_id)[0].text
    finally:
        logging.getLogger().removeHandler(handler)
    assert not [f"{r.getMessage()}: {r.exc_info}" for r in crashed]
    metrics = socket_bot.bot.bot.metrics.render().decode()
    assert 'quaybot_slack_requests_refused_total{reason="malformed"} 5.0' in metrics
    assert 'quaybot_slack_requests_refused_total{reason="unsupported"} 1.0' in metrics
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("views.publish")


def test_a_form_submitted_over_socket_mode_is_answered_in_its_ack(socket_bot: SocketBot, world, slack):
    """A submission's ack carries the form's field errors, so it waits for Bolt, as over HTTP."""
    socket_bot.command("repo create", channel="C0WRITE")
    view = socket_bot.driver.opened_view("quaybot_repo_create")
    values = {"namespace": chosen("team-a"), "name": text("Bad Name!"), "visibility": radio("private")}
    ack = socket_bot.socket.push("interactive", socket_bot.driver.view_submission(view, values, user=ALICE))
    assert ack["payload"]["response_action"] == "errors" and set(ack["payload"]["errors"]) == {"name"}
    values["name"] = text("from-socket")
    ack = socket_bot.socket.push("interactive", socket_bot.driver.view_submission(view, values, user=ALICE))
    assert not ack.get("payload")  # the modal closes
    deadline = time.monotonic() + 10
    while ("team-a", "from-socket") not in world.repos and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ("team-a", "from-socket") in world.repos


def test_the_connection_state_is_on_metrics(socket_bot: SocketBot):
    """`/healthz` cannot say Slack is unreachable (a restart would not help); the metric can, for an
    alert: 1 while connected, 0 once the connection is gone and cannot be made again."""

    def connected() -> str:
        metrics = httpx.get(f"{socket_bot.bot.url}/metrics", trust_env=False).text
        [line] = [m for m in metrics.splitlines() if m.startswith("quaybot_socket_mode_connected ")]
        return line.split()[1]

    deadline = time.monotonic() + 10
    while connected() != "1.0" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert connected() == "1.0"
    socket_bot.socket.stop()  # Slack's side goes away; reconnecting to it fails
    deadline = time.monotonic() + 10
    while connected() != "0.0" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert connected() == "0.0"
