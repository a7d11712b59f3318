"""What the bot answers to a slash command, a click or a form, with no Slack transport in it: one
module per surface (`commands`, `confirmations`, `buttons`, `modals`, `home`), sharing `replies`.

It ties the command service to the confirmation store, the audit log and the metrics, and returns
the replies to send; `bot/slack/` only acks, calls in here and sends what comes back.
"""

from __future__ import annotations

from bot.access import Caller
from bot.alerts.announce import Announcer
from bot.auditing import AuditChannel
from bot.interactions.approvals import ApprovalReplies
from bot.interactions.buttons import ButtonReplies
from bot.interactions.commands import TEST_CHECKS, CommandReplies
from bot.interactions.confirmations import ConfirmationReplies
from bot.interactions.home import HomeReplies
from bot.interactions.modals import FormReplies
from bot.interactions.replies import Reply, Shared
from bot.metrics import Metrics
from bot.service import CommandService
from bot.store import AuditLog, ConfirmationStore
from bot.store.alerts import AlertStore
from bot.store.approvals import ApprovalStore
from bot.store.inventory import InventoryStore

__all__ = ["Interactions", "Reply"]


class Interactions:
    """Each surface, built once over what they share."""

    def __init__(
        self,
        service: CommandService,
        confirmations: ConfirmationStore,
        audit: AuditLog,
        metrics: Metrics,
        quay_url: str,
        alerts: AlertStore | None = None,
        announcer: Announcer | None = None,
        *,
        test_checks: tuple[float, ...] = TEST_CHECKS,
        approvals: ApprovalStore | None = None,
        audit_channel: AuditChannel | None = None,
    ) -> None:
        self.service = service
        self.confirmations = confirmations
        self.audit = audit
        self.alerts = alerts
        self.shared = Shared(service, audit, metrics, quay_url, audit_channel)
        inventory = InventoryStore(alerts.db) if alerts is not None else None
        self.commands = CommandReplies(self.shared, confirmations, inventory, announcer, test_checks)
        self.approving = ApprovalReplies(self.shared, approvals) if approvals is not None else None
        self.confirming = ConfirmationReplies(self.shared, confirmations, self.approving)
        self.buttons = ButtonReplies(self.shared, self.commands, alerts)
        self.forms = FormReplies(self.shared)
        self.home = HomeReplies(self.shared, self.buttons, alerts)

    @property
    def test_checks(self) -> tuple[float, ...]:
        """When `notify test` looks at the failure count after the test (tests shorten them)."""
        return self.commands.test_checks

    @test_checks.setter
    def test_checks(self, checks: tuple[float, ...]) -> None:
        self.commands.test_checks = checks

    def locale_of(self, caller: Caller) -> str:
        """The language of the caller's channel."""
        return self.shared.locale_of(caller)
