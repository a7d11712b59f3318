"""End-to-end fixtures: fake Quay + fake Slack on 127.0.0.1, and the real bot serving HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import Bot, build_bot
from bot.settings import Settings
from bot.slack.server import Server
from tests.conftest import T
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_socket import FakeSocketMode

SIGNING_SECRET = "fake-signing-secret-e2e"
ALICE, BOB, MALLORY = "U0ALICE", "U0BOB", "U0MALLORY"
ACCESS = """
channels:
  C0READ:
    namespaces: [team-a]
    role: read
  C0WRITE:
    namespaces: [team-a]
    role: write
  C0ADMIN:
    namespaces: [team-a]
    role: admin
    users: [U0ALICE, U0BOB]
"""


def seed_teams(fake: FakeQuay) -> None:
    fake.add_org("team-a", admins=["devtable"])
    fake.add_repo("team-a/api", description="The API", tags=["latest", "v1"])
    fake.add_repo("team-a/web", public=True, description="Web")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def world(fake: FakeQuay) -> FakeQuay:
    seed_teams(fake)
    return fake


@pytest.fixture
def access_file(tmp_path: Path) -> Path:
    path = tmp_path / "access.yml"
    path.write_text(ACCESS)
    return path


def make_settings(quay_url: str, slack: FakeSlack, tmp_path: Path, access_file: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "QUAY_URL": quay_url,
        "QUAY_TOKEN": SecretStr(T),
        "QUAY_TIMEOUT_SECONDS": 5,
        "SLACK_BOT_TOKEN": SecretStr(BOT_TOKEN),
        "SLACK_SIGNING_SECRET": SecretStr(SIGNING_SECRET),
        "SLACK_API_URL": slack.api_url,
        "QUAYBOT_ACCESS_FILE": access_file,
        "QUAYBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'quaybot.db'}",
        "QUAYBOT_MODE": "http",
        "QUAYBOT_HTTP_HOST": "127.0.0.1",
        "QUAYBOT_HTTP_PORT": 0,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotThread:
    """The real bot (`build_bot` + `Server`, as `quaybot serve` runs it) on its own event loop thread.

    The watch loop runs only with `watch=True`; otherwise tests drive sweeps and the outbox themselves.
    """

    def __init__(self, settings: Settings, *, watch: bool = False) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bot: Bot = build_bot(settings)
        self.server = Server(self.bot, watch=watch)
        self.run(self.server.start())

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.run(self.server.close())
        self.run(_cancel_others())  # replies still in flight (Bolt's ack runners) end with the bot
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def start_in_socket_mode(
    quay_url: str, slack: FakeSlack, tmp_path: Path, access_file: Path, **extra: Any
) -> tuple[BotThread, FakeSocketMode]:
    """The bot in Socket Mode, connected to a fake Socket Mode endpoint that Slack's
    apps.connections.open hands out; stop both."""
    socket = FakeSocketMode().start()
    slack.socket_url = socket.url
    settings = make_settings(
        quay_url,
        slack,
        tmp_path,
        access_file,
        **{"QUAYBOT_MODE": "socket", "SLACK_APP_TOKEN": SecretStr(APP_TOKEN), "SLACK_SIGNING_SECRET": None, **extra},
    )
    try:
        bot = BotThread(settings)
    except BaseException:
        socket.stop()
        raise
    try:
        socket.wait_connected()
    except BaseException:
        bot.stop()
        socket.stop()
        raise
    return bot, socket


async def _cancel_others() -> None:
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


@pytest.fixture
def settings(quay: FakeQuayServer, world: FakeQuay, slack: FakeSlack, tmp_path: Path, access_file: Path) -> Settings:
    return make_settings(quay.url, slack, tmp_path, access_file)


@pytest.fixture
def bot(settings: Settings) -> Iterator[BotThread]:
    running = BotThread(settings)
    yield running
    running.stop()


@pytest.fixture
def driver(bot: BotThread, slack: FakeSlack) -> Iterator[SlackDriver]:
    d = SlackDriver(bot.url, SIGNING_SECRET, slack)
    yield d
    d.close()


WATCH_ACCESS = """
channels:
  C0ALERTS:
    namespaces: [team-a]
    role: admin
    alerts: true
  C0READERS:
    namespaces: [team-a]
    role: read
    alerts: true
  C0QUIET:
    namespaces: [team-a]
    role: admin
"""


@pytest.fixture
def watch_access(tmp_path: Path) -> Path:
    path = tmp_path / "watch-access.yml"
    path.write_text(WATCH_ACCESS)
    return path


@contextlib.contextmanager
def bot_with_access(quay, slack, tmp_path: Path, access: str, **extra: Any) -> Iterator[tuple[BotThread, SlackDriver]]:
    """The bot with an access file of its own, the outbox unpaced, and a driver for it; both stopped
    on the way out."""
    path = tmp_path / "own-access.yml"
    path.write_text(access)
    extra.setdefault("QUAYBOT_WATCH_REQUESTS_PER_SECOND", 1000)
    bot = BotThread(make_settings(quay.url, slack, tmp_path, path, **extra))
    bot.bot.outbox.per_channel_interval = 0.0
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        yield bot, driver
    finally:
        driver.close()
        bot.stop()


def start(settings) -> BotThread:
    bot = BotThread(settings)
    bot.bot.outbox.per_channel_interval = 0.0  # pacing is tested on its own below
    bot.bot.outbox.backoff_base = 0.05
    return bot


def watch_settings(quay, slack, tmp_path, watch_access, **extra):
    # Inventory interval = sweep interval: K = 1, every repository is read every sweep. The rotation
    # (K > 1) has its own test below.
    extra.setdefault("QUAYBOT_INVENTORY_INTERVAL_SECONDS", 60)
    extra.setdefault("QUAYBOT_WATCH_REQUESTS_PER_SECOND", 1000)  # the budget has its own unit test
    return make_settings(quay.url, slack, tmp_path, watch_access, **extra)


@pytest.fixture
def watch_bot(quay, world, slack, tmp_path, watch_access):
    bot = start(watch_settings(quay, slack, tmp_path, watch_access))
    yield bot
    bot.stop()


__all__ = [
    "ALICE",
    "APP_TOKEN",
    "BOB",
    "MALLORY",
    "WATCH_ACCESS",
    "BotThread",
    "make_settings",
    "start",
    "watch_settings",
]
