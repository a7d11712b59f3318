"""The channel-to-namespace access policy: who may do what, from where. Deny by default.

The policy lives in a YAML file (`QUAYBOT_ACCESS_FILE`) keyed by Slack channel ID, because channel
names change and IDs do not:

    channels:
      C0123ABCD:
        namespaces: [team-a, team-a-staging]
        role: write               # read | write | admin
        alerts: true              # notification-failure alerts for these namespaces go here
        users: [U0AAA, U0BBB]     # optional: only these users may act from this channel
        locale: zh-CN             # optional: the bot's language here (en, the default, or zh-CN)
        identity: user            # optional: act with each person's own linked Quay account (default: bot)
        approval: [repo delete]   # optional: these commands run only once another member approves
    namespaces:                   # optional per-namespace Quay token
      team-a:
        token_env: QUAY_TOKEN_TEAM_A
    guardrails:                   # optional: what no channel may do (`bot/guardrails.py`)
      - namespaces: ["prod-*"]
        deny: [repo delete, "repo visibility public"]
    audit_channel: C0AUDIT        # optional: every change, approval and link is posted here

The file is checked as a whole at start (`bot/access_file.py`); every problem is reported with its
line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import PurePath
from typing import Literal

from pydantic import SecretStr

from bot.guardrails import Guardrail, Guardrails
from bot.i18n import DEFAULT as DEFAULT_LOCALE
from bot.i18n import t


class Role(IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


ROLES = {role.label: role for role in Role}
Identity = Literal["bot", "user"]
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOT_FROM_A_FILE = "access file"  # the source of a policy built in code


@dataclass(frozen=True)
class Caller:
    """Who is asking, as Slack identifies them."""

    team_id: str
    channel_id: str
    user_id: str


@dataclass(frozen=True)
class ChannelAccess:
    channel_id: str
    namespaces: tuple[str, ...]
    role: Role
    alerts: bool = False
    users: frozenset[str] | None = None
    locale: str = "en"  # the language of the bot's messages in this channel
    identity: Identity = "bot"  # whose Quay token a command runs with: the namespace's, or the person's
    approval: frozenset[str] = frozenset()  # commands that need a second member's approval here

    @property
    def acts_as_person(self) -> bool:
        return self.identity == "user"

    @property
    def default_namespace(self) -> str | None:
        """With exactly one namespace, a bare repository name means one in it."""
        return self.namespaces[0] if len(self.namespaces) == 1 else None


@dataclass(frozen=True)
class Allowed:
    access: ChannelAccess

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True)
class Denied:
    """Why the caller may not, and what would allow it (never another channel's mapping)."""

    reason: str
    remedy: str

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Denied


@dataclass(frozen=True)
class AccessPolicy:
    channels: Mapping[str, ChannelAccess]
    tokens: Mapping[str, SecretStr] = field(default_factory=dict, repr=False)
    source: str = NOT_FROM_A_FILE
    guardrails: Guardrails = field(default_factory=Guardrails)
    audit_channel: str | None = None

    def channel(self, channel_id: str) -> ChannelAccess | None:
        return self.channels.get(channel_id)

    def token_for(self, namespace: str, default: SecretStr | None) -> SecretStr | None:
        return self.tokens.get(namespace, default)

    def named(self, locale: str) -> str:
        """The policy as replies in Slack name it: by its file's name, never its path on the server."""
        name = PurePath(self.source).name
        return t(locale, "access file") + ("" if self.source == NOT_FROM_A_FILE else f" (`{name}`)")

    def alert_channels(self, namespace: str) -> list[str]:
        return [c.channel_id for c in self.channels.values() if c.alerts and namespace in c.namespaces]

    def locale_of(self, channel_id: str) -> str:
        """The language of the bot's messages in this channel (English where it is not mapped)."""
        access = self.channels.get(channel_id)
        return access.locale if access is not None else DEFAULT_LOCALE

    def named_channels(self, user_id: str) -> list[ChannelAccess]:
        """The channels whose `users` list names this user: the ones known, without reading Slack's
        channel membership, to let this user act (what the App Home may show them)."""
        return [c for c in self.channels.values() if c.users is not None and user_id in c.users]

    def alert_namespaces(self) -> list[str]:
        return sorted({ns for c in self.channels.values() if c.alerts for ns in c.namespaces})

    def check_channel(self, caller: Caller) -> Decision:
        """May this user act from this channel at all?"""
        if caller.channel_id.startswith("D"):
            return Denied(
                "/quay does not act from direct messages.",
                "Run it in a channel that is mapped to your Quay namespaces.",
            )
        access = self.channels.get(caller.channel_id)
        if access is None:
            return Denied(
                f"This channel ({caller.channel_id}) is not mapped to any Quay namespace.",
                f"An operator can map it under `channels:` in the {self.named(DEFAULT_LOCALE)}.",
            )
        if access.users is not None and caller.user_id not in access.users:
            loc = access.locale
            return Denied(
                t(loc, "Only the users listed for this channel may use /quay here, and you are not one of them."),
                t(
                    loc,
                    "Ask an operator to add your user ID ({user}) to this channel's `users` in the {source}.",
                    user=caller.user_id,
                    source=self.named(loc),
                ),
            )
        return Allowed(access)

    def check(self, caller: Caller, namespace: str, needed: Role, action: str) -> Decision:
        """May `caller` perform `action`, which needs role `needed`, on `namespace`?"""
        decision = self.check_channel(caller)
        if isinstance(decision, Denied):
            return decision
        access = decision.access
        loc = access.locale
        if namespace not in access.namespaces:
            return Denied(
                t(
                    loc,
                    "This channel may act on {namespaces}; {namespace} is not one of them.",
                    namespaces=_names(access.namespaces),
                    namespace=f"`{namespace}`",
                ),
                t(
                    loc,
                    "Ask an operator to add {namespace} to this channel's namespaces in the {source}, or run the "
                    "command in a channel mapped to it.",
                    namespace=f"`{namespace}`",
                    source=self.named(loc),
                ),
            )
        if access.role < needed:
            return Denied(
                t(
                    loc,
                    "{action} needs the {needed} role; this channel has {role}.",
                    action=f"`{action}`",
                    needed=t(loc, needed.label),
                    role=t(loc, access.role.label),
                ),
                t(
                    loc,
                    "Ask an operator to give this channel the {needed} role in the {source}, or run it from a "
                    "channel that has it for {namespace}.",
                    needed=t(loc, needed.label),
                    source=self.named(loc),
                    namespace=f"`{namespace}`",
                ),
            )
        return decision

    def check_guardrails(self, caller: Caller, namespace: str, command: str, words: Sequence[str]) -> Decision | None:
        """A refusal if a guardrail denies `command words…` on `namespace`, naming the guardrail."""
        found = self.guardrails.denying(namespace, command, words)
        if found is None:
            return None
        rail, rule = found
        loc = self.locale_of(caller.channel_id)
        return Denied(
            t(
                loc,
                "{guardrail} denies {rule} in {namespace}, whatever a channel's role.",
                guardrail=_said_guardrail(rail, loc),
                rule=f"`{rule.text}`",
                namespace=f"`{namespace}`",
            ),
            t(
                loc,
                "Guardrails are set by operators above every channel, in the `guardrails:` of the {source}.",
                source=self.named(loc),
            ),
        )


def _said_guardrail(rail: Guardrail, locale: str) -> str:
    if rail.name:
        return t(locale, "Guardrail “{name}”", name=rail.name)
    return t(locale, "Guardrail {position}", position=rail.position)


def _names(namespaces: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in namespaces)
