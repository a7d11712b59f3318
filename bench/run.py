"""`make bench`: the bot and its baseline, side by side on this machine, in one table.

Absolute times drift on a shared machine, so each figure is printed next to its baseline, measured
in the same run.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench import detection, events, sweep
from bench.harness import (
    SECRET,
    Child,
    Process,
    RemoteSlack,
    Shot,
    bot_env,
    cpu_seconds,
    fakes,
    fire,
    median,
    ms,
    pct,
    start_baseline,
    start_bot,
    start_minimal,
)
from tests.conftest import T

QUAY_LATENCY = 0.2
COMMANDS = int(os.environ.get("BENCH_COMMANDS", "500"))
IN_FLIGHT = (1, 20, 100)
SLOTS = 16  # QUAYBOT_MAX_CONCURRENT_COMMANDS's default
COST_ROUNDS = 3  # row 4: rounds of each variant, taken in turn


def e2e_times(slack: RemoteSlack, shots: list[Shot]) -> list[float]:
    deadline = time.monotonic() + 120
    while True:
        arrivals = slack.arrivals()
        if all(shot.response_id in arrivals for shot in shots) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return [arrivals[shot.response_id] - shot.sent_at for shot in shots if shot.response_id in arrivals]


async def direct_quay(url: str, count: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=url, trust_env=False, headers={"Authorization": f"Bearer {T}"}) as http:
        for _ in range(count):
            started = time.monotonic()
            response = await http.get("/api/v1/repository/team-a/api", params={"includeTags": "true"})
            response.raise_for_status()
            times.append(time.monotonic() - started)
    return times


def one_at_a_time(url: str, slack: RemoteSlack, count: int) -> list[float]:
    times = []
    for _ in range(count):
        [shot] = asyncio.run(fire(url, slack, "repo info api", 1, 1))
        while True:
            arrived = slack.arrivals().get(shot.response_id)
            if arrived is not None:
                times.append(arrived - shot.sent_at)
                break
            time.sleep(0.005)
    return times


def cost(process: Process, slack: RemoteSlack, quay: Child, in_flight: int) -> tuple[float, float, float, float, float]:
    """(CPU ms per command, commands a second, new Quay connections per command, e2e p50, e2e p99) for
    COMMANDS `repo info` at `in_flight`, until every reply has arrived."""
    cpu_before, connections_before = cpu_seconds(process.proc.pid), int(quay.ask("connections"))
    started = time.monotonic()
    shots = asyncio.run(fire(process.url, slack, "repo info api", COMMANDS, in_flight))
    times = e2e_times(slack, shots)
    last = max(shot.sent_at + t for shot, t in zip(shots, times, strict=False)) if times else time.monotonic()
    cpu = cpu_seconds(process.proc.pid) - cpu_before
    connections = int(quay.ask("connections")) - connections_before
    return cpu / COMMANDS * 1000, COMMANDS / (last - started), connections / COMMANDS, pct(times, 50), pct(times, 99)


async def transport_cpu(url: str, transport: httpx.AsyncBaseTransport, count: int = 400) -> float:
    """CPU ms per Quay GET through httpx with this transport."""
    async with httpx.AsyncClient(
        base_url=url, transport=transport, trust_env=False, headers={"Authorization": f"Bearer {T}"}
    ) as http:
        for _ in range(20):
            await http.get("/api/v1/repository/team-a/api", params={"includeTags": "true"})
        started = time.process_time()
        for _ in range(count):
            (await http.get("/api/v1/repository/team-a/api", params={"includeTags": "true"})).raise_for_status()
        return (time.process_time() - started) / count * 1000


def transport_rows() -> list[str]:
    import ssl

    from httpx_aiohttp import AiohttpTransport as PackagedAiohttpTransport

    from bot.quay.transport import AiohttpTransport

    quay = Child("quay_server", "commands", "0")
    kinds: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
        "httpcore": httpx.AsyncHTTPTransport,
        "httpx-aiohttp": PackagedAiohttpTransport,
        "quaybot": lambda: AiohttpTransport(ssl_context=ssl.create_default_context()),
    }
    try:
        best = {
            name: min(asyncio.run(transport_cpu(quay.url, make())) for _ in range(2)) for name, make in kinds.items()
        }
    finally:
        quay.stop()
    return [
        "5. Quay client transport: CPU per GET (ms), best of two runs",
        f"   httpx default (httpcore) {best['httpcore']:6.2f}   httpx-aiohttp {best['httpx-aiohttp']:6.2f}"
        f"   quaybot's (bot/quay/transport.py) {best['quaybot']:6.2f}   ratio to httpcore {best['quaybot'] / best['httpcore']:5.2f}",
        "   used: quaybot's. httpx-aiohttp's fails six client and fault tests (a refused connection reads as a",
        "   timeout, TLS failures are not recognised, aiohttp resends a PUT or DELETE whose connection dropped).",
    ]


def _cpu_us(work: Callable[[], object], count: int = 2000) -> float:
    """CPU microseconds per call of `work`, best of three rounds."""
    rounds = []
    for _ in range(3):
        started = time.process_time()
        for _ in range(count):
            work()
        rounds.append((time.process_time() - started) / count * 1e6)
    return min(rounds)


async def _best_cpu_us(
    works: dict[str, Callable[[], Awaitable[object]]], rounds: int = 8, count: int = 200
) -> dict[str, float]:
    """CPU microseconds per call of each work, the best of `rounds` rounds taken in turn, each round
    after 20 calls that open connections and fill caches."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(rounds):
        for name, work in works.items():
            for _ in range(20):
                await work()
            started = time.process_time()
            for _ in range(count):
                await work()
            best[name] = min(best[name], (time.process_time() - started) / count * 1e6)
    return best


