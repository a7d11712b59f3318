"""The slash command's surface (and a button or form that stands for a command): parse, run,
confirm first when the command asks to, audit, and what the failure watch should hear of it."""

from __future__ import annotations

import logging
import time
from functools import partial

from bot.access import Caller
from bot.alerts.announce import Announcer
from bot.commands.model import Command, UsageError
from bot.interactions.replies import Reply, Shared
from bot.outcomes import ConfirmationNeeded, Succeeded
from bot.quay.worker import QUAY
from bot.slices import render
from bot.slices.spec import Later
from bot.store import ConfirmationStore
from bot.store.inventory import InventoryStore

log = logging.getLogger(__name__)
# After `notify test`: when to look at the failure count (Quay's worker ticks every 10 s, and a
# hanging target takes its 10 s timeout), and so how long "no failure" has been watched for.
TEST_CHECKS = (*QUAY.after_event(), 30.0)


class CommandReplies:
    def __init__(
        self,
        shared: Shared,
        confirmations: ConfirmationStore,
        inventory: InventoryStore | None,
        announcer: Announcer | None,
        test_checks: tuple[float, ...],
    ) -> None:
        self.shared = shared
        self.confirmations = confirmations
        self.inventory = inventory  # a change the bot made goes first in the watch's read schedule
        self.announcer = announcer
        self.test_checks = test_checks

    async def command(self, text: str, caller: Caller) -> list[Reply]:
        service = self.shared.service
        parsed = service.parse(text, caller)
        if isinstance(parsed, UsageError):
            unparsed = service.unparsed(parsed, caller)
            self.shared.metrics.commands.labels("unparsed", "usage" if unparsed.refusal is None else "refused").inc()
            return [Reply(render(unparsed, self.shared.ctx(caller)))]
        return await self.run(parsed, caller)

    async def run(self, parsed: Command, caller: Caller) -> list[Reply]:
        """A parsed command, from the slash command or from a button standing for one."""
        shared = self.shared
        outcome = await shared.service.handle(parsed, caller)
        shared.count(parsed, outcome)
        if isinstance(outcome, ConfirmationNeeded):
            stored = shared.service.registry.text(outcome.command, masked=False)
            pending = await self.confirmations.create(caller, stored)
            shared.metrics.confirmations.labels("requested").inc()
            await shared.auditing.event(caller, parsed, "confirmation_requested")
            return [Reply(render(outcome, shared.ctx(caller, confirmation_id=pending.id)))]
        await shared.auditing.outcome(caller, parsed, outcome)
        follow_up = None
        if isinstance(outcome, Succeeded):
            await self.after_change(outcome, caller)
            later = shared.service.registry.spec_for(parsed).later
            if later is not None:
                handle = partial(shared.service.handle, caller=caller)
                follow_up = later(outcome.result, Later(handle, shared.locale_of(caller), self.test_checks))
        return [Reply(render(outcome, shared.ctx(caller)), follow_up=follow_up)]

    async def after_change(self, outcome: Succeeded, caller: Caller) -> None:
        """What the bot changes itself is watched at once; a reset is said on its open alerts."""
        now = time.time()
        try:
            soon = self.shared.service.registry.spec_for(outcome.command).watch(outcome.result, now)
            if soon is None:
                return
            if soon.reset is not None and self.announcer is not None:
                await self.announcer.note_reset(soon.reset, caller.user_id, now)
            if self.inventory is not None:
                inventory = self.inventory
                await inventory.db.run(
                    partial(inventory.watch_soon, soon.namespace, soon.repository, soon.at, now, event_at=soon.event_at)
                )
        except Exception:
            log.exception("could not record the change for the notification watch")
