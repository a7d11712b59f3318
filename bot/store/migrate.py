"""Schema migrations (Alembic), run under a lock so that replicas starting together cannot race.

`quaybot serve` and `quaybot watch` upgrade the database at start; `quaybot db upgrade` does it alone
(for operators who run migrations as a separate step). A database made before migrations existed
(by `create_all`) holds today's first revision: it is stamped as such, then upgraded.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

log = logging.getLogger(__name__)
# Any constant: the key of PostgreSQL's advisory lock held while migrating ("quaybot" in ASCII).
ADVISORY_LOCK_KEY = 0x71756179626F74
FIRST_REVISION = "0001"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def known(revision: str) -> bool:
    """Whether this quaybot has `revision` (a newer one may have written a later one)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:  # "No such revision"
        return False


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; a no-op when it is there already."""
    with _lock_file(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A migration may take longer than the bot's everyday statement and lock bounds.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            # Held to the end of this transaction: a second replica waits, then finds nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        config = _config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "outbox" in tables:
            log.info("database made before migrations: marking it as revision %s", FIRST_REVISION)
            command.stamp(config, FIRST_REVISION)
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        if before != after:
            log.info("database schema upgraded", extra={"from_revision": before, "to_revision": after})


@contextlib.contextmanager
def _lock_file(engine: Engine) -> Iterator[None]:
    """SQLite has no advisory locks; replicas sharing a SQLite file share its directory, so a lock file
    beside it serializes their migrations."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(Path(database).with_name(Path(database).name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