async def _in_process(environ: dict[str, str]) -> dict[str, float]:
    """CPU microseconds for a `repo info`'s work in this process, with no Slack, against the fake
    Quay: the bot's (access, parsing, the two Quay reads, the card, serialised as it is posted) and
    its two reads alone through its Quay client; the minimal app's (its two reads through aiohttp and
    its line of text) and its two reads alone."""
    import json
    from typing import Any
    from unittest import mock

    import aiohttp

    from bot.access import Caller
    from bot.app import build_bot
    from bot.quay.names import RepositoryRef
    from bot.settings import Settings

    with mock.patch.dict(os.environ, environ):
        bot = build_bot(Settings(_env_file=None))
    caller, ref = Caller("T0BENCH", "C0BENCH", "U0BENCH"), RepositoryRef("team-a", "api")
    quay, headers = environ["QUAY_URL"], {"Authorization": f"Bearer {T}"}
    try:
        async with aiohttp.ClientSession() as session:

            async def aiohttp_reads() -> tuple[dict[str, Any], list[Any]]:
                async with session.get(f"{quay}/api/v1/repository/team-a/api?includeTags=true", headers=headers) as got:
                    repository = await got.json()
                async with session.get(f"{quay}/api/v1/repository/team-a/api/notification/", headers=headers) as got:
                    return repository, (await got.json())["notifications"]

            client = bot.service.client_for(ref.namespace)  # the client, and token, a command uses

            async def client_reads() -> None:
                await client.get_repository(ref)
                await client.list_notifications(ref, verify_repository=False)

            async def the_bots() -> None:
                for reply in await bot.interactions.commands.command("repo info api", caller):
                    json.dumps(reply.message.to_dict())

            async def the_minimal_apps() -> None:
                repository, notifications = await aiohttp_reads()
                json.dumps({"text": f"{repository['name']}: {repository.get('description')}, {len(notifications)}"})

            return await _best_cpu_us(
                {"bot": the_bots, "minimal": the_minimal_apps, "client": client_reads, "aiohttp": aiohttp_reads}
            )
    finally:
        await bot.aclose()


