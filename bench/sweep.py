"""The notification sweep against a fake Quay with 10,000 repositories, 1,000 of them with notifications.

Prints sweep time, requests sent and peak memory of the watcher's process, next to the ideal
(requests x latency / concurrency). The fake Quay runs in its own process so its memory is not counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bench.harness import Child
from bot.access_file import parse_policy
from bot.alerts.reads import WatchSettings
from bot.alerts.watcher import Watcher
from bot.metrics import Metrics
from bot.quay import QuayClient, RepositoryRef
from bot.store.alerts import AlertStore
from bot.store.db import Database
from tests.conftest import T

ROOT = Path(__file__).resolve().parent.parent
ACCESS = "channels:\n  C0BIG:\n    namespaces: [big]\n    role: admin\n    alerts: true\n"


@dataclass
class SweepFigures:
    label: str
    seconds: float
    requests: int
    ideal: float


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class QuayProcess(Child):
    def __init__(self, repos: int, with_notifications: int, latency: float) -> None:
        super().__init__("quay_server", str(repos), str(with_notifications), str(latency))

    def requests(self) -> int:
        return int(self.ask("count"))

    def kinds(self) -> dict[str, int]:
        """What the requests since the last count were for (listing, logs, notifications, other)."""
        counted: dict[str, int] = json.loads(self.ask("kinds"))
        return counted


async def run(
    repos: int, with_notifications: int, latency: float, concurrency: int
) -> tuple[list[SweepFigures], float, float]:
    quay = QuayProcess(repos, with_notifications, latency)
    figures: list[SweepFigures] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'sweep.db'}")
        db.create_tables()
        policy = parse_policy(ACCESS, "bench", {}, SecretStr(T))
        settings = WatchSettings(
            interval=60, inventory_interval=600, concurrency=concurrency, requests_per_second=10_000, hints=False
        )
        client = QuayClient(quay.url, SecretStr(T), timeout=30)
        watcher = Watcher(
            policy, client, SecretStr(T), db, AlertStore(db), Metrics(), "https://quay.example.com", settings
        )
        before = peak_rss_mb()
        direct = 0.0
        try:
            for sweep in range(settings.rotation + 1):
                started = time.monotonic()
                await watcher.sweep()
                seconds = time.monotonic() - started
                sent = quay.requests()
                label = (
                    "first (lists 100 pages, checks 1/K)"
                    if sweep == 0
                    else ("steady state (hot + 1/K cold)" if sweep == settings.rotation else None)
                )
                if label:
                    figures.append(SweepFigures(label, seconds, sent, sent * latency / concurrency))
            # Baseline: the same number of notification reads, straight through the client.
            steady = figures[-1].requests
            gate = asyncio.Semaphore(concurrency)

            async def read(i: int) -> None:
                async with gate:
                    ref = RepositoryRef("big", f"repo{i % repos:05d}")
                    await client.list_notifications(ref, verify_repository=False)

            started = time.monotonic()
            await asyncio.gather(*(read(i) for i in range(steady)))
            direct = time.monotonic() - started
            quay.requests()
        finally:
            await client.aclose()
            db.dispose()
            quay.stop()
    figures.append(SweepFigures("baseline: same reads, client only", direct, figures[-1].requests, figures[-1].ideal))
    return figures, before, peak_rss_mb()


def main(
    repos: int = 10_000, with_notifications: int = 1_000, latency: float = 0.02, concurrency: int = 8
) -> list[str]:
    figures, before, peak = asyncio.run(run(repos, with_notifications, latency, concurrency))
    rows = [
        f"6. Watch sweep: {repos} repositories, {with_notifications} with notifications, "
        f"{latency * 1000:.0f} ms per Quay request, concurrency {concurrency}, K = 10"
    ]
    rows.append(f"   {'sweep':<38} {'seconds':>8} {'requests':>9} {'ideal s':>8} {'ratio':>6}")
    for f in figures:
        rows.append(f"   {f.label:<38} {f.seconds:8.2f} {f.requests:9d} {f.ideal:8.2f} {f.seconds / f.ideal:6.2f}")
    rows.append(f"   peak RSS of the watcher process: {peak:.1f} MB (before the sweeps: {before:.1f} MB)")
    return rows


if __name__ == "__main__":
    print("\n".join(main(int(os.environ.get("BENCH_REPOS", "10000")))))


def serve_memory(repos: int = 10_000, with_notifications: int = 1_000, latency: float = 0.005) -> list[str]:
    """Peak RSS of a real `quaybot serve` while its watch reads every repository of the namespace."""
    import httpx

    from bench.harness import Process, RemoteSlack
    from tests.fakes.slack_api import BOT_TOKEN

    quay = QuayProcess(repos, with_notifications, latency)
    slack = RemoteSlack()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "access.yml").write_text(ACCESS.replace("C0BIG", "C0BIG"))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "QUAY_URL": quay.url,
            "QUAY_TOKEN": T,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "bench",
            "SLACK_API_URL": slack.api_url,
            "QUAYBOT_ACCESS_FILE": str(workdir / "access.yml"),
            "QUAYBOT_DATABASE_URL": f"sqlite:///{workdir / 'serve.db'}",
            "QUAYBOT_MODE": "http",
            "QUAYBOT_HTTP_HOST": "127.0.0.1",
            "QUAYBOT_HTTP_PORT": "0",
            # One sweep that reads every repository (K = 1): the most the watch ever holds at once.
            "QUAYBOT_ALERT_INTERVAL_SECONDS": "3600",
            "QUAYBOT_INVENTORY_INTERVAL_SECONDS": "3600",
            "QUAYBOT_WATCH_CONCURRENCY": "8",
            "QUAYBOT_WATCH_REQUESTS_PER_SECOND": "10000",
        }
        bot = Process([sys.executable, "-m", "bot", "serve"], env, workdir)
        try:
            started = time.monotonic()
            with httpx.Client(trust_env=False) as http:
                while "quaybot_watch_sweep_seconds_count 1.0" not in http.get(f"{bot.url}/metrics").text:
                    if time.monotonic() - started > 900:
                        raise RuntimeError("the sweep did not finish")
                    time.sleep(0.5)
            seconds = time.monotonic() - started
            _, peak = bot.rss_mb()
        finally:
            bot.stop()
            slack.stop()
            quay.stop()
    return [
        f"   `quaybot serve` reading all {repos} repositories in one sweep ({seconds:.0f} s at {latency * 1000:.0f} ms"
        f" per request): peak RSS {peak:.1f} MB"
    ]
