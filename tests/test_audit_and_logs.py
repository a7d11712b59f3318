"""The audit log (`quaybot audit`) and the logging that must never carry a secret."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from bot.access import Caller
from bot.cli import main, parse_duration
from bot.logs import JsonFormatter, SecretFilter
from bot.store import AuditLog, Database


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com")
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return url


async def test_audit_command_prints_recent_rows(db_url, capsys):
    db = Database(db_url)
    db.create_tables()
    clock = iter([time.time() - 3 * 86400, time.time() - 60, time.time() - 30])
    audit = AuditLog(db, clock=lambda: next(clock))
    caller = Caller("T0", "C0ADMIN", "U0ALICE")
    await audit.record(
        caller, "repo delete team-a/old", "confirmed_succeeded", namespace="team-a", repository="team-a/old"
    )
    await audit.record(
        caller,
        "repo create team-a/new --private",
        "failed",
        namespace="team-a",
        repository="team-a/new",
        quay_status=403,
        detail="Quay refused: the token may not create repositories in team-a.",
    )
    await audit.record(  # typed in Slack: a row of its own must not be faked, nor the terminal driven
        caller, "repo describe team-a/x 'a\n2026-01-01 00:00:00Z C0 U0 succeeded: \x1b[2J'", "failed"
    )
    db.dispose()
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert (
        "C0ADMIN U0ALICE failed (Quay 403): /quay repo create team-a/new --private\n"
        "    Quay refused: the token may not create repositories in team-a.\n"
    ) in out
    assert "team-a/old" not in out  # three days ago is outside --since 24h
    assert "\x1b" not in out and "'a\\n2026-01-01 00:00:00Z C0 U0 succeeded: \\x1b[2J'" in out
    assert len(out.splitlines()) == 3
    assert main(["audit", "--since", "7d", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["outcome"] for r in rows] == ["confirmed_succeeded", "failed", "failed"] and rows[1]["quay_status"] == 403


def test_since_parsing():
    assert parse_duration("30m") == 1800 and parse_duration("7d") == 7 * 86400
    with pytest.raises(ValueError, match="--since takes"):
        parse_duration("yesterday")


def test_secret_filter_scrubs_messages_extras_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter(["xoxb-super-secret", "quay-token-123"]))
    logger = logging.getLogger("test.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token %s leaked", "xoxb-super-secret", extra={"header": "Bearer quay-token-123"})
        try:
            raise RuntimeError("boom with quay-token-123")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "xoxb-super-secret" not in text and "quay-token-123" not in text
    first = json.loads(text.splitlines()[0])
    assert first["message"] == "token **** leaked" and first["header"] == "Bearer ****" and first["level"] == "warning"
