"""The one entry point from a command to an outcome: (text or command, caller) -> `Outcome`.

Order of work, for every command: parse, check the access policy and the guardrails above it, ask
for confirmation if the command is destructive, pick the Quay token (the namespace's, or where the
channel acts as each person, the caller's own linked account), call Quay, report. Slack, the CLI and the
alert buttons all come through here, so they cannot disagree about who may do what. What a command
does is its own (`bot/slices/`); this knows only what every command declares.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr

from bot import tracing
from bot.access import AccessPolicy, Allowed, Caller, Decision, Denied, Role
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.egress import EgressPolicy, EgressRefused
from bot.i18n import t
from bot.identities import Identities
from bot.outcomes import ConfirmationNeeded, Failed, NotAvailable, NotLinked, Outcome, Refused, Succeeded, Unparsed
from bot.quay import QuayClient, QuayError, QuayForbidden, QuayInvalidToken, QuayUnauthorized
from bot.slices import REGISTRY, Registry
from bot.slices.spec import Run
from bot.store.links import Link
from bot.subscriptions.manager import SubscriptionManager

log = logging.getLogger(__name__)
# An outcome a command's `run` may return instead of a result of its own.
OWN_OUTCOMES = (ConfirmationNeeded, NotAvailable, Refused, Failed, NotLinked)
# What Quay answers a person's token that may not do something (or that it no longer takes).
REFUSALS = (QuayForbidden, QuayUnauthorized, QuayInvalidToken)


class CommandService:
    def __init__(
        self,
        policy: AccessPolicy,
        quay: QuayClient,
        default_token: SecretStr | None,
        *,
        subscriptions: SubscriptionManager | None = None,
        egress: EgressPolicy | None = None,
        registry: Registry = REGISTRY,
        identities: Identities | None = None,
    ) -> None:
        self.identities = identities
        self.subscriptions = subscriptions
        self.policy = policy
        self.registry = registry
        self._quay = quay
        self._default_token = default_token
        self.egress = egress or EgressPolicy()

    # Parsing and checking ----------------------------------------------------------------------

    def context_for(self, caller: Caller) -> ParseContext:
        decision = self.policy.check_channel(caller)
        if isinstance(decision, Allowed):
            return ParseContext(decision.access.namespaces, decision.access.locale)
        return ParseContext((), self.policy.locale_of(caller.channel_id))  # a user not listed reads it too

    def parse(self, text: str, caller: Caller) -> Command | UsageError:
        return self.registry.parse(text, self.context_for(caller))

    def unparsed(self, problem: UsageError, caller: Caller) -> Unparsed:
        decision = self.policy.check_channel(caller)
        refusal = (decision.reason, decision.remedy) if isinstance(decision, Denied) else None
        return Unparsed(problem, refusal)

    def authorize(self, command: Command, caller: Caller) -> Decision:
        namespace = self.registry.namespace_of(command)
        if namespace is None:
            return self.policy.check_channel(caller)
        spec = self.registry.spec_for(command)
        definition = spec.definition
        decision = self.policy.check(caller, namespace, definition.role, definition.words)
        if isinstance(decision, Denied) or not self.policy.guardrails:
            return decision  # most access files have no guardrails: no words to write back then
        subject = spec.subject(command)
        words = [word for word in spec.words(command, True) if word != subject]
        railed = self.policy.check_guardrails(caller, namespace, definition.words, words)
        return decision if railed is None else railed  # a Denied is falsy: no `or` here

    # Running -----------------------------------------------------------------------------------

    async def handle_text(self, text: str, caller: Caller, *, confirmed: bool = False) -> Outcome:
        command = self.parse(text, caller)
        if isinstance(command, UsageError):
            return self.unparsed(command, caller)
        return await self.handle(command, caller, confirmed=confirmed)

    async def handle(self, command: Command, caller: Caller, *, confirmed: bool = False) -> Outcome:
        spec = self.registry.spec_for(command)
        with tracing.span("access.check", {"quay.command": self.registry.text(command)}) as checking:
            decision = self.authorize(command, caller)
            tracing.set_attributes(checking, {"access.allowed": isinstance(decision, Allowed)})
        if isinstance(decision, Denied) and not spec.answers_anywhere:
            hint = spec.refusal_hint(command, caller, self.policy) if spec.refusal_hint else ""
            return Refused(command, decision.reason, decision.remedy + hint)
        run = await self._run(command, caller, decision, confirmed)
        if not isinstance(run, Run):
            return run
        acting_as = run.acting_as.quay_username if run.acting_as is not None else None
        try:
            if not confirmed and self.needs_approval(command, decision) and spec.preview is None:
                return ConfirmationNeeded(command)  # said as the command itself: what it would run
            if not confirmed and (spec.destructive(command) or self.needs_approval(command, decision)):
                assert spec.preview is not None  # CommandSpec: destructive ones preview
                preview = await spec.preview(command, run.quay)
                if preview is not None and run.acting_as is not None and not _may(preview, spec.definition.role):
                    # Quay said, in the repository it read for the preview, that this person may not.
                    return await self._refused_as_person(command, caller, run.acting_as, decision, checked=True)
                if preview is not None or self.needs_approval(command, decision):
                    return preview or ConfirmationNeeded(command)
                # Nothing to confirm after all (a tag moved that did not exist yet): it runs now.
            result = await spec.run(command, run)
        except EgressRefused as refused:
            loc = self.policy.locale_of(caller.channel_id)
            return Refused(command, refused.said(loc), t(loc, refused.remedy) if refused.remedy else "")
        except REFUSALS as error:
            if run.acting_as is None:
                return Failed(command, error)
            return await self._refused_as_person(command, caller, run.acting_as, decision)
        except QuayError as error:
            return Failed(command, error, acting_as=acting_as)
        return result if isinstance(result, OWN_OUTCOMES) else Succeeded(command, result, acting_as=acting_as)

    def needs_approval(self, command: Command, decision: Decision) -> bool:
        """Does this channel want a second member's approval before `command` runs?"""
        access = decision.access if isinstance(decision, Allowed) else None
        return access is not None and command.command_name in access.approval

    async def cannot_act(self, command: Command, caller: Caller) -> Outcome | None:
        """Why `caller` could not run `command` now (the policy, or no linked account where the
        channel acts as each person), before anything is taken on their behalf; None if they can."""
        decision = self.authorize(command, caller)
        if isinstance(decision, Denied):
            return Refused(command, decision.reason, decision.remedy)
        run = await self._run(command, caller, decision, True)
        return None if isinstance(run, Run) else run

    async def run_step(
        self, command: Command, caller: Caller, step: Callable[[Any, Run], Awaitable[object]]
    ) -> Outcome:
        """One step of `command` (what its form fills itself in with), checked as the command is and
        run with what the command would get."""
        decision = self.authorize(command, caller)
        if isinstance(decision, Denied):
            return Refused(command, decision.reason, decision.remedy)
        run = await self._run(command, caller, decision, False)
        if not isinstance(run, Run):
            return run
        try:
            return Succeeded(command, await step(command, run))
        except REFUSALS as error:
            if run.acting_as is None:
                return Failed(command, error)
            return await self._refused_as_person(command, caller, run.acting_as, decision)
        except QuayError as error:
            return Failed(command, error)

    async def _run(self, command: Command, caller: Caller, decision: Decision, confirmed: bool) -> Run | Outcome:
        """What the command runs with; where the channel acts as each person and this one has no
        linked account, the outcome that says so instead."""
        namespace = self.registry.namespace_of(command)
        client, link = None, None
        if namespace is not None:
            access = decision.access if isinstance(decision, Allowed) else None
            if access is not None and access.acts_as_person and not self.registry.spec_for(command).acts_as_bot:
                found = await self._person(command, caller)
                if not isinstance(found, Link):
                    return found
                client, link = self._identities().client_for(found), found
            else:
                client = self.client_for(namespace)
        return Run(
            client,
            caller,
            self.policy,
            decision,
            self.egress,
            self.subscriptions,
            confirmed,
            self.registry.definitions,
            self.identities,
            link,
        )

    def _identities(self) -> Identities:
        assert self.identities is not None
        return self.identities

    async def _person(self, command: Command, caller: Caller) -> Link | Outcome:
        loc = self.policy.locale_of(caller.channel_id)
        identities = self.identities
        if identities is None or not identities.enabled:
            missing = ", ".join(identities.missing) if identities is not None else ""
            return NotAvailable(
                command,
                t(loc, "This channel acts as each person's own Quay account, and linking accounts is not set up."),
                t(
                    loc,
                    "An operator sets QUAY_OAUTH_CLIENT_ID, QUAY_OAUTH_CLIENT_SECRET, QUAYBOT_PUBLIC_URL and "
                    "QUAYBOT_SECRET_KEY (see the README)",
                )
                + (f" ({t(loc, 'missing:')} {missing})." if missing else "."),
            )
        link = await identities.link_of(caller)
        if link is None:
            return NotLinked(
                command,
                t(loc, "This channel acts as each person's own Quay account, and yours is not linked yet."),
                await identities.login_url(caller),
            )
        return link

    async def _refused_as_person(
        self, command: Command, caller: Caller, link: Link, decision: Decision, *, checked: bool = False
    ) -> Outcome:
        """Quay refused the person's own token: in the terms of their account, or, when Quay no longer
        takes the token at all (revoked in Quay), the link is dropped and they are asked to link again.
        `checked`: Quay answered with the token just now, so it still takes it."""
        loc = self.policy.locale_of(caller.channel_id)
        identities = self._identities()
        if not checked and not await identities.still_accepted(caller, link):
            return NotLinked(
                command,
                t(
                    loc,
                    "Quay no longer accepts the token of your linked account {account} (revoked in Quay?), so the "
                    "link is forgotten. Link your account again.",
                    account=f"`{link.quay_username}`",
                ),
                await identities.login_url(caller),
            )
        spec = self.registry.spec_for(command)
        needed = t(loc, spec.definition.role.label)
        subject = spec.subject(command) or spec.namespace(command) or ""
        ceiling = t(loc, decision.access.role.label) if isinstance(decision, Allowed) else needed
        return Refused(
            command,
            t(
                loc,
                "Your Quay account {account} may not run {action} on {subject}: Quay says you need {role} on it.",
                account=f"`{link.quay_username}`",
                action=f"`{spec.definition.words}`",
                subject=f"`{subject}`",
                role=needed,
            ),
            t(
                loc,
                "Ask an admin of {namespace} in Quay for that role, or someone who has it to run this. The channel "
                "itself allows up to {ceiling}.",
                namespace=f"`{spec.namespace(command)}`",
                ceiling=ceiling,
            ),
            acting_as=link.quay_username,
        )

    def client_for(self, namespace: str) -> QuayClient:
        return self._quay.with_token(self.policy.token_for(namespace, self._default_token))


def _may(preview: ConfirmationNeeded, role: Role) -> bool:
    """What Quay's answer for the preview says of the token's rights on the repository (`can_write`
    and `can_admin` are capped by the token's scopes and its user's role)."""
    repository = preview.repository
    if repository is None or role == Role.READ:
        return True
    return repository.can_admin if role == Role.ADMIN else repository.can_write
