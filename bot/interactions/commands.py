"""The slash command's surface (and a button or form that stands for a command): parse, run,
confirm first when the command asks to, audit, and what the failure watch should hear of it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from bot.access import Caller
from bot.alerts.announce import Announcer
from bot.alerts.schedule import QUAY, what_quay_does_next
from bot.blocks.message import Message, plain
from bot.commands.model import Command, UsageError
from bot.i18n import t
from bot.interactions.replies import Reply, Shared
from bot.outcomes import ConfirmationNeeded, Succeeded
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.slices import render
from bot.slices.notify_get import NotificationShown, NotifyGet
from bot.slices.notify_test import NotificationTestQueued
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
            result = outcome.result
            if isinstance(result, NotificationTestQueued) and result.sent:
                follow_up = self._test_follow_up(result, caller)
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

    def _test_follow_up(self, queued: NotificationTestQueued, caller: Caller) -> Callable[[], Awaitable[Message]]:
        """Once Quay's worker has had its chance: did the test fail? (Quay records only failures.)"""
        before = queued.before
        service = self.shared.service

        async def follow_up() -> Message:
            started = time.monotonic()
            locale = self.shared.locale_of(caller)
            where = t(locale, "{uuid} on {repo}", uuid=f"`{before.uuid}`", repo=f"`{queued.repo}`")
            for check in self.test_checks:
                await asyncio.sleep(max(0.0, started + check - time.monotonic()))
                outcome = await service.handle(NotifyGet(queued.repo, before.uuid), caller)
                if not (isinstance(outcome, Succeeded) and isinstance(outcome.result, NotificationShown)):
                    return plain(
                        t(
                            locale,
                            "Could not read the notification {where} after its test, so its result is unknown.",
                            where=where,
                        )
                    )
                failures = outcome.result.notification.number_of_failures
                if failures > before.number_of_failures:
                    counted = t(
                        locale,
                        ":warning: Quay counted a failure ({count} of {limit}) for the test of {where}.",
                        count=failures,
                        limit=FAILURES_BEFORE_DISABLED,
                        where=where,
                    )
                    return plain(f"{counted} {what_quay_does_next(failures, locale)}")
                if failures < before.number_of_failures:
                    return plain(
                        t(
                            locale,
                            ":white_check_mark: The test of {where} was delivered: Quay reset its failures to 0.",
                            where=where,
                        )
                    )
            waited = round(self.test_checks[-1]) if self.test_checks else 0
            return plain(
                t(
                    locale,
                    "No failure counted within {seconds} s of the test of {where}. Quay records only failures, "
                    "not deliveries: check that the receiver got it.",
                    seconds=waited,
                    where=where,
                )
            )

        return follow_up
