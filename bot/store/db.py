"""The database: SQLAlchemy, SQLite by default, PostgreSQL by URL.

Calls are short and few, so the synchronous engine runs in worker threads rather than pulling in
async drivers (aiosqlite, psycopg's async mode): the same code runs on SQLite and PostgreSQL, and
tests can drive it without an event loop. The threads are the database's own, as many as its
connection pool, and every wait has a bound: connecting, a statement, a lock, a pool checkout. So a
database that hangs makes calls fail within seconds ("the database is not answering") instead of
taking every thread of the process with it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")
log = logging.getLogger(__name__)
POOL_SIZE = 8  # connections, and threads to use them
WAIT_SECONDS = 5  # connecting, a pool checkout, SQLite's busy wait
STATEMENT_MS = 10_000  # PostgreSQL: no statement runs longer
LOCK_MS = 3_000  # PostgreSQL: no lock is waited for longer


class Base(DeclarativeBase):
    pass


class DatabaseUnusable(Exception):
    """The database cannot be reached, or its schema cannot be brought up to date. The message names
    the database (never its password) and what went wrong, in one line."""


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.executor = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="quaybot-db")

    def create_tables(self) -> None:
        """Create or upgrade the schema (Alembic revisions, under a lock)."""
        from alembic.util import CommandError

        from bot.store import migrate

        try:
            migrate.upgrade(self.engine)
        except SQLAlchemyError as error:
            raise self._unusable(error) from error
        except CommandError as error:  # typically a revision this quaybot does not have
            raise DatabaseUnusable(
                f"the schema of {self!r} cannot be upgraded ({error}); a newer quaybot may have migrated it"
            ) from error

    def revision(self) -> str | None:
        """The schema's revision (None: no tables yet)."""
        from bot.store import migrate

        try:
            return migrate.current(self.engine)
        except SQLAlchemyError as error:
            raise self._unusable(error) from error

    def _unusable(self, error: SQLAlchemyError) -> DatabaseUnusable:
        cause = getattr(error, "orig", None) or error
        lines = str(cause).strip().splitlines()
        return DatabaseUnusable(f"{self!r} is not usable: {type(cause).__name__}: {lines[0] if lines else ''}")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def session(self) -> Session:
        return self.sessions()

    async def run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    def dispose(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()

    @property
    def shown_url(self) -> str:
        """The URL with its password masked, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Database({self.shown_url!r})"


def wait_until_it_answers(url: str, within: float, stop: threading.Event, *, first_delay: float = 1.0) -> bool:
    """Ping the database until it answers (True) or `stop` is set (False), waiting longer between
    tries (up to 15 s), one warning a try. `DatabaseUnusable` once `within` seconds have gone by
    without an answer. For a bot started beside its PostgreSQL: without the wait it would exit and
    leave its restart to the platform's growing back-off. A SQLite file is not waited for: nothing
    starts it later, and a path it cannot open is a mistake to say at once."""
    database = Database(url)
    deadline = time.monotonic() + (0 if database.engine.dialect.name == "sqlite" else within)
    delay = first_delay
    try:
        while True:
            try:
                database.ping()
                return True
            except SQLAlchemyError as error:
                problem = database._unusable(error)
            left = deadline - time.monotonic()
            if left <= 0:
                raise problem
            pause = min(delay, left)
            log.warning(
                f"the database does not answer yet; trying again in {pause:.3g} s",
                extra={"error": str(problem), "gives_up_in_seconds": round(left)},
            )
            if stop.wait(pause):
                return False
            delay = min(delay * 2, 15.0)
    finally:
        database.dispose()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": WAIT_SECONDS, "check_same_thread": False},
            pool_size=POOL_SIZE,
            pool_timeout=WAIT_SECONDS,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: object, _record: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute(f"PRAGMA busy_timeout={WAIT_SECONDS * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash of the bot loses nothing
            cursor.close()

        return engine
    connect_args = {}
    if url.startswith("postgresql"):
        connect_args = {
            "connect_timeout": WAIT_SECONDS,
            "options": f"-c statement_timeout={STATEMENT_MS} -c lock_timeout={LOCK_MS}",
        }
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=WAIT_SECONDS,
        connect_args=connect_args,
    )
