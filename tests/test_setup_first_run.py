"""The first run outside the browser: when `make run` may start the setup page at all (a person's
terminal, nothing configured, not CI, not a container), the real command under a pseudo-terminal,
and the same steps answered in the terminal (`quaybot setup --no-browser`)."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bot.cli import EXIT_ERROR
from bot.setup.flow import Setup
from bot.setup.run import may_offer_setup
from bot.setup.terminal import Stopped, Terminal
from tests.conftest import T
from tests.fakes.quay import FakeQuayServer
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_socket import FakeSocketMode

QUAYBOT = Path(sys.executable).with_name("quaybot")


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any configuration, CI or container marker, plus `extra`."""
    dropped = ("QUAY", "SLACK_", "QUAYBOT_", "CI", "KUBERNETES_")
    return {k: v for k, v in os.environ.items() if not k.startswith(dropped)} | extra


def run_in_terminal(
    args: list[str], cwd: Path, env: dict[str, str], until: str, within: float = 20
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `quaybot` with a pseudo-terminal as its stdin and stdout (a person's shell); read until `until`."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + within
    while until.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                seen += os.read(leader, 4096)
            except OSError:
                break
        if process.poll() is not None and not ready:
            break
    os.close(leader)
    return seen.decode(errors="replace"), process


def test_make_run_on_a_fresh_clone_with_a_terminal_starts_the_setup_page(tmp_path: Path):
    env = clean_env()
    said, process = run_in_terminal([str(QUAYBOT), "serve", "--setup-if-unconfigured"], tmp_path, env, "token=")
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", said)
        assert match, said
        assert "nothing is configured here yet, so setup starts" in said
        without = httpx.get(match.group(0).split("?")[0] + "quay")
        assert without.status_code == 403  # the page, refused without its token
        opened = httpx.get(match.group(0), follow_redirects=True)
        assert opened.status_code == 200 and "1. Quay" in opened.text
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(
    ("why", "env_extra", "terminal"),
    [
        ("CI", {"CI": "true"}, True),
        ("no terminal", {}, False),
        ("a container", {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, True),
    ],
)
def test_without_a_person_at_a_terminal_missing_configuration_stays_an_error(tmp_path: Path, why, env_extra, terminal):
    env = clean_env(**env_extra)
    args = [str(QUAYBOT), "serve", "--setup-if-unconfigured"]
    if terminal:
        said, process = run_in_terminal(args, tmp_path, env, "QUAY_URL")
        code = process.wait(20)
    else:
        done = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
        said, code = done.stderr, done.returncode
    assert code == EXIT_ERROR, (why, said)  # as before setup existed
    assert "configuration error: QUAY_URL is not set" in said and "token=" not in said


def test_plain_serve_never_offers_setup(tmp_path: Path):
    said, process = run_in_terminal([str(QUAYBOT), "serve"], tmp_path, clean_env(), "QUAY_URL")
    assert process.wait(20) == EXIT_ERROR and "token=" not in said


def test_what_stops_the_offer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    root = tmp_path / "root"
    root.mkdir()
    assert may_offer_setup(tmp_path, {}, root) is None
    assert may_offer_setup(tmp_path, {"CI": "true"}, root) == "CI is set"
    assert may_offer_setup(tmp_path, {"QUAY_URL": "https://q"}, root) == "some configuration is already there"
    (root / "run").mkdir()
    (root / "run" / ".containerenv").write_text("")  # podman's and CRI-O's mark in a container
    assert may_offer_setup(tmp_path, {}, root) == "this runs in a container"
    (tmp_path / ".env").write_text("QUAY_URL=https://q\n")
    assert may_offer_setup(tmp_path, {}, tmp_path) == "some configuration is already there"


# The terminal's twin of the page ------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    socket = FakeSocketMode().start()
    fake = FakeSlack().start()
    fake.socket_url = socket.url
    yield fake
    fake.stop()
    socket.stop()


def answers(*given: str):
    queue = list(given)
    asked: list[tuple[str, bool]] = []

    def ask(prompt: str, secret: bool) -> str:
        asked.append((prompt, secret))
        if not queue:
            raise EOFError
        return queue.pop(0)

    return ask, asked


async def test_no_browser_asks_the_same_steps_checks_each_and_asks_again(
    quay: FakeQuayServer, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    ask, asked = answers(
        "http://127.0.0.1:9",
        T,  # nothing there: said, asked again
        quay.url,
        T,
        "C0TEAMA123",
        "write",
        "y",  # buynlarge
        "",  # devtable: not mapped
        "socket",
        BOT_TOKEN,
        APP_TOKEN,
        "n",  # do not start serving
    )
    out = io.StringIO()
    serve = await Terminal(Setup(tmp_path, slack_api_url=slack.api_url), out, ask).run()
    said = out.getvalue()
    assert not serve
    assert "Nothing answered at http://127.0.0.1:9" in said and "Check the address and the port" in said
    assert "buynlarge: can create repositories; reads notifications" in said
    assert "https://api.slack.com/apps?new_app=1&manifest_json=" in said
    assert "app token accepted" in said and said.rstrip().endswith("OK")
    assert [secret for prompt, secret in asked if "Token" in prompt or "token" in prompt] == [True, True, True, True]
    assert T not in said and BOT_TOKEN not in said and APP_TOKEN not in said
    access = yaml.safe_load((tmp_path / "access.yml").read_text())
    assert access == {"channels": {"C0TEAMA123": {"namespaces": ["buynlarge"], "role": "write", "alerts": True}}}
    assert oct((tmp_path / ".env").stat().st_mode & 0o777) == "0o600"


async def test_no_browser_keeps_existing_files_when_told_so(quay: FakeQuayServer, slack: FakeSlack, tmp_path: Path):
    (tmp_path / ".env").write_text("# mine\n")
    ask, _ = answers(quay.url, T, "C0TEAMA123", "", "", "", "socket", BOT_TOKEN, APP_TOKEN, "n")
    with pytest.raises(Stopped, match="Nothing was written"):
        await Terminal(Setup(tmp_path, slack_api_url=slack.api_url), io.StringIO(), ask).run()
    assert (tmp_path / ".env").read_text() == "# mine\n" and not (tmp_path / "access.yml").exists()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_run_from_nothing_to_serving(quay: FakeQuayServer, slack: FakeSlack, tmp_path: Path):
    """The whole first run as a newcomer's `make run` does it: the page's four steps (as the browser
    posts them), Start serving, and the same process then serves with the files it wrote."""
    port = free_port()
    env = clean_env(SLACK_API_URL=slack.api_url, QUAYBOT_HTTP_PORT=str(port))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(QUAYBOT), "serve", "--setup-if-unconfigured"], cwd=tmp_path, env=env, stdin=follower, stdout=follower,
        stderr=follower,
    )  # fmt: skip
    os.close(follower)
    said = b""
    try:
        while b"token=" not in said or not said.rstrip().endswith(b"--no-browser"):
            ready, _, _ = select.select([leader], [], [], 10)
            assert ready and process.poll() is None, said
            said += os.read(leader, 4096)
        url = re.search(rb"http://127\.0\.0\.1:\d+/\?token=[\w-]+", said)
        assert url
        base = url.group(0).decode().split("/?")[0]
        with httpx.Client(base_url=base, headers={"Origin": base}) as browser:
            assert browser.get(url.group(0).decode(), follow_redirects=True).status_code == 200
            steps = [
                ("/quay", {"url": quay.url, "token": T}),
                ("/access", {"use-0": "on", "namespace-0": "buynlarge", "channel-0": "C0TEAMA123", "role-0": "write"}),
                ("/slack/mode", {"mode": "socket"}),
                ("/slack", {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN}),
                ("/write", {}),
            ]
            for path, form in steps:
                answer = browser.post(path, data=form)
                assert answer.status_code in (200, 303), (path, answer.text)
                assert 'id="problem"' not in answer.text, (path, answer.text)
            assert "OK" in answer.text and "Start serving" in answer.text
            assert "Setup is done" in browser.post("/serve").text
        deadline = time.monotonic() + 30
        while True:  # the same process, now the bot, with what setup wrote
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "the bot never served"
            time.sleep(0.3)
    finally:
        process.terminate()
        code = process.wait(30)
        os.close(leader)
    assert code == 0
    assert "C0TEAMA123" in (tmp_path / "access.yml").read_text() and (tmp_path / "quaybot.db").exists()
