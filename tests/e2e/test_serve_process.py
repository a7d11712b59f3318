"""`quaybot serve` as a real process: settings from the environment, the bound port logged on one
line, commands answered, no secret in its logs, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import T
from tests.e2e.conftest import ALICE, SIGNING_SECRET
from tests.fakes.slack_api import BOT_TOKEN
from tests.fakes.slack_driver import SlackDriver


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
