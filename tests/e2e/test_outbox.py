"""The outbox: each row claimed before it is sent, rows Slack keeps refusing set aside (and listed,
retried or dropped with `quaybot outbox`), and no row sent twice by two senders or across a lease lapse."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli import main
from bot.metrics import Metrics
from bot.slack.outbox import IDLE_POLL, OutboxSender
from bot.store import Database
from bot.store.outbox import OUTBOX_ADDED, OutboxStore
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, SlackFault


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    return request.getfixturevalue("postgres").create_database(f"outbox_{uuid.uuid4().hex[:12]}")


def sender(db: Database, slack: FakeSlack, holder: str, **kw) -> OutboxSender:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    return OutboxSender(db, OutboxStore(db), client, Metrics(), holder=holder, per_channel_interval=0.0, **kw)


def posted(slack: FakeSlack) -> list[tuple[str, str]]:
    return [(c.body["channel"], c.body["text"]) for c in slack.calls_to("chat.postMessage") if c.body.get("ok", True)]


async def drain(*senders: OutboxSender, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    store = senders[0].store
    while await senders[0].db.run(store.depth) > 0:
        assert time.monotonic() < deadline, "the outbox did not drain"
        await asyncio.gather(*(s.send_due() for s in senders))
        await asyncio.sleep(0.01)


def enqueue(db: Database, channel: str, text: str) -> int:
    return OutboxStore(db).enqueue(channel, {"text": text, "blocks": []}, time.time())


async def test_a_message_slack_keeps_refusing_is_set_aside_and_the_channel_goes_on(
    slack: FakeSlack, tmp_path, monkeypatch, capsys, caplog
):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    db = Database(url)
    db.create_tables()
    first = enqueue(db, "C1", "first")
    enqueue(db, "C1", "second")
    weird = SlackFault(status=200, body={"ok": False, "error": "some_new_error"})
    slack.fail_next("chat.postMessage", weird, times=3)
    one = sender(db, slack, "replica-1", max_attempts=3, backoff_base=0.01)
    await drain(one)
    texts = [c.body["text"] for c in slack.calls_to("chat.postMessage")]
    assert texts == ["first", "first", "first", "second"]  # three tries, then the next message
    [record] = [r for r in caplog.records if "set aside" in r.getMessage()]
    assert record.error == "200 some_new_error after 3 attempts" and record.channel == "C1"  # Slack's own error
    assert "quaybot_outbox_dead_total 1.0" in one.metrics.render().decode()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUAY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", url)
    assert main(["outbox", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{first:>6} dead" in listing and "some_new_error after 3 attempts" in listing and "| first" in listing
    assert main(["outbox", "retry", str(first)]) == 0
    await drain(one)
    assert [c.body["text"] for c in slack.calls_to("chat.postMessage")][-1] == "first"
    assert main(["outbox", "drop", str(first)]) == 1  # sent now: nothing to drop
    assert "no pending or dead outbox row" in capsys.readouterr().err
    db.dispose()


def test_the_outbox_listing_shows_control_characters_escaped(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    db = Database(url)
    db.create_tables()
    row = enqueue(db, "C1", "a description from Quay\n     9 dead \x1b[2J")  # would fake a row, clear the screen
    db.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUAY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", url)
    assert main(["outbox", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{row:>6} pending") and line.endswith("| a description from Quay\\n     9 dead \\x1b[2J")


async def test_two_senders_send_each_row_once_in_order(slack: FakeSlack, database_url):
    db = Database(database_url)
    db.create_tables()
    queued = [(f"C{n % 3}", f"message {n}") for n in range(30)]
    for channel, text in queued:
        enqueue(db, channel, text)
    one, two = sender(db, slack, "replica-1"), sender(db, slack, "replica-2")
    await drain(one, two)
    sent = posted(slack)
    assert sorted(sent) == sorted(queued)  # each exactly once
    for channel in ("C0", "C1", "C2"):
        assert [t for c, t in sent if c == channel] == [t for c, t in queued if c == channel]
    db.dispose()


async def test_a_lease_lapse_mid_send_does_not_send_twice(slack: FakeSlack, database_url):
    db = Database(database_url)
    db.create_tables()
    enqueue(db, "C1", "slow one")
    old_leader, new_leader = sender(db, slack, "replica-1"), sender(db, slack, "replica-2")
    slack.fail_next("chat.postMessage", SlackFault(delay=1.5))  # Slack takes its time; the lease lapses
    sending = asyncio.create_task(old_leader.send_due())
    await asyncio.sleep(0.5)
    assert await new_leader.send_due() == 0  # the row is claimed: the next leader leaves it alone
    assert await sending == 1
    await drain(new_leader)
    assert posted(slack) == [("C1", "slow one")]
    db.dispose()


async def test_a_channel_the_bot_was_never_invited_to_tells_the_operator_how_to_fix_it(
    slack: FakeSlack, tmp_path, caplog
):
    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    db.create_tables()
    slack.not_member.add("C0NOTJOINED")
    enqueue(db, "C0NOTJOINED", "an alert nobody will see")
    enqueue(db, "C0NOTJOINED", "and the next one")
    one = sender(db, slack, "replica-1")
    await drain(one)
    hints = [getattr(r, "hint", "") for r in caplog.records if "set aside" in r.getMessage()]
    assert hints == ["invite the bot to the channel, or add the chat:write.public scope"] * 2
    rows = OutboxStore(db).outbox_rows(["dead"])
    assert [r.last_error for r in rows] == ["not_in_channel", "not_in_channel"]
    db.dispose()


async def test_response_urls_expire_after_30_minutes_like_slacks(slack: FakeSlack, tmp_path):
    """The fake refuses a response_url after 30 minutes; the bot keeps the reply in the outbox."""
    from slack_bolt.context.respond.async_respond import AsyncRespond

    from bot.access import Caller
    from bot.blocks.message import Message, section
    from bot.interactions import Reply
    from bot.slack.delivery import ReplyDelivery

    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    db.create_tables()
    clock = [time.time()]
    slack.now = lambda: clock[0]
    url = slack.new_response_url()
    clock[0] += 31 * 60
    delivery = ReplyDelivery(db, OutboxStore(db), Metrics(), backoff=0.01)
    await delivery.send(
        AsyncRespond(response_url=url), Caller("T0", "C0", "U0"), Reply(Message("late", [section("late")]))
    )
    await delivery.aclose()
    [kept] = OutboxStore(db).outbox_rows(["pending"])
    assert kept.kind == "ephemeral" and kept.text == "late"
    db.dispose()


async def test_an_idle_sender_polls_slowly_and_sends_a_row_added_here_at_once(slack: FakeSlack, tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    db.create_tables()
    now = [time.time() + 60]
    one = sender(db, slack, "replica-1", clock=lambda: now[0])
    claims = []
    claim_due = one.store.claim_due
    one.store.claim_due = lambda *a, **kw: claims.append(now[0]) or claim_due(*a, **kw)  # type: ignore[method-assign]
    OUTBOX_ADDED.clear()
    await one.send_due()
    for _ in range(7):  # the watch ticks 4 times a second; idle, the database is not asked each time
        now[0] += 0.25
        await one.send_due()
    assert len(claims) == 1
    enqueue(db, "C1", "added here")
    await one.send_due()
    assert posted(slack) == [("C1", "added here")]
    await one.send_due()  # the call after a send looks again, finds nothing, and goes quiet
    enqueue(db, "C2", "added by another replica")
    OUTBOX_ADDED.clear()  # what a row committed by another process looks like from here
    now[0] += 0.25
    await one.send_due()
    assert posted(slack) == [("C1", "added here")]
    now[0] += IDLE_POLL
    await one.send_due()
    assert posted(slack)[-1] == ("C2", "added by another replica")
    db.dispose()