def breakdown_rows(bot_cpu_ms: float, minimal_cpu_ms: float) -> list[str]:
    """Where the bot's CPU per `repo info` goes beyond the minimal app's, from the pieces the minimal
    app does not have, each timed alone in this process on the bench's own repository."""
    from bot.access import Role
    from bot.blocks.context import RenderContext
    from bot.commands.grammar import ParseContext
    from bot.outcomes import Succeeded
    from bot.quay.models import Notification, Repository
    from bot.quay.names import RepositoryRef
    from bot.slack.requests import classify, parse_body, valid_signature
    from bot.slices import parse, render
    from bot.slices.repo_info import RepoInfo, RepositoryShown
    from tests.fakes.slack_driver import SlackDriver, signed_headers

    class RemoteSlackStandIn:
        def new_trigger(self) -> str:
            return "1.2.abc"

    with fakes() as (quay, slack), tempfile.TemporaryDirectory() as tmp:
        headers = {"Authorization": f"Bearer {T}"}
        raw = httpx.get(f"{quay.url}/api/v1/repository/team-a/api?includeTags=true", headers=headers).json()
        notes = httpx.get(f"{quay.url}/api/v1/repository/team-a/api/notification/", headers=headers).json()
        measured = asyncio.run(_in_process(bot_env(quay, slack, Path(tmp))))
    bot_work_us, minimal_work_us = measured["bot"], measured["minimal"]
    client_us, aiohttp_us = measured["client"], measured["aiohttp"]
    shown = RepositoryShown(
        Repository.model_validate(raw), tuple(Notification.model_validate(n) for n in notes["notifications"])
    )
    outcome = Succeeded(RepoInfo(RepositoryRef("team-a", "api")), shown)
    driver = SlackDriver("http://127.0.0.1:9", SECRET, RemoteSlackStandIn())  # type: ignore[arg-type]
    body = driver.slash_body("repo info api", user="U0BENCH", channel="C0BENCH", response_url="http://127.0.0.1:9/r/x")
    driver.close()
    signed = signed_headers(SECRET, body, int(time.time()))
    fields = parse_body(body, signed["Content-Type"])  # the one parse: Bolt is handed its result
    assert fields is not None
    ctx = RenderContext(quay_url="https://quay.example.com", role=Role.ADMIN)

    work = bot_work_us - minimal_work_us
    within_work = {
        "Block Kit: render the card and serialise it (slack_sdk validates every object)": _cpu_us(
            lambda: render(outcome, ctx).to_dict()
        ),
        f"the two Quay reads through the Quay client ({client_us:.0f}) beyond aiohttp alone ({aiohttp_us:.0f})": (
            client_us - aiohttp_us
        ),
        "Quay's answers into pydantic models": _cpu_us(
            lambda: (Repository.model_validate(raw), [Notification.model_validate(n) for n in notes["notifications"]])
        ),
        "parsing the command text": _cpu_us(lambda: parse("repo info api", ParseContext(namespaces=("team-a",)))),
    }
    checks = _cpu_us(
        lambda: (valid_signature(SECRET, body, signed), classify(parse_body(body, signed["Content-Type"])))
    )
    gap = (bot_cpu_ms - minimal_cpu_ms) * 1000
    rest = gap - work - checks

    def row(name: str, us: float, indent: int = 3) -> str:
        return f"{' ' * indent}{name:<{86 - indent}} {us:7.1f}  ({us / gap * 100:4.0f}% of the gap)"

    rows = [
        f"4b. Where the bot's CPU per command goes beyond the minimal app's ({bot_cpu_ms:.2f} - {minimal_cpu_ms:.2f} ms "
        f"= {gap:.0f} us, row 4 at 100 in flight); pieces timed alone, in this process (us)",
        row(
            f"the command's work, no Slack: the bot's ({bot_work_us:.0f}) beyond the minimal app's ({minimal_work_us:.0f})",
            work,
        ),
        *(row(f"of which {name}", us, 6) for name, us in within_work.items()),
        row(
            "the bot's own request checks (v0 signature over the raw body, the body's one parse by key, its shape)",
            checks,
        ),
        row("left: Bolt as the bot runs it, the work gate, delivery, metrics; and sharing the event loop", rest),
    ]
    return rows


