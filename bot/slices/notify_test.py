"""`/quay notify test <ns>/<name> <uuid>`: Quay only queues a test, and silently drops one for a
notification it disabled, so the bot refuses and offers a reset instead. Its target is checked by
the egress policy first: a test fires it on demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from bot.access import Role
from bot.alerts.hints import WatchSoon
from bot.blocks.context import RenderContext
from bot.blocks.ids import RESET_ACTION, reset_value
from bot.blocks.message import Message, actions, button, code, plain, section
from bot.commands.grammar import Arg, Bound, Definition, ParseContext, notification_uuid, repository
from bot.i18n import t
from bot.outcomes import Succeeded
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef
from bot.quay.worker import QUAY, what_quay_does_next
from bot.slices.notify_get import NotificationShown, NotifyGet
from bot.slices.spec import CommandSpec, Later, Run


@dataclass(frozen=True)
class NotifyTest:
    repo: RepositoryRef
    uuid: str
    command_name: ClassVar[str] = "notify test"


@dataclass(frozen=True)
class NotificationTestQueued:
    """Quay only queues a test; `sent` is False when the notification was disabled, because Quay
    would have dropped it. `before` is the notification as it was."""

    repo: RepositoryRef
    before: Notification
    sent: bool


def build(bound: Bound, context: ParseContext) -> NotifyTest:
    return NotifyTest(repository(bound.args[0], context), notification_uuid(bound.args[1]))


async def run(command: NotifyTest, ctx: Run) -> NotificationTestQueued:
    before = await ctx.quay.get_notification(command.repo, command.uuid)
    await ctx.egress.check_notification(before.method, before.config)
    if before.disabled:
        # Quay would accept the test and then silently drop it.
        return NotificationTestQueued(command.repo, before, sent=False)
    await ctx.quay.test_notification(command.repo, command.uuid, known=before)
    return NotificationTestQueued(command.repo, before, sent=True)


def watch(result: NotificationTestQueued, now: float) -> WatchSoon | None:
    """Read when Quay's worker has had its chance to deliver the test, as after a push."""
    if not result.sent:
        return None
    return WatchSoon(result.repo.namespace, result.repo.name, now + QUAY.after_event()[0], now)


def later(queued: NotificationTestQueued, ctx: Later) -> Callable[[], Awaitable[Message]] | None:
    """Once Quay's worker has had its chance: did the test fail? (Quay records only failures.)"""
    if not queued.sent:
        return None
    before = queued.before

    async def follow_up() -> Message:
        started = time.monotonic()
        locale = ctx.locale
        where = t(locale, "{uuid} on {repo}", uuid=f"`{before.uuid}`", repo=f"`{queued.repo}`")
        for check in ctx.checks:
            await asyncio.sleep(max(0.0, started + check - time.monotonic()))
            outcome = await ctx.handle(NotifyGet(queued.repo, before.uuid))
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
        waited = round(ctx.checks[-1]) if ctx.checks else 0
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


def render(result: NotificationTestQueued, ctx: RenderContext) -> Message:
    repo, before = result.repo, result.before
    if not result.sent:
        text = ctx.t(
            ":warning: Not sent: notification {uuid} on {repo} is *disabled by Quay after {count} failures*, and "
            "Quay silently drops tests of disabled notifications. Reset it first, then test again.",
            uuid=code(before.uuid),
            repo=code(repo.full_name),
            count=before.number_of_failures,
        )
        return Message(
            ctx.t("Not sent: notification {uuid} on {repo} is disabled; reset it first.", uuid=before.uuid, repo=repo),
            [
                section(text),
                actions(button(ctx.t("Reset failures"), RESET_ACTION, reset_value(repo, before.uuid), style="primary")),
            ],
        )
    text = ctx.t(
        ":hourglass_flowing_sand: Test queued for {uuid} on {repo}. Quay only queues it: its worker delivers it "
        "within about 10 seconds. A success sets the failure count to 0, a failure adds 1. Check with {command}.",
        uuid=code(before.uuid),
        repo=code(repo.full_name),
        command=f"`/quay notify get {repo} {before.uuid}`",
    )
    return Message(
        ctx.t("Test queued for notification {uuid} on {repo}.", uuid=before.uuid, repo=repo), [section(text)]
    )


SPEC = CommandSpec(
    command=NotifyTest,
    definition=Definition(
        "notify", "test", "queue a test delivery", Role.WRITE, build, (Arg("repo"), Arg("uuid")), topic="notify"
    ),
    words=lambda command, masked: [str(command.repo), command.uuid],
    run=run,
    render=render,
    results=(NotificationTestQueued,),
    watch=watch,
    later=later,
)
