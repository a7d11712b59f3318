"""The one entry point from a command to an outcome: (text or command, caller) -> `Outcome`.

Order of work, for every command: parse, check the access policy, ask for confirmation if the
command is destructive, pick the namespace's Quay token, call Quay, report. Slack, the CLI and the
alert buttons all come through here, so they cannot disagree about who may do what.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from pydantic import SecretStr

from bot import tracing
from bot.access import AccessPolicy, Allowed, Caller, Decision, Denied
from bot.commands.canonical import command_text
from bot.commands.grammar import ParseContext, definition_for, parse
from bot.commands.help import help_page
from bot.commands.model import (
    PAGE_SIZE,
    Command,
    Help,
    ListPosition,
    NotifyCreate,
    NotifyDelete,
    NotifyGet,
    NotifyList,
    NotifyReset,
    NotifyTest,
    RepoCreate,
    RepoDelete,
    RepoDescribe,
    RepoInfo,
    RepoList,
    RepoVisibility,
    Subscribe,
    Subscriptions,
    Unsubscribe,
    UsageError,
    is_destructive,
    namespace_of,
)
from bot.egress import EgressPolicy, EgressRefused
from bot.i18n import Phrase, t
from bot.outcomes import (
    ConfirmationNeeded,
    DescriptionSet,
    Failed,
    FailuresReset,
    NotAvailable,
    NotificationCreated,
    NotificationDeleted,
    NotificationShown,
    NotificationsListed,
    NotificationTestQueued,
    Outcome,
    Refused,
    RepositoryCreated,
    RepositoryDeleted,
    RepositoryListed,
    RepositoryShown,
    Result,
    Succeeded,
    Unparsed,
    VisibilityChanged,
)
from bot.quay import (
    NewNotification,
    QuayClient,
    QuayError,
    QuayForbidden,
    QuayNotFound,
    QuayOutcomeUnknown,
    QuayUnauthorized,
)
from bot.quay.models import CreatedRepository, Repository, RepositoryPage
from bot.quay.names import RepositoryRef
from bot.subscriptions.manager import CONFIRM_ABOVE, NotConfigured, SubscriptionManager

log = logging.getLogger(__name__)

QUAY_PAGE_SIZE = 100
# After a write whose answer was lost: how many reads, how far apart, before saying "not yet".
FOLLOW_UP_READS = 3
FOLLOW_UP_SPACING = 1.0


class CommandService:
    def __init__(
        self,
        policy: AccessPolicy,
        quay: QuayClient,
        default_token: SecretStr | None,
        *,
        subscriptions: SubscriptionManager | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        self.subscriptions = subscriptions
        self.egress = egress or EgressPolicy()
        self.policy = policy
        self._quay = quay
        self._default_token = default_token

    # Parsing and checking ----------------------------------------------------------------------

    def context_for(self, caller: Caller) -> ParseContext:
        decision = self.policy.check_channel(caller)
        if isinstance(decision, Allowed):
            return ParseContext(decision.access.namespaces, decision.access.locale)
        return ParseContext((), self.policy.locale_of(caller.channel_id))  # a user not listed reads it too

    def parse(self, text: str, caller: Caller) -> Command | UsageError:
        return parse(text, self.context_for(caller))

    def unparsed(self, problem: UsageError, caller: Caller) -> Unparsed:
        decision = self.policy.check_channel(caller)
        refusal = (decision.reason, decision.remedy) if isinstance(decision, Denied) else None
        return Unparsed(problem, refusal)

    def authorize(self, command: Command, caller: Caller) -> Decision:
        namespace = namespace_of(command)
        if namespace is None:
            return self.policy.check_channel(caller)
        definition = definition_for(command)
        return self.policy.check(caller, namespace, definition.role, definition.words)

    # Running -----------------------------------------------------------------------------------

    async def handle_text(self, text: str, caller: Caller, *, confirmed: bool = False) -> Outcome:
        command = self.parse(text, caller)
        if isinstance(command, UsageError):
            return self.unparsed(command, caller)
        return await self.handle(command, caller, confirmed=confirmed)

    async def handle(self, command: Command, caller: Caller, *, confirmed: bool = False) -> Outcome:
        with tracing.span("access.check", {"quay.command": command_text(command)}) as checking:
            decision = self.authorize(command, caller)
            tracing.set_attributes(checking, {"access.allowed": isinstance(decision, Allowed)})
        if isinstance(command, Help):
            access = decision.access if isinstance(decision, Allowed) else None
            unavailable = f"{decision.reason} {decision.remedy}" if isinstance(decision, Denied) else None
            return Succeeded(command, help_page(command.topic, access, unavailable))
        if isinstance(decision, Denied):
            return Refused(command, decision.reason, decision.remedy + self._repository_meant(command, caller))
        if isinstance(command, Subscriptions | Subscribe | Unsubscribe):
            return await self._subscription(command, caller, confirmed)
        namespace = namespace_of(command)
        assert namespace is not None  # every command but help and subscriptions names one
        client = self.client_for(namespace)
        try:
            if is_destructive(command) and not confirmed:
                return await self._preview(command, client)
            return Succeeded(command, await self._execute(command, client))
        except EgressRefused as refused:
            loc = self.policy.locale_of(caller.channel_id)
            return Refused(command, refused.said(loc), t(loc, refused.remedy) if refused.remedy else "")
        except QuayError as error:
            return Failed(command, error)

    def _repository_meant(self, command: Command, caller: Caller) -> str:
        """`subscribe api` in a channel mapped to `team-a` alone reads `api` as a namespace (the grammar
        is `<ns>[/<name>]`), where every other command reads a bare word as `team-a/api`: when that
        namespace is refused, say how to name the repository."""
        if not isinstance(command, Subscribe | Unsubscribe) or command.target.repository is not None:
            return ""
        allowed = self.policy.check_channel(caller)
        if not isinstance(allowed, Allowed) or allowed.access.default_namespace is None:
            return ""
        if command.target.namespace in allowed.access.namespaces:
            return ""  # refused for its role, not for the name
        repo = f"{allowed.access.default_namespace}/{command.target.namespace}"
        return " " + t(
            allowed.access.locale,
            "For the repository {repo}, write {command}.",
            repo=f"`{repo}`",
            command=f"`/quay {command.command_name} {repo}`",
        )

    async def repository(self, ref: RepositoryRef, caller: Caller) -> Repository | Outcome:
        """The repository alone, checked as `repo info` is: what a form fills itself in with (the
        card's tags and notifications would be two larger reads for nothing)."""
        command = RepoInfo(ref)
        decision = self.authorize(command, caller)
        if isinstance(decision, Denied):
            return Refused(command, decision.reason, decision.remedy)
        try:
            return await self.client_for(ref.namespace).get_repository(ref, include_tags=False)
        except QuayError as error:
            return Failed(command, error)

    def client_for(self, namespace: str) -> QuayClient:
        return self._quay.with_token(self.policy.token_for(namespace, self._default_token))

    async def _subscription(
        self, command: Subscriptions | Subscribe | Unsubscribe, caller: Caller, confirmed: bool
    ) -> Outcome:
        manager = self.subscriptions
        if manager is None:
            return NotAvailable(
                command, "Subscriptions need the bot's database.", "Run it from Slack or `quaybot run`."
            )
        try:
            if isinstance(command, Subscriptions):
                return Succeeded(command, await manager.listing(caller.channel_id))
            client = self.client_for(command.target.namespace)
            if isinstance(command, Unsubscribe):
                return Succeeded(command, await manager.unsubscribe(command, caller.channel_id, client))
            repositories = None
            if command.target.repository is None and not confirmed:
                count, repositories = await manager.new_notifications(command, caller.channel_id, client)
                if count > CONFIRM_ABOVE:
                    return ConfirmationNeeded(command, new_notifications=count)
            subscribed = await manager.subscribe(command, caller.channel_id, caller.user_id, client, repositories)
            watched = bool(self.policy.alert_channels(command.target.namespace))
            return Succeeded(command, replace(subscribed, watched=watched))
        except NotConfigured as missing:
            loc = self.policy.locale_of(caller.channel_id)
            reason = t(loc, missing.reason, **missing.params)
            return NotAvailable(command, reason, t(loc, missing.remedy, **missing.params))
        except QuayError as error:
            return Failed(command, error)

    async def _preview(self, command: Command, client: QuayClient) -> Outcome:
        if isinstance(command, RepoDelete):
            repository = await client.get_repository(command.repo)
            try:
                count: int | None = len(await client.list_notifications(command.repo, verify_repository=False))
            except QuayError:
                count = None  # the preview is still useful without it
            return ConfirmationNeeded(command, repository=repository, notification_count=count)
        if isinstance(command, RepoVisibility):
            return ConfirmationNeeded(command, repository=await client.get_repository(command.repo, include_tags=False))
        if isinstance(command, NotifyDelete):
            return ConfirmationNeeded(command, notification=await client.get_notification(command.repo, command.uuid))
        raise AssertionError(f"no preview for {command.command_name}")

    async def _execute(self, command: Command, client: QuayClient) -> Result:
        match command:
            case RepoList():
                return await self._list(command, client)
            case RepoCreate():
                return await self._create(command, client)
            case RepoInfo():
                return await self._show(command, client)
            case RepoDescribe():
                await client.set_description(command.repo, command.description)
                return DescriptionSet(command.repo)
            case RepoVisibility():
                await client.change_visibility(command.repo, command.visibility)
                return VisibilityChanged(command.repo, command.visibility)
            case RepoDelete():
                await client.delete_repository(command.repo)
                return RepositoryDeleted(command.repo)
            case NotifyList():
                return NotificationsListed(command.repo, tuple(await client.list_notifications(command.repo)))
            case NotifyCreate():
                await self.egress.check_notification(command.method, command.config)
                new = NewNotification(
                    event=command.event,
                    method=command.method,
                    config=command.config,
                    event_config=command.event_config,
                    title=command.title,
                )
                return NotificationCreated(command.repo, await client.create_notification(command.repo, new))
            case NotifyGet():
                return NotificationShown(command.repo, await client.get_notification(command.repo, command.uuid))
            case NotifyTest():
                before = await client.get_notification(command.repo, command.uuid)
                await self.egress.check_notification(before.method, before.config)
                if before.disabled:
                    # Quay would accept the test and then silently drop it.
                    return NotificationTestQueued(command.repo, before, sent=False)
                await client.test_notification(command.repo, command.uuid, known=before)
                return NotificationTestQueued(command.repo, before, sent=True)
            case NotifyReset():
                # A reset starts deliveries again, so its target is checked as a new one would be.
                target = await client.get_notification(command.repo, command.uuid)
                await self.egress.check_notification(target.method, target.config)
                await client.reset_notification_failures(command.repo, command.uuid)
                return FailuresReset(command.repo, command.uuid)
            case NotifyDelete():
                await client.delete_notification(command.repo, command.uuid)
                return NotificationDeleted(command.repo, command.uuid)
        raise AssertionError(f"unhandled command {command!r}")

    async def _list(self, command: RepoList, client: QuayClient) -> RepositoryListed:
        """One page of 20. Quay pages by 100 with opaque `next_page` tokens (2 days old at most), so the
        tokens near the page travel with it; a token Quay no longer takes silently gives its first
        page again, which is noticed by its first repository and said."""
        position = command.position
        quay_page, skip = divmod(position.page * PAGE_SIZE, QUAY_PAGE_SIZE)
        tokens = dict(position.tokens)
        page = await self._quay_page(command, client, quay_page, tokens)
        first = position.first
        restarted = bool(quay_page and first and page.repositories and page.repositories[0].full_name == first)
        if restarted:
            quay_page, skip, tokens = 0, 0, {1: page.next_page} if page.next_page else {}
        if quay_page == 0 and page.repositories:
            first = page.repositories[0].full_name
        if page.next_page:
            tokens[quay_page + 1] = page.next_page
        number = 0 if restarted else position.page
        shown = tuple(
            r for r in page.repositories[skip : skip + PAGE_SIZE] if r.namespace == command.namespace
        )  # --public and --starred widen Quay's answer beyond the namespace
        more = skip + PAGE_SIZE < len(page.repositories) or page.next_page is not None

        def at(number: int) -> ListPosition:
            near = range((number * PAGE_SIZE) // QUAY_PAGE_SIZE - 1, (number * PAGE_SIZE) // QUAY_PAGE_SIZE + 2)
            return ListPosition(number, tuple(sorted((q, t) for q, t in tokens.items() if q in near)), first)

        return RepositoryListed(
            command,
            shown,
            number,
            at(number - 1) if number > 0 else None,
            at(number + 1) if more else None,
            restarted,
        )

    async def _quay_page(
        self, command: RepoList, client: QuayClient, index: int, tokens: dict[int, str]
    ) -> RepositoryPage:
        """Quay's page `index`: with its token when the position carries it, else walked to from the
        nearest page it does carry (or from the start); the tokens met on the way are added to `tokens`."""
        start = max([q for q in tokens if q <= index], default=0)
        token = tokens.get(start) if start else None
        while True:
            page = await client.list_repositories(
                command.namespace, public=command.public, starred=command.starred, next_page=token
            )
            if start == index or not page.next_page:
                return page
            start, token = start + 1, page.next_page
            tokens[start] = token

    async def _show(self, command: RepoInfo, client: QuayClient) -> RepositoryShown:
        repository = await client.get_repository(command.repo)
        try:
            # Quay shows notifications to admins only: a card without them is still a card.
            notifications = tuple(await client.list_notifications(command.repo, verify_repository=False))
        except (QuayForbidden, QuayNotFound, QuayUnauthorized):
            return RepositoryShown(repository, None)
        return RepositoryShown(repository, notifications)

    async def _create(self, command: RepoCreate, client: QuayClient) -> RepositoryCreated:
        try:
            created = await client.create_repository(
                command.repo, visibility=command.visibility, description=command.description
            )
        except QuayOutcomeUnknown:
            # The answer was lost, and a slow Quay may still finish the write: look (a few times)
            # before reporting either way.
            repository = await self._find_after_lost_answer(command, client)
            if repository is None:
                raise QuayOutcomeUnknown(
                    Phrase(
                        "Quay did not answer in time, and {repo} does not exist yet; a slow Quay may still create "
                        "it. Running the command again is safe: if it was created meanwhile, Quay says it already "
                        "exists.",
                        repo=str(command.repo),
                    )
                ) from None
            log.info("create confirmed by a follow-up read", extra={"repository": str(command.repo)})
            created = CreatedRepository(namespace=repository.namespace, name=repository.name, kind=repository.kind)
        return RepositoryCreated(created, command.visibility)

    async def _find_after_lost_answer(self, command: RepoCreate, client: QuayClient) -> Repository | None:
        for attempt in range(FOLLOW_UP_READS):
            try:
                return await client.get_repository(command.repo, include_tags=False)
            except QuayNotFound:
                if attempt + 1 < FOLLOW_UP_READS:
                    await asyncio.sleep(FOLLOW_UP_SPACING)
            except QuayError:
                return None
        return None