def command_rows() -> list[str]:
    rows: list[str] = []
    with fakes(QUAY_LATENCY) as (quay, slack), tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bot = start_bot(quay, slack, workdir)
        baseline = start_baseline(quay, slack, workdir)
        time.sleep(1.0)
        idle_rss, _ = bot.rss_mb()
        try:
            # The fake answers in one go (TCP_NODELAY): measure what it really takes, not what it is told.
            measured = asyncio.run(direct_quay(quay.url, 20))
            rows.append(
                f"1. Ack latency, /quay repo info, Quay told to answer in {QUAY_LATENCY * 1000:.0f} ms, "
                f"measured {ms(median(measured)).strip()} ms (ms)"
            )
            rows.append(
                f"   {'in flight':>9} {'bot p50':>8} {'bot p99':>8} {'base p50':>8} {'base p99':>8} {'ratio p50':>9} {'ratio p99':>9}"
            )
            e2e_single: list[float] = []
            for in_flight in IN_FLIGHT:
                bot_shots = asyncio.run(fire(bot.url, slack, "repo info api", COMMANDS, in_flight))
                base_shots = asyncio.run(fire(baseline.url, slack, "repo info api", COMMANDS, in_flight))
                assert all(s.status == 200 for s in bot_shots + base_shots)
                b = [s.ack for s in bot_shots]
                a = [s.ack for s in base_shots]
                rows.append(
                    f"   {in_flight:>9} {ms(pct(b, 50))} {ms(pct(b, 99))} {ms(pct(a, 50))} {ms(pct(a, 99))}"
                    f" {pct(b, 50) / pct(a, 50):9.2f} {pct(b, 99) / pct(a, 99):9.2f}"
                )
                times = e2e_times(slack, bot_shots)
                if in_flight == 1:
                    e2e_single = times
                else:
                    rows.append(
                        f"   {'':>9} end to end at {in_flight} in flight: p50 {ms(pct(times, 50))} p99 {ms(pct(times, 99))}"
                    )
            # One command at a time, each after the previous reply: acks come before the work now, so
            # the first row's "1 in flight" no longer spaces the work out.
            e2e_single = one_at_a_time(bot.url, slack, 100)
            direct = asyncio.run(direct_quay(quay.url, 100))
            rows.append("2. Overhead: signed request -> response_url post, vs the same Quay call made directly (ms)")
            rows.append(
                f"   bot end to end p50 {ms(median(e2e_single))}  direct httpx p50 {ms(median(direct))}"
                f"  bot adds {ms(median(e2e_single) - median(direct))} (p95 e2e {ms(pct(e2e_single, 95))})"
            )
            rss, peak = bot.rss_mb()
            rows.append("3. Memory of `quaybot serve` (MB)")
            rows.append(
                f"   idle {idle_rss:6.1f}   after {COMMANDS * len(IN_FLIGHT)} commands {rss:6.1f}   peak {peak:6.1f}"
            )
            minimal = start_minimal(quay, slack, workdir)
            bounded = start_minimal(quay, slack, workdir, slots=SLOTS)
            try:
                rows.append(
                    f"4. Cost of a command, {COMMANDS} `repo info`: the bot against a minimal hand-written Bolt app "
                    "(ack, the card's two Quay GETs with aiohttp, one response_url post, no checks); "
                    f"`min {SLOTS}` is the same app with its work bounded to {SLOTS} at once, as the bot's is; "
                    f"each the median of {COST_ROUNDS} rounds taken in turn"
                )
                rows.append(
                    f"   {'in flight':>9} {'':>8} {'CPU ms/cmd':>10} {'cmds/s':>7} {'new conns/cmd':>13} "
                    f"{'e2e p50':>8} {'e2e p99':>8}"
                )
                last: dict[str, tuple[float, float, float, float, float]] = {}
                for in_flight in (20, 100):
                    processes = (("bot", bot), ("minimal", minimal), (f"min {SLOTS}", bounded))
                    # Rounds taken in turn, each variant's median shown: the machine's speed drifts
                    # by a fifth over a minute, and one run of each would compare different moments.
                    runs: dict[str, list[tuple[float, float, float, float, float]]] = {n: [] for n, _ in processes}
                    for _ in range(COST_ROUNDS):
                        for name, process in processes:
                            runs[name].append(cost(process, slack, quay, in_flight))
                    last = {name: sorted(results)[len(results) // 2] for name, results in runs.items()}
                    for name, (cpu, rate, conns, p50, p99) in last.items():
                        rows.append(
                            f"   {in_flight:>9} {name:>8} {cpu:10.2f} {rate:7.1f} {conns:13.3f} {ms(p50)} {ms(p99)}"
                        )
                    each = " ".join(f"{b[0] / m[0]:.2f}" for b, m in zip(runs["bot"], runs["minimal"], strict=True))
                    rows.append(
                        f"   {'':>9} {'ratio':>8} {last['bot'][0] / last['minimal'][0]:10.2f}"
                        f"   (to min {SLOTS}: {last['bot'][0] / last[f'min {SLOTS}'][0]:.2f}; round by round: {each})"
                    )
            finally:
                minimal.stop()
                bounded.stop()
        finally:
            bot.stop()
            baseline.stop()
    return rows + breakdown_rows(last["bot"][0], last["minimal"][0])


def cpu_one_at_a_time(process: Process, slack: RemoteSlack, count: int) -> float:
    """CPU ms per command, each sent after the previous one's reply came."""
    before = cpu_seconds(process.proc.pid)
    one_at_a_time(process.url, slack, count)
    return (cpu_seconds(process.proc.pid) - before) / count * 1000


def latency_rows() -> list[str]:
    """Row 4 again with Quay answering at once: how much of the gap depends on the load's shape."""
    rows = [
        f"4c. Row 4 with Quay answering at once: CPU ms per `repo info`, medians of {COST_ROUNDS} rounds taken in turn",
        f"   {'':<44} {'bot':>6} {'minimal':>8} {'ratio':>6}",
    ]
    with fakes() as (quay, slack), tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        processes = {"bot": start_bot(quay, slack, workdir), "minimal": start_minimal(quay, slack, workdir)}
        time.sleep(1.0)
        shapes: dict[str, Callable[[Process], float]] = {
            "one at a time (each after the previous reply)": lambda p: cpu_one_at_a_time(p, slack, 200),
            f"{SLOTS} in flight": lambda p: cost(p, slack, quay, SLOTS)[0],
        }
        try:
            for shape, measure in shapes.items():
                runs: dict[str, list[float]] = {name: [] for name in processes}
                for _ in range(COST_ROUNDS):
                    for name, process in processes.items():
                        runs[name].append(measure(process))
                bot, minimal = median(runs["bot"]), median(runs["minimal"])
                rows.append(f"   {shape:<44} {bot:6.2f} {minimal:8.2f} {bot / minimal:6.2f}")
        finally:
            for process in processes.values():
                process.stop()
    return rows


def main() -> None:
    only = os.environ.get("BENCH_ONLY")  # commands, watch, detection or events; all when unset
    rows: list[str] = []
    if only in (None, "commands"):
        rows += command_rows()
    repos, hot = int(os.environ.get("BENCH_REPOS", "10000")), int(os.environ.get("BENCH_HOT", "1000"))
    if only in (None, "commands"):
        rows += latency_rows()
        rows += transport_rows()
    if only in (None, "watch"):
        rows += sweep.main(repos, hot)
        rows += sweep.serve_memory(repos, hot)
    if only in (None, "watch", "detection"):
        rows += detection.main()
    if only in (None, "events"):
        rows += events.main()
    print(f"quaybot benchmarks on {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
