"""Which command outcomes go into the audit log, and how: every change attempted, whatever came of
it, with secrets masked. Used by Slack interactions and by `quaybot run` alike."""

from __future__ import annotations

import logging

from bot.access import Caller
from bot.commands.model import Command
from bot.outcomes import Failed, Outcome, Refused, Succeeded
from bot.quay.errors import QuayAPIError, QuayRateLimited
from bot.slices import REGISTRY, Registry
from bot.store import AuditLog

log = logging.getLogger(__name__)


class CommandAudit:
    def __init__(self, audit: AuditLog, registry: Registry = REGISTRY) -> None:
        self.log = audit
        self.registry = registry

    async def outcome(self, caller: Caller, command: Command, outcome: Outcome, *, confirmed: bool = False) -> None:
        if not self.registry.spec_for(command).changes:
            return
        prefix = "confirmed_" if confirmed else ""
        match outcome:
            case Succeeded():
                await self.event(caller, command, prefix + "succeeded")
            case Failed(error=error):
                status = error.status if isinstance(error, QuayAPIError) else None
                if isinstance(error, QuayRateLimited):
                    status = 429
                await self.event(caller, command, prefix + "failed", quay_status=status, detail=error.message)
            case Refused():
                await self.event(caller, command, prefix + "refused", detail=outcome.reason)

    async def event(
        self,
        caller: Caller,
        command: Command,
        outcome: str,
        *,
        quay_status: int | None = None,
        detail: str | None = None,
    ) -> None:
        spec = self.registry.spec_for(command)
        try:
            await self.log.record(
                caller,
                self.registry.text(command, masked=True),
                outcome,
                namespace=spec.namespace(command),
                repository=spec.subject(command),
                quay_status=quay_status,
                detail=detail,
            )
        except Exception:
            # The change itself happened (or not) in Quay; a lost audit row must be visible in logs.
            log.exception("could not write the audit row", extra={"command": command.command_name})
