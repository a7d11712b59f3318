"""Schema migrations: the revisions build exactly the tables the code declares, and upgrading a
database that holds rows keeps every row, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bot.store import migrate
from bot.store.db import Base, Database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'quaybot.db'}"
    return request.getfixturevalue("postgres").create_database(f"mig_{uuid.uuid4().hex[:12]}")


def test_head_matches_the_declared_tables(database_url):
    db = Database(database_url)
    db.create_tables()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert migrate.current(db.engine) == migrate.head()
    db.dispose()


ROWS_AT_0001 = [
    "INSERT INTO confirmations VALUES ('c1', 'T1', 'C1', 'U1', 'repo delete team-a/old', 1, 601, 'pending', NULL, NULL, NULL)",
    "INSERT INTO audit_log (at, team_id, channel_id, user_id, command, outcome) VALUES (5, 'T1', 'C1', 'U1', 'repo create team-a/x', 'succeeded')",
    "INSERT INTO alerts (channel_id, notification_uuid, namespace, repository, state, failures, parent_item_id, event, method, target, updated_at) "
    "VALUES ('C1', 'uuid-1', 'team-a', 'api', 'failing', 1, 1, 'repo_push', 'webhook', 'https://hooks.example.com', 9)",
    "INSERT INTO outbox (channel_id, alert_id, kind, payload, created_at, next_attempt_at, attempts, state) "
    "VALUES ('C1', 1, 'alert', '{\"text\": \"hi\"}', 9, 9, 0, 'pending')",
    "INSERT INTO inventory VALUES ('team-a', 'api', true, 9, 8)",
    "INSERT INTO namespace_watch VALUES ('team-a', 8, NULL, NULL)",
    "INSERT INTO mutes VALUES ('C1', 'uuid-1', 99999, 'U1')",
    "INSERT INTO leases VALUES ('watcher', 'pod-1', 20)",
]


def test_upgrade_keeps_every_row(database_url):
    engine = create_engine(database_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        for statement in ROWS_AT_0001:
            connection.execute(text(statement))
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as connection:
        pending = connection.execute(text("SELECT state, claimed_by, payload FROM outbox")).one()
        assert tuple(pending) == ("pending", None, '{"text": "hi"}')
        inventory = connection.execute(
            text("SELECT has_notifications, last_modified, next_check_at FROM inventory WHERE name = 'api'")
        ).one()
        assert tuple(inventory) == (True, None, None)
        assert connection.execute(text("SELECT state FROM confirmations")).scalar_one() == "pending"
        assert connection.execute(text("SELECT failures FROM alerts")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1
        assert connection.execute(text("SELECT rotation_cursor FROM namespace_watch")).one() == (None,)
    # And the code works on the upgraded rows.
    from bot.store.outbox import OutboxStore

    store = OutboxStore(Database(database_url))
    [item] = store.claim_due(10, "replica-1", 60)
    assert item.payload == {"text": "hi"}
    # 0003's tables: a subscription, its webhook, and an event message on the upgraded database.
    from bot.store.subscriptions import SubscriptionStore

    subscriptions = SubscriptionStore(store.db)
    made = subscriptions.create("C1", "team-a", None, ["repo_push"], "h" * 64, "U1", 11)
    subscriptions.add_hook(made.id, "api", "repo_push", "uuid-9", 11)
    assert subscriptions.by_token_hash("h" * 64) == made and subscriptions.for_channel("C1") == [(made, 1)]
    assert subscriptions.post_event("C1", {"text": "pushed"}, 12) > item.id
    store.db.dispose()
    engine.dispose()


def test_downgrade_and_upgrade_again(database_url):
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO inventory (namespace, name, listed_at, last_modified) VALUES ('n', 'r', 1, 7)")
        )
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(migrate._config(connection), "0001")
    assert "last_modified" not in {c["name"] for c in inspect(engine).get_columns("inventory")}
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name, last_modified FROM inventory")).one() == ("r", None)
    engine.dispose()


def test_a_database_made_before_migrations_is_stamped_then_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # as `create_all` left it
        connection.execute(text(ROWS_AT_0001[4]))
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM inventory")).scalar_one() == 1
    engine.dispose()


def test_replicas_starting_together_upgrade_once(database_url):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            db = Database(database_url)
            db.create_tables()
            db.dispose()
        except BaseException as error:  # pragma: no cover - the failure is the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    engine = create_engine(database_url)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


def test_quaybot_db_upgrade_and_current(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUAY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["db", "current"]) == 0
    assert "revision none" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"revision {migrate.head()} (this quaybot expects {migrate.head()})" in capsys.readouterr().out
