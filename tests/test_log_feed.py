"""The usage-log feed against the fake Quay's logs (20 a page, newest first, `next_page`, whole
seconds, day-granular `starttime`): nothing missed, nothing taken twice, whatever the page breaks,
the same-second entries and midnight."""

from __future__ import annotations

import calendar
import time

from bot.alerts.feed import Position, read_feed
from bot.quay import QuayClient
from tests.fakes.quay import FakeQuayServer


def at(clock: list[float]):
    return lambda: clock[0]


async def test_a_first_read_replays_nothing_then_every_new_entry_comes_once(quay: FakeQuayServer, client: QuayClient):
    fake = quay.fake
    clock = [time.time()]
    fake.now = at(clock)
    fake.push("buynlarge/orgrepo", ["old"])
    first = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    assert first.status == "ok" and first.changes == () and first.position is not None
    # What the window held is told apart, for the first pass's order: the push, not to act on.
    assert [(c.kind, c.repository) for c in first.earlier] == [("push_repo", "orgrepo")]
    # Three entries in the very same second, one of them the same pull twice.
    fake.push("buynlarge/orgrepo", ["v1"])
    fake.pull("buynlarge/orgrepo", "v1")
    fake.pull("buynlarge/orgrepo", "v1")
    second = await read_feed(client, "buynlarge", first.position, own=False, now=clock[0])
    assert [c.kind for c in second.changes] == ["push_repo", "pull_repo", "pull_repo"]
    again = await read_feed(client, "buynlarge", second.position, own=False, now=clock[0])
    assert again.changes == () and again.requests == 1
    fake.pull("buynlarge/orgrepo", "v1")  # still the same second: the third identical pull is new
    third = await read_feed(client, "buynlarge", again.position, own=False, now=clock[0])
    assert [c.kind for c in third.changes] == ["pull_repo"]


async def test_pages_back_only_until_what_it_has_taken(quay: FakeQuayServer, client: QuayClient):
    fake = quay.fake
    clock = [time.time() - 100]
    fake.now = at(clock)
    start = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    for second in range(45):
        clock[0] += 1
        fake.pull("buynlarge/orgrepo", f"t{second}")
    clock[0] += 1
    fake.push("buynlarge/orgrepo", ["release"], by="ci-bot")
    read = await read_feed(client, "buynlarge", start.position, own=False, now=clock[0])
    assert read.requests == 3 and read.complete  # 46 entries: three pages of 20
    assert [c.kind for c in read.changes] == ["pull_repo"] * 45 + ["push_repo"]  # oldest first
    assert read.changes[-1].who == "ci-bot" and read.changes[-1].repository == "orgrepo"


async def test_a_position_from_before_midnight_still_finds_what_came_after(quay: FakeQuayServer, client: QuayClient):
    fake = quay.fake
    midnight = float(calendar.timegm((*time.gmtime(time.time())[:3], 0, 0, 0, 0, 0, 0)))
    clock = [midnight - 2]
    fake.now = at(clock)
    fake.push("buynlarge/orgrepo", ["before"])
    start = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    clock[0] = midnight + 3
    fake.push("buynlarge/orgrepo", ["after"])
    read = await read_feed(client, "buynlarge", start.position, own=False, now=clock[0])
    assert [c.kind for c in read.changes] == ["push_repo"]


async def test_no_rights_and_no_search_are_told_apart_from_an_answer(quay: FakeQuayServer, client: QuayClient):
    from pydantic import SecretStr

    from tests.conftest import FU

    assert (
        await read_feed(client.with_token(SecretStr(FU)), "buynlarge", Position(), own=False, now=time.time())
    ).status == ("forbidden")
    quay.fake.oauth.unsearchable.add("buynlarge")
    assert (await read_feed(client, "buynlarge", Position(), own=False, now=time.time())).status == "unavailable"


async def test_more_than_one_read_takes_is_said_incomplete(quay: FakeQuayServer, client: QuayClient):
    fake = quay.fake
    clock = [time.time() - 1000]
    fake.now = at(clock)
    start = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    for second in range(520):
        clock[0] += 1
        fake.pull("buynlarge/orgrepo", f"t{second}")
    read = await read_feed(client, "buynlarge", start.position, own=False, now=clock[0])
    assert not read.complete and read.requests == 25
    # What it took is the newest 500: every entry from the 21st pull on (the oldest second read may
    # have more entries on the page not read, so it does not count).
    assert read.since == start.position.newest_at + 21 + 1
    # A first read over the same logs looks back as far, and replays none of it.
    first = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    assert first.complete and first.changes == () and len(first.earlier) == 500 and first.requests == 25


async def test_after_a_day_away_the_window_starts_at_the_position(quay: FakeQuayServer, client: QuayClient):
    """Quay's logs answer the last day unless asked otherwise: a bot down for 30 hours asks from the
    day of its position, so what came 29 hours ago is still taken."""
    fake = quay.fake
    clock = [time.time() - 30 * 3600]
    fake.now = at(clock)
    fake.push("buynlarge/orgrepo", ["then"])
    start = await read_feed(client, "buynlarge", Position(), own=False, now=clock[0])
    clock[0] += 3600
    fake.push("buynlarge/orgrepo", ["an-hour-later"])
    clock[0] = time.time()
    read = await read_feed(client, "buynlarge", start.position, own=False, now=clock[0])
    assert [c.kind for c in read.changes] == ["push_repo"]
