"""The one entry point from a command to an outcome: (text or command, caller) -> `Outcome`.

Order of work, for every command: parse, check the access policy, ask for confirmation if the
command is destructive, pick the namespace's Quay token, call Quay, report. Slack, the CLI and the
alert buttons all come through here, so they cannot disagree about who may do what. What a command
does is its own (`bot/slices/`); this knows only what every command declares.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr

from bot import tracing
from bot.access import AccessPolicy, Allowed, Caller, Decision, Denied
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.egress import EgressPolicy, EgressRefused
from bot.i18n import t
from bot.outcomes import ConfirmationNeeded, Failed, NotAvailable, Outcome, Refused, Succeeded, Unparsed
from bot.quay import QuayClient, QuayError
from bot.slices import REGISTRY, Registry
from bot.slices.spec import Run
from bot.subscriptions.manager import SubscriptionManager

log = logging.getLogger(__name__)
# An outcome a command's `run` may return instead of a result of its own.
OWN_OUTCOMES = (ConfirmationNeeded, NotAvailable, Refused, Failed)


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
    ) -> None:
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
        definition = self.registry.spec_for(command).definition
        return self.policy.check(caller, namespace, definition.role, definition.words)

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
        run = self._run(command, caller, decision, confirmed)
        try:
            if spec.destructive(command) and not confirmed:
                assert spec.preview is not None  # CommandSpec: destructive ones preview
                return await spec.preview(command, run.quay)
            result = await spec.run(command, run)
        except EgressRefused as refused:
            loc = self.policy.locale_of(caller.channel_id)
            return Refused(command, refused.said(loc), t(loc, refused.remedy) if refused.remedy else "")
        except QuayError as error:
            return Failed(command, error)
        return result if isinstance(result, OWN_OUTCOMES) else Succeeded(command, result)

    async def run_step(
        self, command: Command, caller: Caller, step: Callable[[Any, Run], Awaitable[object]]
    ) -> Outcome:
        """One step of `command` (what its form fills itself in with), checked as the command is and
        run with what the command would get."""
        decision = self.authorize(command, caller)
        if isinstance(decision, Denied):
            return Refused(command, decision.reason, decision.remedy)
        try:
            return Succeeded(command, await step(command, self._run(command, caller, decision, False)))
        except QuayError as error:
            return Failed(command, error)

    def _run(self, command: Command, caller: Caller, decision: Decision, confirmed: bool) -> Run:
        namespace = self.registry.namespace_of(command)
        return Run(
            self.client_for(namespace) if namespace is not None else None,
            caller,
            self.policy,
            decision,
            self.egress,
            self.subscriptions,
            confirmed,
            self.registry.definitions,
        )

    def client_for(self, namespace: str) -> QuayClient:
        return self._quay.with_token(self.policy.token_for(namespace, self._default_token))
