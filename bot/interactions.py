"""What the bot answers to a slash command or a button click, with no Slack transport in it.

It ties the command service to the confirmation store, the audit log and the metrics, and returns
the replies to send; `bot/slack/` only acks, calls in here and sends what comes back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from slack_sdk.models.views import View

from bot import forms
from bot.access import Caller, Denied, Role
from bot.alerts.announce import Announcer
from bot.alerts.schedule import QUAY, what_quay_does_next
from bot.auditing import CommandAudit
from bot.blocks import forms as form_views
from bot.blocks.context import RenderContext
from bot.blocks.home import render_home
from bot.blocks.ids import parse_reset_value
from bot.blocks.message import Message, plain
from bot.blocks.render import render_refusal
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.home import home_of, may_act_from
from bot.i18n import t
from bot.metrics import Metrics
from bot.outcomes import ConfirmationNeeded, Failed, Outcome, Refused, Succeeded
from bot.quay.catalogue import FAILURES_BEFORE_DISABLED
from bot.quay.models import Repository
from bot.quay.names import InvalidName, RepositoryRef, check_notification_uuid
from bot.service import CommandService
from bot.slices import render
from bot.slices.notify_delete import NotifyDelete
from bot.slices.notify_get import NotificationShown, NotifyGet
from bot.slices.notify_reset import NotifyReset
from bot.slices.notify_test import NotificationTestQueued, NotifyTest
from bot.slices.repo_list import parse_list_value
from bot.store import AuditLog, Claimed, ConfirmationStore, NotClaimed
from bot.store.alerts import AlertStore
from bot.store.confirmations import INTERRUPTED
from bot.store.inventory import InventoryStore

log = logging.getLogger(__name__)

MUTE_SECONDS = 24 * 3600
# After `notify test`: when to look at the failure count (Quay's worker ticks every 10 s, and a
# hanging target takes its 10 s timeout), and so how long "no failure" has been watched for.
TEST_CHECKS = (*QUAY.after_event(), 30.0)


@dataclass(frozen=True)
class Reply:
    message: Message
    replace_original: bool = False
    # Sent later, through the same channel as this reply (the `notify test` follow-up).
    follow_up: Callable[[], Awaitable[Message | None]] | None = field(default=None, compare=False)


class Interactions:
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
    ) -> None:
        self.alerts = alerts
        # A change the bot made goes first in the watch's read schedule.
        self.inventory = InventoryStore(alerts.db) if alerts is not None else None
        self.announcer = announcer
        self.test_checks = test_checks
        self.service = service
        self.confirmations = confirmations
        self.audit = audit
        self.auditing = CommandAudit(audit)
        self.metrics = metrics
        self.quay_url = quay_url

    # Slash command -----------------------------------------------------------------------------

    async def command(self, text: str, caller: Caller) -> list[Reply]:
        parsed = self.service.parse(text, caller)
        if isinstance(parsed, UsageError):
            unparsed = self.service.unparsed(parsed, caller)
            self.metrics.commands.labels("unparsed", "usage" if unparsed.refusal is None else "refused").inc()
            return [Reply(render(unparsed, self._ctx(caller)))]
        return await self.run(parsed, caller)

    async def run(self, parsed: Command, caller: Caller) -> list[Reply]:
        """A parsed command, from the slash command or from a button standing for one."""
        outcome = await self.service.handle(parsed, caller)
        self._count(parsed, outcome)
        if isinstance(outcome, ConfirmationNeeded):
            pending = await self.confirmations.create(caller, self.service.registry.text(outcome.command, masked=False))
            self.metrics.confirmations.labels("requested").inc()
            await self.auditing.event(caller, parsed, "confirmation_requested")
            return [Reply(render(outcome, self._ctx(caller, confirmation_id=pending.id)))]
        await self.auditing.outcome(caller, parsed, outcome)
        follow_up = None
        if isinstance(outcome, Succeeded):
            await self._after_change(outcome, caller)
            result = outcome.result
            if isinstance(result, NotificationTestQueued) and result.sent:
                follow_up = self._test_follow_up(result, caller)
        return [Reply(render(outcome, self._ctx(caller)), follow_up=follow_up)]

    async def _after_change(self, outcome: Succeeded, caller: Caller) -> None:
        """What the bot changes itself is watched at once; a reset is said on its open alerts."""
        now = time.time()
        try:
            soon = self.service.registry.spec_for(outcome.command).watch(outcome.result, now)
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

        async def follow_up() -> Message:
            started = time.monotonic()
            locale = self.locale_of(caller)
            where = t(locale, "{uuid} on {repo}", uuid=f"`{before.uuid}`", repo=f"`{queued.repo}`")
            for check in self.test_checks:
                await asyncio.sleep(max(0.0, started + check - time.monotonic()))
                outcome = await self.service.handle(NotifyGet(queued.repo, before.uuid), caller)
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

    # Buttons -----------------------------------------------------------------------------------

    async def confirm(self, confirmation_id: str, caller: Caller) -> list[Reply]:
        claim = await self.confirmations.claim(confirmation_id, caller.user_id)
        if not isinstance(claim, Claimed):
            self.metrics.confirmations.labels(f"refused_{claim.why}").inc()
            return [self._not_claimed(claim, self.locale_of(caller))]
        pending = claim.pending
        # The policy is asked again now: the channel may have lost the role since the prompt.
        requester = Caller(pending.team_id, pending.channel_id, caller.user_id)
        command = self.service.registry.parse(pending.command, ParseContext())
        if isinstance(command, UsageError):  # pragma: no cover - stored text is canonical
            await self.confirmations.finish(pending.id, "failed", command.message)
            text = t(self.locale_of(caller), ":x: This confirmation cannot be run:") + f" {command.message}"
            return [Reply(plain(text), replace_original=True)]
        outcome = await self.service.handle(command, requester, confirmed=True)
        self._count(command, outcome)
        state = {Succeeded: "done", Refused: "refused"}.get(type(outcome), "failed")
        message = render(outcome, self._ctx(requester))
        try:
            if not await self.confirmations.finish(pending.id, state, message.text):
                log.warning("a confirmation ended after it was reaped as interrupted", extra={"id": pending.id})
        except Exception:
            # What happened in Quay must still be told; the row stays "running" and is reaped later.
            log.exception("could not record the end of a confirmation")
        self.metrics.confirmations.labels(state).inc()
        await self.auditing.outcome(requester, command, outcome, confirmed=True)
        if isinstance(outcome, Succeeded):
            return [
                Reply(
                    plain(t(self.locale_of(caller), ":white_check_mark: Confirmed:") + f" {message.text}"),
                    replace_original=True,
                ),
                Reply(message),
            ]
        return [Reply(message, replace_original=True)]

    async def cancel(self, confirmation_id: str, caller: Caller) -> list[Reply]:
        claim = await self.confirmations.claim(confirmation_id, caller.user_id, to_state="cancelled")
        if not isinstance(claim, Claimed):
            return [self._not_claimed(claim, self.locale_of(caller))]
        await self.confirmations.finish(
            confirmation_id, "cancelled", "cancelled by the requester", claimed_as="cancelled"
        )
        self.metrics.confirmations.labels("cancelled").inc()
        command = self.service.registry.parse(claim.pending.command, ParseContext())
        if not isinstance(command, UsageError):
            await self.auditing.event(caller, command, "cancelled")
        text = t(self.locale_of(caller), "Cancelled: nothing was done.") + f" (`/quay {claim.pending.command}`)"
        return [Reply(plain(text), replace_original=True)]

    async def reset_button(self, value: str, caller: Caller) -> list[Reply]:
        """The "Reset failures" button: the same command, with the clicker's access checked."""
        target = _notification_button(value)
        return await self.run(NotifyReset(*target), caller) if target else [_malformed(self.locale_of(caller))]

    async def alert_test_button(self, value: str, caller: Caller) -> list[Reply]:
        target = _notification_button(value)
        return await self.run(NotifyTest(*target), caller) if target else [_malformed(self.locale_of(caller))]

    async def alert_delete_button(self, value: str, caller: Caller) -> list[Reply]:
        """Delete goes through the same confirmation as `/quay notify delete`."""
        target = _notification_button(value)
        return await self.run(NotifyDelete(*target), caller) if target else [_malformed(self.locale_of(caller))]

    async def list_page(self, value: str, caller: Caller) -> list[Reply]:
        """Previous/Next of a listing: access checked again, that page fetched, the message replaced."""
        try:
            command = parse_list_value(value)
        except ValueError:
            return [_malformed(self.locale_of(caller))]
        return [dataclasses.replace(reply, replace_original=True) for reply in await self.run(command, caller)]

    async def repo_menu(self, value: str, caller: Caller) -> list[Reply]:
        """A repository card's menu: the typed command it stands for, through the same checks (delete
        and making public still ask for confirmation). "describe" opens a form instead: see
        `describe_form`."""
        verb, _, rest = value.partition(" ")
        words = {"notifications": "notify list", "visibility": "repo visibility", "delete": "repo delete"}
        if verb not in words:
            return [_malformed(self.locale_of(caller))]
        command = self.service.registry.parse(f"{words[verb]} {rest}", ParseContext())
        if isinstance(command, UsageError):
            return [_malformed(self.locale_of(caller))]
        return await self.run(command, caller)

    async def alert_mute_button(self, value: str, caller: Caller) -> list[Reply]:
        target = _notification_button(value)
        if target is None or self.alerts is None:
            return [_malformed(self.locale_of(caller))]
        repo, uuid = target
        decision = self.service.policy.check(caller, repo.namespace, Role.WRITE, "mute")
        if isinstance(decision, Denied):
            return [Reply(render_refusal(decision.reason, decision.remedy, self.locale_of(caller)))]
        until = time.time() + MUTE_SECONDS
        alerts = self.alerts
        await alerts.db.run(lambda: alerts.mute(caller.channel_id, uuid, until, caller.user_id))
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until))
        text = t(
            self.locale_of(caller),
            ":zzz: {who} muted new alerts for notification {uuid} on {repo} here until {when}.",
            who=f"<@{caller.user_id}>",
            uuid=f"`{uuid}`",
            repo=f"`{repo}`",
            when=when,
        )
        return [Reply(plain(text, in_channel=True))]

    @staticmethod
    def _not_claimed(refusal: NotClaimed, locale: str) -> Reply:
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

    # Forms (modals) ----------------------------------------------------------------------------

    def _may_change(self, caller: Caller, namespace: str | None, action: str) -> tuple[str, ...] | Reply:
        """The channel's namespaces, when this user may change them from here (checked again on submit)."""
        policy = self.service.policy
        access = policy.channel(caller.channel_id)
        # The role is the channel's: with no namespace named, any of its own stands for all of them.
        target = namespace or (access.namespaces[0] if access is not None else "")
        decision = policy.check(caller, target, Role.WRITE, action)
        if isinstance(decision, Denied):
            return Reply(render_refusal(decision.reason, decision.remedy, self.locale_of(caller)))
        return decision.access.namespaces

    def form_for_text(self, text: str, caller: Caller) -> View | Reply | None:
        """`repo create` with no name and `notify create <repo>` with no event or method open a form;
        anything else is a typed command (None)."""
        words = text.split()
        lowered = [w.lower() for w in words]
        if lowered == ["repo", "create"]:
            return self.repo_create_form(caller)
        if (
            len(words) in (2, 3)
            and lowered[1] == "create"
            and lowered[0] in ("notify", "notification", "notifications")
        ):
            repo = words[2] if len(words) == 3 else None
            default = self.service.context_for(caller).default_namespace
            if repo is not None and "/" not in repo and default is not None:
                repo = f"{default}/{repo}"
            return self.notify_create_form(caller, repo)
        return None

    def repo_create_form(self, caller: Caller) -> View | Reply:
        allowed = self._may_change(caller, None, "repo create")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.repo_create_modal(caller.channel_id, allowed, self.locale_of(caller))

    def notify_create_form(self, caller: Caller, repo: str | None) -> View | Reply:
        namespace = None
        if repo is not None:
            try:
                namespace = RepositoryRef.parse(repo).namespace
            except InvalidName as error:
                return Reply(plain(f":grey_question: {error.said(self.locale_of(caller))}"))
        allowed = self._may_change(caller, namespace, "notify create")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.notify_create_modal(caller.channel_id, repo, loc=self.locale_of(caller))

    def notify_form_changed(self, view: dict[str, object]) -> View:
        """The event or the method was picked: the form again, with that one's settings."""
        values = _state(view)
        channel, repo = form_views.read_metadata(str(view.get("private_metadata") or ""))
        event, method = forms.value(values, forms.EVENT), forms.value(values, forms.METHOD)
        locale = self.service.policy.locale_of(channel)
        return form_views.notify_create_modal(channel, repo, event, method, values, locale)

    def describe_form(self, caller: Caller, repo: str) -> View | Reply:
        try:
            namespace = RepositoryRef.parse(repo).namespace
        except InvalidName:
            return _malformed(self.locale_of(caller))
        allowed = self._may_change(caller, namespace, "repo describe")
        if isinstance(allowed, Reply):
            return allowed
        return form_views.describe_loading_modal(caller.channel_id, repo, self.locale_of(caller))

    async def describe_form_loaded(self, caller: Caller, repo: str) -> View | Message:
        """The form with the current description, or why it cannot be read."""
        found = await self.service.repository(RepositoryRef.parse(repo), caller)
        if isinstance(found, Repository):
            return form_views.describe_modal(caller.channel_id, repo, found.description, self.locale_of(caller))
        return render(found, self._ctx(caller))

    def read_form(self, callback_id: str, view: dict[str, object], caller: Caller) -> Command | forms.Invalid:
        """The command a submitted form stands for (or what to fix, per field). `caller` is who the bot
        opened it for, and where (`bot/slack/views.py`), not what the submission says."""
        _, repo = form_views.read_metadata(str(view.get("private_metadata") or ""))
        values = _state(view)
        access = self.service.policy.channel(caller.channel_id)
        namespaces = access.namespaces if access is not None else ()
        loc = self.locale_of(caller)
        if callback_id == forms.REPO_CREATE:
            return forms.read_repo_create(values, namespaces, loc)
        if callback_id == forms.NOTIFY_CREATE:
            return forms.read_notify_create(values, namespaces, loc)
        try:
            ref = RepositoryRef.parse(repo or "")
        except InvalidName:
            return forms.Invalid({forms.DESCRIPTION: t(loc, "This form lost its repository; open it again.")})
        return forms.read_describe(values, ref, loc)

    # App Home ----------------------------------------------------------------------------------

    async def home_view(self, user_id: str) -> View:
        assert self.alerts is not None  # built with the bot
        home = await home_of(user_id, self.service.policy, self.alerts.db, self.alerts, self.audit)
        return render_home(home)

    def home_alert_button(
        self, kind: str, value: str, user_id: str, team_id: str
    ) -> tuple[Caller, Callable[[], Awaitable[list[Reply]]]] | None:
        """An alert's button on the home tab: the channel it names must be one the home shows this
        user (a forged value gets nothing); then the same handler as in the channel, as from there."""
        channel, _, rest = value.partition(" ")
        if not may_act_from(self.service.policy, user_id, channel):
            log.warning("a home button named a channel it could not show", extra={"channel": channel[:32]})
            return None
        caller = Caller(team_id, channel, user_id)
        handlers = {
            "test": self.alert_test_button,
            "reset": self.reset_button,
            "delete": self.alert_delete_button,
            "mute": self.alert_mute_button,
        }
        handler = handlers[kind]
        return caller, lambda: handler(rest, caller)

    # Bookkeeping -------------------------------------------------------------------------------

    def locale_of(self, caller: Caller) -> str:
        """The language of the caller's channel."""
        return self.service.policy.locale_of(caller.channel_id)

    def _ctx(self, caller: Caller, confirmation_id: str | None = None) -> RenderContext:
        access = self.service.policy.channel(caller.channel_id)
        return RenderContext(
            quay_url=self.quay_url,
            user_id=caller.user_id,
            confirmation_id=confirmation_id,
            role=access.role if access is not None else None,
            locale=self.service.policy.locale_of(caller.channel_id),
        )

    def _count(self, command: Command, outcome: Outcome) -> None:
        kind = {
            Succeeded: "succeeded",
            Failed: "failed",
            Refused: "refused",
            ConfirmationNeeded: "confirmation_needed",
        }.get(type(outcome), "other")
        self.metrics.commands.labels(command.command_name, kind).inc()
        if isinstance(outcome, Refused):
            self.metrics.denials.labels(command.command_name).inc()


def _notification_button(value: str) -> tuple[RepositoryRef, str] | None:
    try:
        repo, uuid = parse_reset_value(value)
        return repo, check_notification_uuid(uuid)
    except (InvalidName, ValueError):
        return None


def _state(view: dict[str, object]) -> forms.Values:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def _malformed(locale: str = "en") -> Reply:
    return Reply(plain(t(locale, ":x: This button is malformed; use `/quay notify …` instead.")))
