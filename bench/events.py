"""Row 8: how fast the bot answers Quay's webhook deliveries (`POST /quay/events/<token>`).

Quay gives a delivery 10 s before counting it as failed; the issue asks for an answer within 1 s.
The baseline is the same server's `GET /healthz` (a database ping on the same executor), at the same
concurrency, in the same run. Each delivery is for its own subscription, so none is rate limited;
half are pushes (a grouped message: read, merge, write) and half vulnerabilities (a new post).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.harness import drive, fakes, ms, pct, start_bot
from bot.store.db import Database
from bot.store.subscriptions import SubscriptionStore
from bot.subscriptions import tokens

DELIVERIES = 1000
IN_FLIGHT = (1, 10, 50)


def seed(database_url: str, count: int) -> list[str]:
    """`count` subscriptions of C0BENCH, one per repository; their hook URLs' paths."""
    db = Database(database_url)
    db.create_tables()
    store = SubscriptionStore(db)
    paths = []
    for index in range(count):
        token = tokens.mint()
        events = ["repo_push", "vulnerability_found"]
        store.create("C0BENCH", "team-a", f"repo{index}", events, tokens.token_hash(token), "U0BENCH", time.time())
        paths.append(f"/quay/events/{token}")
    db.dispose()
    return paths


def body(index: int) -> tuple[str, bytes]:
    full = f"team-a/repo{index}"
    base = {
        "repository": full,
        "namespace": "team-a",
        "name": f"repo{index}",
        "docker_url": f"quay.test/{full}",
        "homepage": f"http://quay.test/repository/{full}",
    }
    if index % 2:
        return "repo_push", json.dumps(base | {"updated_tags": ["latest", f"v{index}"]}).encode()
    vulnerability = {
        "id": f"CVE-2026-{index}",
        "priority": "High",
        "description": "x" * 300,
        "link": "https://x.example",
    }
    return "vulnerability_found", json.dumps(base | {"tags": ["latest"], "vulnerability": vulnerability}).encode()


async def timed(url: str, requests: list[tuple[str, str, bytes | None]], in_flight: int) -> list[float]:
    times: list[float] = []

    async def send(http: aiohttp.ClientSession, request: tuple[str, str, bytes | None]) -> None:
        method, path, data = request
        started = time.monotonic()
        async with http.request(method, url + path, data=data) as response:
            await response.read()
            assert response.status == 200, response.status
        times.append(time.monotonic() - started)

    await drive(requests, in_flight, send)
    return times


def main() -> list[str]:
    rows = [
        f"8. Quay webhook deliveries (POST /quay/events/<token>), {DELIVERIES} per row, vs GET /healthz (ms)",
        f"   {'in flight':>9} {'bot p50':>8} {'bot p99':>8} {'max':>8} {'base p50':>8} {'base p99':>8} {'ratio p99':>9}",
    ]
    with fakes() as (quay, slack), tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        paths = seed(f"sqlite:///{workdir / 'bench.db'}", DELIVERIES * len(IN_FLIGHT))
        bot = start_bot(quay, slack, workdir)
        try:
            time.sleep(1.0)
            for row, in_flight in enumerate(IN_FLIGHT):
                deliveries = []
                for index in range(row * DELIVERIES, (row + 1) * DELIVERIES):
                    event, data = body(index)
                    deliveries.append(("POST", f"{paths[index]}?event={event}", data))
                bot_times = asyncio.run(timed(bot.url, deliveries, in_flight))
                health = [("GET", "/healthz", None)] * DELIVERIES
                base_times = asyncio.run(timed(bot.url, health, in_flight))
                rows.append(
                    f"   {in_flight:>9} {ms(pct(bot_times, 50))} {ms(pct(bot_times, 99))} {ms(max(bot_times))}"
                    f" {ms(pct(base_times, 50))} {ms(pct(base_times, 99))}"
                    f" {pct(bot_times, 99) / pct(base_times, 99):9.2f}"
                )
        finally:
            bot.stop()
    return rows


if __name__ == "__main__":
    print("\n".join(main()))
