"""Which command outcomes go into the audit log, and how: every change attempted, whatever came of
it, with secrets masked. Used by Slack interactions and by `quaybot run` alike.

Where the access file names an `audit_channel`, each entry is also posted there through the outbox
(so a Slack outage loses none): who (in Slack and in Quay), where, what, and Quay's answer; and so
are links and unlinks of Quay accounts, and requests for an assignment."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.access import AccessPolicy, Caller
from bot.blocks.message import code, escape, section, truncate
from bot.blocks.render import plain_fallback
from bot.commands.model import Command
from bot.i18n import t
from bot.outcomes import Failed, Outcome, Refused, Succeeded
from bot.quay.errors import QuayAPIError, QuayRateLimited
from bot.slices import REGISTRY, Registry
from bot.store import AuditLog
from bot.store.outbox import OutboxStore

log = logging.getLogger(__name__)


class AuditChannel:
    """Posts audit lines to the access file's `audit_channel`, if it names one (read at each post:
    the file is reloaded while the bot runs)."""

    def __init__(self, policy: Callable[[], AccessPolicy], outbox: OutboxStore, clock: Callable[[], float] = time.time):
        self.policy = policy
        self.outbox = outbox
        self.clock = clock

    async def post(self, line: str) -> bool:
        channel = self.policy().audit_channel
        if channel is None:
            return False
        payload = {"text": plain_fallback(line), "blocks": [section(line).to_dict()]}
        await self.outbox.db.run(lambda: self.outbox.enqueue(channel, payload, self.clock()))
        return True

    def locale(self) -> str:
        policy = self.policy()
        return policy.locale_of(policy.audit_channel) if policy.audit_channel else "en"

    async def link_event(self, team_id: str, user_id: str, what: str, username: str) -> bool:
        """An `Identities` observer: a Quay account linked, unlinked, or asked to be assigned."""
        loc = self.locale()
        account = code(username)
        lines = {
            "linked": t(loc, ":link: {who} linked the Quay account {account}.", who=f"<@{user_id}>", account=account),
            "unlinked": t(
                loc, ":broken_chain: {who} unlinked the Quay account {account}.", who=f"<@{user_id}>", account=account
            ),
            "revoked": t(
                loc,
                ":broken_chain: Quay no longer accepts the token {who} linked for {account}; the link is forgotten.",
                who=f"<@{user_id}>",
                account=account,
            ),
            "unreadable": t(
                loc,
                ":broken_chain: The token {who} linked for {account} cannot be decrypted with QUAYBOT_SECRET_KEY; "
                "the link is forgotten.",
                who=f"<@{user_id}>",
                account=account,
            ),
            "assignment_requested": t(
                loc,
                ":raised_hand: {who} asks an admin of the OAuth application's organization to assign quaybot to "
                "the Quay user {account} (Quay: the organization's Applications, quaybot, Generate token, Assign "
                "another user).",
                who=f"<@{user_id}>",
                account=account,
            ),
        }
        return await self.post(lines.get(what, f"{what}: {account}"))


class CommandAudit:
    def __init__(self, audit: AuditLog, registry: Registry = REGISTRY, channel: AuditChannel | None = None) -> None:
        self.log = audit
        self.registry = registry
        self.channel = channel

    async def outcome(self, caller: Caller, command: Command, outcome: Outcome, *, confirmed: bool = False) -> None:
        if not self.registry.spec_for(command).changes:
            return
        prefix = "confirmed_" if confirmed else ""
        match outcome:
            case Succeeded():
                await self.event(caller, command, prefix + "succeeded", acting_as=outcome.acting_as)
            case Failed(error=error):
                status = error.status if isinstance(error, QuayAPIError) else None
                if isinstance(error, QuayRateLimited):
                    status = 429
                await self.event(
                    caller,
                    command,
                    prefix + "failed",
                    quay_status=status,
                    detail=error.message,
                    acting_as=outcome.acting_as,
                )
            case Refused():
                await self.event(
                    caller, command, prefix + "refused", detail=outcome.reason, acting_as=outcome.acting_as
                )

    async def event(
        self,
        caller: Caller,
        command: Command,
        outcome: str,
        *,
        quay_status: int | None = None,
        detail: str | None = None,
        acting_as: str | None = None,
    ) -> None:
        spec = self.registry.spec_for(command)
        if self.channel is not None and self.channel.policy().audit_channel is not None:
            try:
                await self._post(caller, command, outcome, quay_status, detail, acting_as)
            except Exception:
                log.exception("could not post to the audit channel", extra={"command": command.command_name})
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

    async def _post(
        self,
        caller: Caller,
        command: Command,
        outcome: str,
        quay_status: int | None,
        detail: str | None,
        acting_as: str | None,
    ) -> None:
        assert self.channel is not None
        loc = self.channel.locale()
        who = f"<@{caller.user_id}>"
        quay = (
            t(loc, "as the Quay user {account}", account=code(acting_as))
            if acting_as
            else t(loc, "with the bot's Quay token")
        )
        said = code("/quay " + self.registry.text(command, masked=True))
        answer = outcome.replace("_", " ")
        if quay_status is not None:
            answer += f" (Quay {quay_status})"
        if detail:
            answer += f": {escape(truncate(detail, 300))}"
        line = t(
            loc,
            ":memo: {who} in {channel}, {quay}: {command} → {answer}",
            who=who,
            channel=f"<#{caller.channel_id}>",
            quay=quay,
            command=said,
            answer=answer,
        )
        await self.channel.post(line)
