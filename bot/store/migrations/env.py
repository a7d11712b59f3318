"""Alembic's environment: run on the connection `bot.store.migrate` hands over, never from a URL here."""

from __future__ import annotations

from alembic import context

from bot.store import tables  # noqa: F401  (registers the tables on Base.metadata)
from bot.store.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
