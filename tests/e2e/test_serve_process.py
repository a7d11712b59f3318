"""`quaybot serve` as a real process: settings from the environment, the bound port logged on one
line, commands answered, no secret in its logs, a clean stop on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import T
from tests.e2e.conftest import ALICE, SIGNING_SECRET
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_socket import FakeSocketMode


def base_env(quay, slack, tmp_path, access_file) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "QUAY_URL": quay.url,
        "QUAY_TOKEN": T,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "QUAYBOT_ACCESS_FILE": str(access_file),
        "QUAYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "QUAYBOT_MODE": "http",
        "QUAYBOT_HTTP_HOST": "127.0.0.1",
        "QUAYBOT_HTTP_PORT": "0",
    }


class Process:
    def __init__(self, env: dict[str, str], cwd) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=cwd,
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_port(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if "quaybot listening on" in line:
                    return int(json.loads(line)["port"])
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("no listening line; stderr: " + "\n".join(self.lines))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


def test_serve_answers_and_stops_cleanly(quay, world, slack, tmp_path, access_file):
    process = Process(base_env(quay, slack, tmp_path, access_file), tmp_path)
    try:
        port = process.wait_for_port()
        driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
        reply = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ"))
        assert "The API" in reply.text
        driver.close()
    finally:
        code = process.stop()
    assert code == 0
    logs = "\n".join(process.lines)
    for secret in (T, BOT_TOKEN, SIGNING_SECRET):
        assert secret not in logs
    listening = [json.loads(line) for line in process.lines if "listening" in line]
    assert listening[0]["level"] == "info" and listening[0]["mode"] == "http"
    # A clean start and stop has nothing to warn about (Bolt's notes on the token it reads from the
    # environment itself, which the bot's own client and `authorize` replace, were two every start).
    warnings = [json.loads(line)["message"] for line in process.lines if '"level": "warning"' in line]
    assert warnings == []
    loggers = [json.loads(line).get("logger", "") for line in process.lines if line.startswith("{")]
    assert "bot.store.migrate" in loggers and not any(name.startswith("alembic") for name in loggers)


def test_a_taken_port_is_one_clear_line(quay, slack, tmp_path, access_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = base_env(quay, slack, tmp_path, access_file) | {"QUAYBOT_HTTP_PORT": str(taken.getsockname()[1])}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "quaybot: cannot listen on 127.0.0.1:" in result.stderr and "address already in use" in result.stderr


@pytest.mark.parametrize(
    ("drop", "mode", "message"),
    [
        (("SLACK_SIGNING_SECRET",), "http", "QUAYBOT_MODE=http needs SLACK_SIGNING_SECRET (not set)"),
        (("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "http", "needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
        ((), "socket", "QUAYBOT_MODE=socket needs SLACK_APP_TOKEN (not set)"),
    ],
)
def test_missing_slack_settings_are_one_clear_line(quay, slack, tmp_path, access_file, drop, mode, message):
    env = base_env(quay, slack, tmp_path, access_file)
    env["QUAYBOT_MODE"] = mode
    for key in drop:
        env.pop(key)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_slack_settings_and_the_access_file_are_said_in_one_start(quay, slack, tmp_path, access_file):
    env = base_env(quay, slack, tmp_path, access_file)
    env.pop("SLACK_SIGNING_SECRET")
    access_file.write_text(access_file.read_text().replace("role: read", "role: reader", 1))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "needs SLACK_SIGNING_SECRET (not set)" in result.stderr
    assert "the access file has problems" in result.stderr and "role must be read, write or admin" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


def test_a_database_it_cannot_use_is_one_clear_line(quay, slack, tmp_path, access_file):
    refused = f"postgresql+psycopg://quaybot:hunter2@127.0.0.1:{free_port()}/quaybot"
    future = tmp_path / "future.db"
    engine = create_engine(f"sqlite:///{future}")
    with engine.begin() as connection:  # what a newer quaybot's migration left behind
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
    engine.dispose()
    expected = {
        refused: "is not usable: OperationalError: connection failed",
        f"sqlite:///{future}": "a newer quaybot",
        f"sqlite:///{tmp_path / 'no-such-directory' / 'quaybot.db'}": "unable to open database file",
    }
    for url, message in expected.items():
        env = base_env(quay, slack, tmp_path, access_file) | {
            "QUAYBOT_DATABASE_URL": url,
            "QUAYBOT_DATABASE_WAIT_SECONDS": "2",
        }
        result = subprocess.run(
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        [line] = [x for x in result.stderr.splitlines() if x.startswith("quaybot: ")]
        assert message in line and "hunter2" not in result.stderr
        waited = [json.loads(x) for x in result.stderr.splitlines() if "does not answer yet" in x]
        # The unreachable server is tried again within the wait, each try said; a database it
        # reaches but cannot upgrade, or a SQLite file it cannot open, is not waited for.
        assert (len(waited) >= 1) == (url == refused), result.stderr
        assert all(w["level"] == "warning" and "Connection refused" in w["error"] for w in waited)


def test_a_database_that_answers_later_is_waited_for(quay, world, slack, tmp_path, access_file, postgres):
    """A pod started beside its PostgreSQL: the bot waits for the database, then serves."""
    url = postgres.create_database(f"quaybot_{uuid.uuid4().hex[:12]}")
    postgres.pause()
    try:
        process = Process(base_env(quay, slack, tmp_path, access_file) | {"QUAYBOT_DATABASE_URL": url}, tmp_path)
        deadline = time.monotonic() + 20
        while not any("does not answer yet" in line for line in process.lines) and time.monotonic() < deadline:
            assert process.proc.poll() is None, "\n".join(process.lines)
            time.sleep(0.1)
    finally:
        postgres.resume()
    try:
        port = process.wait_for_port(timeout=60)
        driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
        assert "The API" in driver.reply(driver.slash("repo info api", user=ALICE, channel="C0READ")).text
        driver.close()
    finally:
        code = process.stop()
    assert code == 0
    assert not any("Traceback" in line for line in process.lines), "\n".join(process.lines)


def test_sigterm_while_waiting_for_the_database_stops_at_once(quay, slack, tmp_path, access_file):
    url = f"postgresql+psycopg://quaybot@127.0.0.1:{free_port()}/quaybot"
    process = Process(base_env(quay, slack, tmp_path, access_file) | {"QUAYBOT_DATABASE_URL": url}, tmp_path)
    deadline = time.monotonic() + 20
    while not any("does not answer yet" in line for line in process.lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("does not answer yet" in line for line in process.lines), "\n".join(process.lines)
    started = time.monotonic()
    assert process.stop() == 0
    assert time.monotonic() - started < 5  # not the rest of the 60 s wait
    assert not any("listening" in line or "Traceback" in line for line in process.lines)


def test_sigterm_lets_a_running_command_finish_and_drains(quay, world, slack, tmp_path, access_file):
    from tests.fakes.quay import Fault

    world.inject(Fault(method="GET", path="/team-a/api$", delay=1.5))
    process = Process(base_env(quay, slack, tmp_path, access_file), tmp_path)
    try:
        port = process.wait_for_port()
        driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
        sent = driver.slash("repo info api", user=ALICE, channel="C0READ")
        time.sleep(0.3)  # the command is waiting on Quay
        process.proc.send_signal(signal.SIGTERM)
        import httpx

        with httpx.Client(trust_env=False) as http:
            assert http.get(f"http://127.0.0.1:{port}/healthz").status_code == 503  # draining
        assert "The API" in slack.wait_for(sent.response_id, timeout=10)[0].text  # it still finished
        driver.close()
        assert process.proc.wait(timeout=20) == 0
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
    assert any("quaybot stopped" in line for line in process.lines)


def socket_env(quay, slack, tmp_path, access_file, api_url: str, app_token: str) -> dict[str, str]:
    env = base_env(quay, slack, tmp_path, access_file)
    env.update(QUAYBOT_MODE="socket", SLACK_APP_TOKEN=app_token, SLACK_API_URL=api_url)
    env.pop("SLACK_SIGNING_SECRET")
    return env


def test_socket_mode_with_slack_unreachable_stops_on_sigterm(quay, slack, tmp_path, access_file):
    env = socket_env(quay, slack, tmp_path, access_file, "http://127.0.0.1:9/api/", APP_TOKEN)
    process = Process(env, tmp_path)
    try:
        process.wait_for_port()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum("cannot connect to Slack" in line for line in process.lines) < 2:
            time.sleep(0.1)
        started = time.monotonic()
        code = process.stop()
        assert code == 0 and time.monotonic() - started < 10
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
    attempts = [json.loads(line) for line in process.lines if "cannot connect to Slack" in line]
    assert [a["retry_in"] for a in attempts[:2]] == [1.0, 2.0]  # one line an attempt, growing backoff
    assert not any("Traceback" in line for line in process.lines) and APP_TOKEN not in "\n".join(process.lines)


@pytest.mark.parametrize(
    ("app_token", "said"),
    [
        ("xapp-1-not-the-right-one-0000000000", "Slack refused SLACK_APP_TOKEN (invalid_auth)"),
        # The bot token pasted in its place: Slack refuses its kind, not the token.
        ("xoxb-not-the-right-one-0000000000", "SLACK_APP_TOKEN is not an app-level token (not_allowed_token_type)"),
    ],
)
def test_socket_mode_app_token_refused_is_said_once(quay, slack, tmp_path, access_file, app_token, said):
    env = socket_env(quay, slack, tmp_path, access_file, slack.api_url, app_token)
    process = Process(env, tmp_path)
    try:
        process.wait_for_port()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("SLACK_APP_TOKEN" in line for line in process.lines):
            time.sleep(0.1)
        time.sleep(1.5)  # no second attempt follows
        assert process.stop() == 0
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
    refused = [line for line in process.lines if said in line]
    assert len(refused) == 1 and not any("cannot connect to Slack" in line for line in process.lines)
    assert "not-the-right-one" not in "\n".join(process.lines)


@contextlib.contextmanager
def serving_in_socket_mode(quay, slack, tmp_path, access_file) -> Iterator[tuple[Process, FakeSocketMode]]:
    """`quaybot serve` in Socket Mode, connected to a fake Socket Mode endpoint; both stopped after."""
    socket = FakeSocketMode().start()
    slack.socket_url = socket.url
    process = Process(socket_env(quay, slack, tmp_path, access_file, slack.api_url, APP_TOKEN), tmp_path)
    try:
        process.wait_for_port()
        socket.wait_connected()
        yield process, socket
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
        socket.stop()


def test_socket_mode_connected_stops_on_sigterm(quay, slack, tmp_path, access_file):
    with serving_in_socket_mode(quay, slack, tmp_path, access_file) as (process, _):
        started = time.monotonic()
        assert process.stop() == 0 and time.monotonic() - started < 10
    assert any("connected to Slack in Socket Mode" in line for line in process.lines)


def test_socket_mode_hangs_up_at_once_on_sigterm_and_finishes_what_it_took(quay, world, slack, tmp_path, access_file):
    """Draining in Socket Mode: the connection closes first, so Slack sends new work to the bot's
    other connections (another replica's), while a command already taken still finishes and answers."""
    from tests.fakes.quay import Fault

    world.inject(Fault(method="GET", path="/team-a/api$", delay=3.0))
    with serving_in_socket_mode(quay, slack, tmp_path, access_file) as (process, socket):
        response_url = slack.new_response_url()
        driver = SlackDriver("http://127.0.0.1:9", "unused", slack)
        fields = driver.slash_fields("repo info api", user=ALICE, channel="C0READ", response_url=response_url)
        assert socket.push("slash_commands", fields).get("envelope_id")
        time.sleep(0.3)  # the command is waiting on Quay
        process.proc.send_signal(signal.SIGTERM)
        assert socket.wait_hung_up(1.5)  # long before the command is done
        assert "The API" in slack.wait_for(response_url.rsplit("/", 1)[-1], timeout=10)[0].text
        driver.close()
        assert process.proc.wait(timeout=20) == 0
