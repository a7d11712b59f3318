"""Two people for the dangerous ones (StackStorm's inquiry, as a Slack message): a command a channel
lists under `approval:` runs only once its requester has confirmed it and another member allowed to
run it has approved. The requester may withdraw; the request expires. It runs once, as the approver
(with their own Quay account where the channel acts as each person)."""

from __future__ import annotations

import dataclasses
import logging

from bot.access import Caller, Denied
from bot.blocks.message import code, plain
from bot.blocks.people import render_approval_request
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.i18n import t
from bot.interactions.replies import Reply, Shared
from bot.outcomes import ConfirmationNeeded, Refused, Succeeded
from bot.slices import render
from bot.store.approvals import ApprovalStore, Decision, PendingApproval, Undecided

log = logging.getLogger(__name__)


class ApprovalReplies:
    def __init__(self, shared: Shared, approvals: ApprovalStore) -> None:
        self.shared = shared
        self.approvals = approvals

    async def request(self, preview: ConfirmationNeeded, requester: Caller, stored: str) -> list[Reply]:
        """The requester confirmed: the request goes to the channel, with the facts they saw."""
        shared = self.shared
        approval = await self.approvals.create(requester, stored)
        await shared.auditing.event(requester, preview.command, "approval_requested")
        shared.metrics.confirmations.labels("approval_requested").inc()
        ctx = shared.ctx(requester)
        question, facts = shared.service.registry.confirmation(preview, ctx.locale)
        ctx = dataclasses.replace(ctx, approval_ttl=self.approvals.ttl)
        sent = t(
            ctx.locale,
            ":hourglass_flowing_sand: Asked the channel for a second person's approval; nothing is done until then.",
        )
        return [
            Reply(plain(sent), replace_original=True),
            Reply(render_approval_request(question, facts, requester.user_id, approval.id, ctx)),
        ]

    async def approve(self, approval_id: str, caller: Caller) -> list[Reply]:
        shared, locale = self.shared, self.shared.locale_of(caller)
        found = await self._checked(approval_id, caller)
        if isinstance(found, Reply):
            return [found]
        approval, command = found
        blocked = await shared.service.cannot_act(command, caller)  # before the request is used up
        if blocked is not None:
            return [Reply(render(blocked, shared.ctx(caller)))]
        decided = await self.approvals.decide(approval_id, caller.user_id, "running")
        if isinstance(decided, Undecided):
            return [_undecided(decided, locale)]
        outcome = await shared.service.handle(command, caller, confirmed=True)
        shared.count(command, outcome)
        state = {Succeeded: "done", Refused: "refused"}.get(type(outcome), "failed")
        message = render(outcome, shared.ctx(caller))
        try:
            await self.approvals.finish(approval_id, state, message.text)
        except Exception:
            log.exception("could not record the end of an approved command")
        await shared.auditing.event(caller, command, "approved", detail=f"requested by {approval.requester_id}")
        await shared.auditing.outcome(caller, command, outcome, confirmed=True)
        said = t(
            locale,
            ":white_check_mark: {approver} approved what {requester} asked for:",
            approver=f"<@{caller.user_id}>",
            requester=f"<@{approval.requester_id}>",
        )
        return [Reply(plain(f"{said} {message.text}", in_channel=True), replace_original=True), Reply(message)]

    async def reject(self, approval_id: str, caller: Caller) -> list[Reply]:
        found = await self._checked(approval_id, caller)
        if isinstance(found, Reply):
            return [found]
        said = t(
            self.shared.locale_of(caller), ":no_entry_sign: {who} rejected this: nothing was done.", who=_who(caller)
        )
        return await self._close(found, caller, "rejected", said)

    async def withdraw(self, approval_id: str, caller: Caller) -> list[Reply]:
        locale = self.shared.locale_of(caller)
        approval = await self.approvals.get(approval_id)
        if approval is None or approval.channel_id != caller.channel_id:
            return [_unknown(locale)]
        if approval.requester_id != caller.user_id:
            return [
                Reply(
                    plain(
                        t(locale, "Only {who}, who asked for it, can withdraw it.", who=f"<@{approval.requester_id}>")
                    )
                )
            ]
        command = self._parse(approval)
        if command is None:
            return [_unknown(locale)]
        said = t(locale, ":leftwards_arrow_with_hook: {who} withdrew this: nothing was done.", who=_who(caller))
        return await self._close((approval, command), caller, "withdrawn", said)

    async def _close(
        self, found: tuple[PendingApproval, Command], caller: Caller, state: Decision, said: str
    ) -> list[Reply]:
        approval, command = found
        locale = self.shared.locale_of(caller)
        decided = await self.approvals.decide(approval.id, caller.user_id, state)
        if isinstance(decided, Undecided):
            return [_undecided(decided, locale)]
        await self.shared.auditing.event(caller, command, state, detail=f"requested by {approval.requester_id}")
        text = f"{said} ({code('/quay ' + approval.command)})"
        return [Reply(plain(text, in_channel=True), replace_original=True)]

    async def _checked(self, approval_id: str, caller: Caller) -> tuple[PendingApproval, Command] | Reply:
        """The request, if `caller` may decide it: another member than the requester, allowed to run it."""
        shared, locale = self.shared, self.shared.locale_of(caller)
        approval = await self.approvals.get(approval_id)
        if approval is None or approval.channel_id != caller.channel_id or approval.team_id != caller.team_id:
            return _unknown(locale)
        if approval.state != "pending":
            return _undecided(Undecided("used", approval), locale)
        if approval.requester_id == caller.user_id:
            return Reply(
                plain(
                    t(
                        locale,
                        ":no_entry: You asked for this, so another member must approve or reject it "
                        "(you can withdraw it).",
                    )
                )
            )
        command = self._parse(approval)
        if command is None:
            return _unknown(locale)
        # The policy only (no Quay, no link): approving also needs a linked account (`approve`).
        decision = shared.service.authorize(command, caller)
        if isinstance(decision, Denied):
            said = t(locale, "You may not decide this, since you could not run it here:")
            return Reply(plain(f":no_entry: {said} {decision.reason}"))
        return approval, command

    def _parse(self, approval: PendingApproval) -> Command | None:
        command = self.shared.service.registry.parse(approval.command, ParseContext())
        return None if isinstance(command, UsageError) else command


def _who(caller: Caller) -> str:
    return f"<@{caller.user_id}>"


def _unknown(locale: str) -> Reply:
    return Reply(plain(t(locale, ":x: This approval request is unknown here: nothing was done.")))


def _undecided(refusal: Undecided, locale: str) -> Reply:
    approval = refusal.approval
    if refusal.why == "expired":
        return Reply(
            plain(t(locale, ":hourglass: This approval request expired: nothing was done. Ask again if needed.")),
            replace_original=True,
        )
    if approval is not None and approval.state == "running":
        return Reply(plain(t(locale, "This request is being carried out right now; nothing more was done.")))
    state = approval.state if approval is not None else "unknown"
    return Reply(
        plain(t(locale, "This request was already decided ({state}); nothing more was done.", state=t(locale, state)))
    )
