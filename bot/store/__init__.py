"""Persistence: confirmations, the audit log (and the alert state of the failure watcher)."""

from bot.store.audit import AuditLog, AuditRecord
from bot.store.confirmations import Claimed, ConfirmationStore, NotClaimed, Pending
from bot.store.db import Database, DatabaseUnusable

__all__ = [
    "AuditLog",
    "AuditRecord",
    "Claimed",
    "ConfirmationStore",
    "Database",
    "DatabaseUnusable",
    "NotClaimed",
    "Pending",
]
