"""Fixes a review asked for: one capped Retry-After reading, an error tree where "the change may have
happened" is not "nothing happened", conditional confirmation writes, 429 in the audit log, secrets
scrubbed from every log field, and a reply that still goes out when Block Kit refuses it."""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.access import Caller
from bot.auditing import CommandAudit
from bot.blocks.message import Message, section
from bot.interactions import Reply
from bot.logs import JsonFormatter, SecretFilter
from bot.metrics import Metrics
from bot.outcomes import Failed
from bot.quay.errors import QuayOutcomeUnknown, QuayRateLimited, QuayUnavailable
from bot.quay.names import RepositoryRef
from bot.retry_after import CAP_SECONDS, retry_after_seconds
from bot.slack.delivery import ReplyDelivery
from bot.slices.repo_describe import RepoDescribe
from bot.store import AuditLog, ConfirmationStore, Database
from bot.store.outbox import OutboxStore
from tests.fakes.slack_api import FakeSlack

NOW = 1_795_777_900.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("1e9", CAP_SECONDS),
        ("inf", CAP_SECONDS),
        ("-inf", 0.0),
        ("nan", None),
        ("soon", None),
        (None, None),
        (format_datetime(datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(datetime.fromtimestamp(NOW, UTC) - timedelta(days=1), usegmt=True), 0.0),
        (format_datetime(datetime.fromtimestamp(NOW, UTC) + timedelta(days=30), usegmt=True), CAP_SECONDS),
    ],
)
def test_retry_after_never_sleeps_for_ever(value, seconds):
    assert retry_after_seconds(value, now=NOW) == seconds


def test_a_lost_write_is_not_a_kind_of_unavailable():
    # `except QuayUnavailable` ("nothing was done, try again") must not catch "it may have happened".
    assert not issubclass(QuayOutcomeUnknown, QuayUnavailable)


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'c.db'}")
    database.create_tables()
    yield database
    database.dispose()


async def test_a_reaped_confirmation_keeps_saying_interrupted(db):
    store = ConfirmationStore(db, ttl_seconds=600)
    caller = Caller("T0", "C0", "U0")
    pending = await store.create(caller, "repo delete team-a/old")
    await store.claim(pending.id, "U0")
    assert await store.reap_interrupted(time.time() + 1) == 1  # the bot is thought dead meanwhile
    assert await store.finish(pending.id, "done", "deleted") is False  # its late end does not overwrite
    row = await store.get(pending.id)
    assert row is not None and row.state == "interrupted"


async def test_an_expired_confirmation_is_refused_once(db):
    clock = [1000.0]
    store = ConfirmationStore(db, ttl_seconds=10, clock=lambda: clock[0])
    pending = await store.create(Caller("T0", "C0", "U0"), "repo delete team-a/old")
    clock[0] += 60
    first = await store.claim(pending.id, "U0")
    second = await store.claim(pending.id, "U0")
    assert first.why == "expired" and second.why == "used"  # type: ignore[union-attr]


async def test_rate_limited_is_audited_with_its_status(db):
    audit = AuditLog(db)
    command = RepoDescribe(RepositoryRef("team-a", "api"), "The API")
    failure = Failed(command, QuayRateLimited("Quay is rate limiting", retry_after=5))
    await CommandAudit(audit).outcome(Caller("T0", "C0", "U0"), command, failure)
    [record] = audit.since(0)
    assert record.quay_status == 429


def test_secrets_are_scrubbed_from_fields_that_are_not_strings():
    secret = "xoxb-very-secret-token-value"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter([secret]))
    logger = logging.getLogger("test.scrub")
    logger.addHandler(handler)
    try:
        logger.warning("failed", extra={"detail": {"token": secret}, "items": [secret], "count": 3})
    finally:
        logger.removeHandler(handler)
    assert secret not in stream.getvalue() and "****" in stream.getvalue() and '"count": 3' in stream.getvalue()


async def test_a_reply_block_kit_refuses_still_reaches_the_user(db):
    slack = FakeSlack().start()
    delivery = ReplyDelivery(db, OutboxStore(db), Metrics())
    try:
        url = slack.new_response_url()
        too_big = Message("Here is what you asked for.", [section(f"line {i}") for i in range(60)])
        await delivery.send(AsyncRespond(response_url=url), Caller("T0", "C0", "U0"), Reply(too_big))
        [call] = slack.wait_for("response")
        assert "Here is what you asked for." in call.text
    finally:
        await delivery.aclose()
        slack.stop()


async def test_an_expired_write_never_clobbers_a_claim_made_meanwhile(postgres):
    """Replicas whose clocks differ: one sees the confirmation expired and is about to say so, while
    the other (still within its time) claims it. The claim made in between must survive."""
    import uuid

    from sqlalchemy import create_engine, event, text

    url = postgres.create_database(f"race_{uuid.uuid4().hex[:12]}")
    db = Database(url)
    db.create_tables()
    other = create_engine(url)
    late = ConfirmationStore(db, ttl_seconds=30, clock=lambda: 1060.0)
    early = ConfirmationStore(db, ttl_seconds=30, clock=lambda: 1000.0)
    pending = await early.create(Caller("T0", "C0", "U0"), "repo delete team-a/old")

    def claim_meanwhile(conn, cursor, statement, parameters, context, executemany):
        if "SET state" in statement and "expired" in str(parameters):
            with other.begin() as connection:  # the other replica, on its own connection
                connection.execute(
                    text("UPDATE confirmations SET state = 'running' WHERE id = :id AND state = 'pending'"),
                    {"id": pending.id},
                )

    event.listen(db.engine, "before_cursor_execute", claim_meanwhile)
    refused = await late.claim(pending.id, "U0")
    event.remove(db.engine, "before_cursor_execute", claim_meanwhile)
    assert refused.why == "used"  # type: ignore[union-attr]
    row = await early.get(pending.id)
    assert row is not None and row.state == "running"
    other.dispose()
    db.dispose()


def test_a_namespace_warning_is_recorded_only_with_its_posts(db):
    """The warning is said once: recorded with its channel posts in one transaction. If the posts
    cannot be written, neither is the warning, so the next sweep says it again instead of never."""
    from bot.store.inventory import InventoryStore
    from bot.store.outbox import OutboxStore

    store, outbox = InventoryStore(db), OutboxStore(db)
    unwritable = {"text": object()}  # json.dumps refuses it
    with pytest.raises(TypeError):
        store.set_warning("team-a", "no repo:admin", 10.0, posts=[("C1", {"text": "fine"}), ("C2", unwritable)])
    assert store.namespace_state("team-a").warning is None and outbox.outbox_rows(["pending"]) == []
    assert store.set_warning("team-a", "no repo:admin", 11.0, posts=[("C1", {"text": "said"})])
    assert not store.set_warning("team-a", "no repo:admin", 12.0, posts=[("C1", {"text": "again"})])
    assert [row.text for row in outbox.outbox_rows(["pending"])] == ["said"]
