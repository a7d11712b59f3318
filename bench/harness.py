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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import T, seed
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.slack_driver import SlackDriver, signed_headers

SECRET = "bench-signing-secret"
ACCESS = "channels:\n  C0BENCH:\n    namespaces: [team-a]\n    role: admin\n"
ROOT = Path(__file__).resolve().parent.parent


def start_fakes() -> tuple[FakeQuayServer, FakeSlack]:
    fake = seed(FakeQuay())
    fake.add_org("team-a", admins=["devtable"])
    fake.add_repo("team-a/api", description="The API", tags=["latest", "v1"])
    return FakeQuayServer(fake).start(), FakeSlack().start()


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


def bot_env(quay: FakeQuayServer, slack: FakeSlack, workdir: Path) -> dict[str, str]:
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


def start_bot(quay: FakeQuayServer, slack: FakeSlack, workdir: Path) -> Process:
    return Process([sys.executable, "-m", "bot", "serve"], bot_env(quay, slack, workdir), workdir)


def start_baseline(quay: FakeQuayServer, slack: FakeSlack, workdir: Path) -> Process:
    return Process([sys.executable, "-m", "bench.baseline_app"], bot_env(quay, slack, workdir), ROOT)


@dataclass
class Shot:
    ack: float  # seconds from send to the HTTP answer
    sent_at: float  # monotonic
    response_id: str
    status: int


async def fire(url: str, slack: FakeSlack, text: str, total: int, in_flight: int) -> list[Shot]:
    """`total` signed /quay commands with at most `in_flight` outstanding."""
    driver = SlackDriver(url, SECRET, slack)
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    shots: list[Shot] = []
    gate = asyncio.Semaphore(in_flight)
    async with httpx.AsyncClient(trust_env=False, timeout=60, limits=limits) as http:

        async def one() -> None:
            async with gate:
                response_url = slack.new_response_url()
                body = driver.slash_body(text, user="U0BENCH", channel="C0BENCH", response_url=response_url)
                headers = signed_headers(SECRET, body, int(time.time()))
                started = time.monotonic()
                response = await http.post(f"{url}/slack/events", content=body, headers=headers)
                shots.append(
                    Shot(time.monotonic() - started, started, response_url.rsplit("/", 1)[-1], response.status_code)
                )

        await asyncio.gather(*(one() for _ in range(total)))
    driver.close()
    return shots


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
