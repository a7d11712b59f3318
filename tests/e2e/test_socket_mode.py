"""Socket Mode: the bot opens the socket through apps.connections.open, acks envelopes, answers."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
from pydantic import SecretStr

from tests.e2e.conftest import ALICE, BotThread, make_settings
from tests.fakes.slack_api import APP_TOKEN
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_socket import FakeSocketMode


def test_slash_command_over_socket_mode(quay, world, slack, tmp_path, access_file):
    socket = FakeSocketMode().start()
    slack.socket_url = socket.url
    settings = make_settings(
        quay.url,
        slack,
        tmp_path,
        access_file,
        QUAYBOT_MODE="socket",
        SLACK_APP_TOKEN=SecretStr(APP_TOKEN),
        SLACK_SIGNING_SECRET=None,
    )
    bot = BotThread(settings)
    try:
        socket.wait_connected()
        assert slack.calls_to("apps.connections.open")[0].token == APP_TOKEN
        response_url = slack.new_response_url()
        driver = SlackDriver(bot.url, "unused", slack)
        payload = dict(
            parse_qsl(
                driver.slash_body("repo info api", user=ALICE, channel="C0READ", response_url=response_url).decode()
            )
        )
        ack = socket.push("slash_commands", payload)
        assert "envelope_id" in ack
        reply = slack.wait_for(response_url.rsplit("/", 1)[-1])[0]
        assert "The API" in reply.text
        # Health and metrics are served on the HTTP port in Socket Mode too; /slack/events is not.
        with httpx.Client(trust_env=False) as http:
            assert http.get(f"{bot.url}/healthz").status_code == 200
            assert http.post(f"{bot.url}/slack/events", content=b"x").status_code == 404
        driver.close()
    finally:
        bot.stop()
        socket.stop()
