"""What every surface of the interactions shares: the reply type, and the reading of a caller's
channel (its language, its role, for the renderer), the metrics and the audit of each outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.access import Caller
from bot.auditing import AuditChannel, CommandAudit
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, plain
from bot.commands.model import Command
from bot.i18n import t
from bot.metrics import Metrics
from bot.outcomes import ConfirmationNeeded, Failed, Outcome, Refused, Succeeded
from bot.service import CommandService
from bot.store import AuditLog


@dataclass(frozen=True)
class Reply:
    message: Message
    replace_original: bool = False
    # Sent later, through the same channel as this reply (the `notify test` follow-up).
    follow_up: Callable[[], Awaitable[Message | None]] | None = field(default=None, compare=False)


class Shared:
    """The command service and what each reply is rendered, counted and audited with."""

    def __init__(
        self,
        service: CommandService,
        audit: AuditLog,
        metrics: Metrics,
        quay_url: str,
        audit_channel: AuditChannel | None = None,
    ) -> None:
        self.service = service
        self.audit = audit
        self.auditing = CommandAudit(audit, service.registry, audit_channel)
        self.metrics = metrics
        self.quay_url = quay_url

    def locale_of(self, caller: Caller) -> str:
        """The language of the caller's channel."""
        return self.service.policy.locale_of(caller.channel_id)

    def ctx(self, caller: Caller, confirmation_id: str | None = None) -> RenderContext:
        access = self.service.policy.channel(caller.channel_id)
        return RenderContext(
            quay_url=self.quay_url,
            user_id=caller.user_id,
            confirmation_id=confirmation_id,
            role=access.role if access is not None else None,
            locale=self.service.policy.locale_of(caller.channel_id),
        )

    def count(self, command: Command, outcome: Outcome) -> None:
        kind = {
            Succeeded: "succeeded",
            Failed: "failed",
            Refused: "refused",
            ConfirmationNeeded: "confirmation_needed",
        }.get(type(outcome), "other")
        self.metrics.commands.labels(command.command_name, kind).inc()
        if isinstance(outcome, Refused):
            self.metrics.denials.labels(command.command_name).inc()


def malformed(locale: str = "en") -> Reply:
    return Reply(plain(t(locale, ":x: This button is malformed; use `/quay notify …` instead.")))
