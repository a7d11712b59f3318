"""Shared pieces: fakes, processes under test, a signed load generator, percentiles, RSS."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import httpx

from tests.conftest import T
from tests.fakes.slack_api import BOT_TOKEN
from tests.fakes.slack_driver import SlackDriver, signed_headers

Item = TypeVar("Item")
SECRET = "bench-signing-secret"
ACCESS = "channels:\n  C0BENCH:\n    namespaces: [team-a]\n    role: admin\n"
ROOT = Path(__file__).resolve().parent.parent


class Child:
    """A fake in its own process (`python -m bench.<module> args`), so the load generator does not
    share a GIL with it; its port comes from the "listening PORT" line it prints."""

    def __init__(self, module: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"bench.{module}", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "listening" not in line:
            raise RuntimeError(f"bench.{module} did not start: {line}")
        self.url = f"http://127.0.0.1:{int(line.split()[-1])}"

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class RemoteSlack(Child):
    """The fake Slack in a child process, with what it received read back over HTTP."""

    def __init__(self) -> None:
        super().__init__("slack_server")
        self.api_url = f"{self.url}/api/"

    def new_response_url(self) -> str:
        return f"{self.url}/response/{uuid.uuid4().hex}"

    def new_trigger(self) -> str:
        """A trigger id of Slack's shape. The benchmark's commands open no modal, so the fake in the
        other process need not know it."""
        return f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"

    def arrivals(self) -> dict[str, float]:
        """response id -> when its first post arrived (time.monotonic, shared by processes here)."""
        calls = httpx.get(f"{self.url}/_calls", trust_env=False, timeout=30).json()["calls"]
        first: dict[str, float] = {}
        for call in calls:
            if call["kind"] == "response":
                first.setdefault(call["name"], call["at"])
        return first


@contextmanager
def fakes(quay_latency: float = 0.0) -> Iterator[tuple[Child, RemoteSlack]]:
    """The fake Quay of the command benchmarks (one repository, answering in `quay_latency` seconds)
    and the fake Slack, each in its own process, stopped on the way out."""
    quay = Child("quay_server", "commands", str(quay_latency))
    try:
        slack = RemoteSlack()
        try:
            yield quay, slack
        finally:
            slack.stop()
    finally:
        quay.stop()


class Process:
    """A server process; its port is read from the line it logs when listening."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            list(args), env=env, cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.port: int | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60):
            raise RuntimeError("server did not start")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if self.port is None and "listening" in line:
                try:
                    self.port = int(json.loads(line)["port"])
                except ValueError:
                    self.port = int(line.rsplit(" ", 1)[-1])
                self._ready.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory in MB, from /proc."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        values = {
            line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))
        }
        return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def bot_env(quay: Child, slack: RemoteSlack, workdir: Path) -> dict[str, str]:
    (workdir / "access.yml").write_text(ACCESS)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "QUAY_URL": quay.url,
        "QUAY_TOKEN": T,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "QUAYBOT_ACCESS_FILE": str(workdir / "access.yml"),
        "QUAYBOT_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "QUAYBOT_MODE": "http",
        "QUAYBOT_HTTP_HOST": "127.0.0.1",
        "QUAYBOT_HTTP_PORT": "0",
        "PYTHONPATH": str(ROOT),
    }


def start_bot(quay: Child, slack: RemoteSlack, workdir: Path) -> Process:
    return Process([sys.executable, "-m", "bot", "serve"], bot_env(quay, slack, workdir), workdir)


def start_baseline(quay: Child, slack: RemoteSlack, workdir: Path) -> Process:
    return Process([sys.executable, "-m", "bench.baseline_app"], bot_env(quay, slack, workdir), ROOT)


def start_minimal(quay: Child, slack: RemoteSlack, workdir: Path, slots: int = 0) -> Process:
    """The minimal app; with `slots`, its work bounded to that many commands at once."""
    return Process(
        [sys.executable, "-m", "bench.minimal_app"],
        {**bot_env(quay, slack, workdir), "MINIMAL_SLOTS": str(slots)},
        ROOT,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Shot:
    ack: float  # seconds from send to the HTTP answer
    sent_at: float  # monotonic
    response_id: str
    status: int


async def fire(url: str, slack: RemoteSlack, text: str, total: int, in_flight: int) -> list[Shot]:
    """`total` signed /quay commands with exactly `in_flight` outstanding."""
    driver = SlackDriver(url, SECRET, slack)  # type: ignore[arg-type]  # only slash_body is used
    bodies = []
    for _ in range(total):
        response_url = slack.new_response_url()
        body = driver.slash_body(text, user="U0BENCH", channel="C0BENCH", response_url=response_url)
        bodies.append((response_url.rsplit("/", 1)[-1], body, signed_headers(SECRET, body, int(time.time()))))
    driver.close()
    shots: list[Shot] = []

    async def send(http: aiohttp.ClientSession, item: tuple[str, bytes, dict[str, str]]) -> None:
        response_id, body, headers = item
        started = time.monotonic()
        async with http.post(f"{url}/slack/events", data=body, headers=headers) as response:
            await response.read()
            shots.append(Shot(time.monotonic() - started, started, response_id, response.status))

    await drive(bodies, in_flight, send)
    return shots


async def drive(
    items: Iterable[Item], in_flight: int, send: Callable[[aiohttp.ClientSession, Item], Awaitable[None]]
) -> None:
    """`send` each item with exactly `in_flight` outstanding, over one aiohttp session (the lightest
    client at hand, so the generator measures the server rather than itself)."""
    queue = iter(items)
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as http:

        async def worker() -> None:
            for item in queue:
                await send(http, item)

        await asyncio.gather(*(worker() for _ in range(in_flight)))


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
