"""Confirm and Cancel: a pending destructive command, claimed once, by its requester, before it
expires, and only if the access policy still allows it."""

from __future__ import annotations

import logging

from bot.access import Caller
from bot.blocks.message import plain
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.i18n import t
from bot.interactions.approvals import ApprovalReplies
from bot.interactions.replies import Reply, Shared
from bot.outcomes import ConfirmationNeeded, Refused, Succeeded
from bot.slices import render
from bot.store import Claimed, ConfirmationStore, NotClaimed
from bot.store.confirmations import INTERRUPTED

log = logging.getLogger(__name__)


class ConfirmationReplies:
    def __init__(
        self, shared: Shared, confirmations: ConfirmationStore, approvals: ApprovalReplies | None = None
    ) -> None:
        self.shared = shared
        self.confirmations = confirmations
        self.approvals = approvals

    async def _ask_approval(self, pending_id: str, command: Command, requester: Caller, stored: str) -> list[Reply]:
        """The channel wants a second person for this: read again what it would do (the requester may
        have lost the right meanwhile), then ask the channel."""
        assert self.approvals is not None
        shared = self.shared
        preview = await shared.service.handle(command, requester)
        if not isinstance(preview, ConfirmationNeeded):
            state = "refused" if isinstance(preview, Refused) else "failed"
            message = render(preview, shared.ctx(requester))
            await self.confirmations.finish(pending_id, state, message.text)
            return [Reply(message, replace_original=True)]
        await self.confirmations.finish(pending_id, "approval", "sent for approval")
        return await self.approvals.request(preview, requester, stored)

    async def confirm(self, confirmation_id: str, caller: Caller) -> list[Reply]:
        shared = self.shared
        claim = await self.confirmations.claim(confirmation_id, caller.user_id)
        if not isinstance(claim, Claimed):
            shared.metrics.confirmations.labels(f"refused_{claim.why}").inc()
            return [not_claimed(claim, shared.locale_of(caller))]
        pending = claim.pending
        # The policy is asked again now: the channel may have lost the role since the prompt.
        requester = Caller(pending.team_id, pending.channel_id, caller.user_id)
        command = shared.service.registry.parse(pending.command, ParseContext())
        if isinstance(command, UsageError):  # pragma: no cover - stored text is canonical
            await self.confirmations.finish(pending.id, "failed", command.message)
            text = t(shared.locale_of(caller), ":x: This confirmation cannot be run:") + f" {command.message}"
            return [Reply(plain(text), replace_original=True)]
        access = shared.service.policy.channel(pending.channel_id)
        if self.approvals is not None and access is not None and command.command_name in access.approval:
            return await self._ask_approval(pending.id, command, requester, pending.command)
        outcome = await shared.service.handle(command, requester, confirmed=True)
        shared.count(command, outcome)
        state = {Succeeded: "done", Refused: "refused"}.get(type(outcome), "failed")
        message = render(outcome, shared.ctx(requester))
        try:
            if not await self.confirmations.finish(pending.id, state, message.text):
                log.warning("a confirmation ended after it was reaped as interrupted", extra={"id": pending.id})
        except Exception:
            # What happened in Quay must still be told; the row stays "running" and is reaped later.
            log.exception("could not record the end of a confirmation")
        shared.metrics.confirmations.labels(state).inc()
        await shared.auditing.outcome(requester, command, outcome, confirmed=True)
        if isinstance(outcome, Succeeded):
            return [
                Reply(
                    plain(t(shared.locale_of(caller), ":white_check_mark: Confirmed:") + f" {message.text}"),
                    replace_original=True,
                ),
                Reply(message),
            ]
        return [Reply(message, replace_original=True)]

    async def cancel(self, confirmation_id: str, caller: Caller) -> list[Reply]:
        shared = self.shared
        claim = await self.confirmations.claim(confirmation_id, caller.user_id, to_state="cancelled")
        if not isinstance(claim, Claimed):
            return [not_claimed(claim, shared.locale_of(caller))]
        await self.confirmations.finish(
            confirmation_id, "cancelled", "cancelled by the requester", claimed_as="cancelled"
        )
        shared.metrics.confirmations.labels("cancelled").inc()
        command = shared.service.registry.parse(claim.pending.command, ParseContext())
        if not isinstance(command, UsageError):
            await shared.auditing.event(caller, command, "cancelled")
        text = t(shared.locale_of(caller), "Cancelled: nothing was done.") + f" (`/quay {claim.pending.command}`)"
        return [Reply(plain(text), replace_original=True)]


def not_claimed(refusal: NotClaimed, locale: str) -> Reply:
    """Why a click did nothing; prompts that can no longer be used lose their buttons."""
    pending = refusal.pending
    if refusal.why == "unknown" or pending is None:
        return Reply(plain(t(locale, ":x: This confirmation is unknown: nothing was done. Run the command again.")))
    if refusal.why == "not_requester":
        return Reply(
            plain(
                t(
                    locale,
                    ":no_entry: Only {who}, who asked for it, can confirm or cancel this.",
                    who=f"<@{pending.user_id}>",
                )
            )
        )
    if refusal.why == "expired":
        return Reply(
            plain(t(locale, ":hourglass: This confirmation expired: nothing was done. Run the command again.")),
            replace_original=True,
        )
    if pending.state == "running":
        return Reply(plain(t(locale, "This confirmation is being carried out right now; nothing more was done.")))
    if pending.state == "interrupted":
        # The stored text is the store's fixed sentence: said in this channel's language.
        return Reply(plain(f":warning: {t(locale, pending.result or INTERRUPTED)}"), replace_original=True)
    return Reply(
        plain(
            t(
                locale,
                "This confirmation was already used ({state}); nothing more was done.",
                state=t(locale, pending.state),
            )
        ),
        replace_original=True,
    )
