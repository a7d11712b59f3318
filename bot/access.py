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
    namespaces:                   # optional per-namespace Quay token
      team-a:
        token_env: QUAY_TOKEN_TEAM_A

The file is checked as a whole at start; every problem is reported with its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path, PurePath

import yaml
from pydantic import SecretStr

from bot.i18n import DEFAULT as DEFAULT_LOCALE
from bot.i18n import LOCALES, t
from bot.quay.names import InvalidName, check_namespace


class Role(IntEnum):
    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


ROLES = {role.label: role for role in Role}
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


def _names(namespaces: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in namespaces)


# Loading ---------------------------------------------------------------------------------------


class AccessFileError(Exception):
    """The access file is missing or wrong; `problems` are "file:line:col: message" lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, node: yaml.Node | None, message: str) -> None:
        if node is None:
            self.items.append(f"{self.path}: {message}")
        else:
            mark = node.start_mark
            self.items.append(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {message}")


def load_policy(path: Path, environ: Mapping[str, str], default_token: SecretStr | None = None) -> AccessPolicy:
    """Read and check the access file; raise `AccessFileError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccessFileError(
            [f"{path}: the access file does not exist (set QUAYBOT_ACCESS_FILE, or create it; see README)"]
        ) from None
    except OSError as error:
        raise AccessFileError([f"{path}: cannot read the access file: {error.strerror}"]) from None
    return parse_policy(text, str(path), environ, default_token)


def parse_policy(
    text: str, source: str, environ: Mapping[str, str], default_token: SecretStr | None = None
) -> AccessPolicy:
    problems = _Problems(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise AccessFileError([f"{source}{where}: not valid YAML: {reason}"]) from None
    if root is None:
        raise AccessFileError([f"{source}: the access file is empty; it needs a `channels:` mapping"])
    top = _mapping(root, problems, "the access file")
    _unknown_keys(top, {"channels", "namespaces"}, problems)
    tokens = _namespace_tokens(top.get("namespaces"), environ, problems)
    channels_entry = top.get("channels")
    channels = _channels(channels_entry, problems, root)
    for access in channels.values():
        for namespace in access.namespaces:
            if namespace not in tokens and default_token is None:
                problems.add(
                    channels_entry.key if channels_entry else None,
                    f"namespace `{namespace}` (channel {access.channel_id}) has no Quay token: "
                    "set QUAY_TOKEN or give it a token_env under `namespaces:`",
                )
    if problems.items:
        raise AccessFileError(list(dict.fromkeys(problems.items)))
    return AccessPolicy(channels=channels, tokens=tokens, source=source)


@dataclass(frozen=True)
class _Entry:
    key: yaml.Node
    value: yaml.Node


def _mapping(node: yaml.Node, problems: _Problems, what: str) -> dict[str, _Entry]:
    """A YAML mapping with its nodes kept, so every later problem can point at a line."""
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, f"{what} must be a mapping (key: value)")
        return {}
    result: dict[str, _Entry] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in result:
            problems.add(key_node, f"`{key}` appears twice")
        result[key] = _Entry(key_node, value_node)
    return result


def _unknown_keys(mapping: dict[str, _Entry], allowed: set[str], problems: _Problems) -> None:
    for key, entry in mapping.items():
        if key not in allowed:
            problems.add(entry.key, f"unknown key `{key}` (expected: {', '.join(sorted(allowed))})")


def _scalar(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _string_list(node: yaml.Node, problems: _Problems, what: str) -> list[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.ScalarNode):
        return [(str(node.value), node)]
    if not isinstance(node, yaml.SequenceNode):
        problems.add(node, f"{what} must be a list")
        return []
    items = []
    for item in node.value:
        value = _scalar(item)
        if value is None:
            problems.add(item, f"each of {what} must be a plain value")
        else:
            items.append((value, item))
    return items


def _namespace_tokens(top: _Entry | None, environ: Mapping[str, str], problems: _Problems) -> dict[str, SecretStr]:
    if top is None:
        return {}
    tokens: dict[str, SecretStr] = {}
    for name, item in _mapping(top.value, problems, "`namespaces`").items():
        _check_namespace_name(name, item.key, problems)
        entry = _mapping(item.value, problems, f"namespace `{name}`")
        _unknown_keys(entry, {"token_env"}, problems)
        env_node = entry["token_env"].value if "token_env" in entry else None
        env_name = _scalar(env_node)
        if env_node is None:
            problems.add(item.key, f"namespace `{name}` needs `token_env`")
        elif env_name is None or not ENV_NAME.fullmatch(env_name):
            problems.add(env_node, "`token_env` must be the name of an environment variable")
        elif not environ.get(env_name):
            problems.add(env_node, f"`token_env` {env_name} is not set in the environment")
        else:
            tokens[name] = SecretStr(environ[env_name])
    return tokens


def _check_namespace_name(name: str, node: yaml.Node | None, problems: _Problems) -> None:
    try:
        check_namespace(name)
    except InvalidName as error:
        problems.add(node, str(error))


def _channels(top: _Entry | None, problems: _Problems, root: yaml.Node) -> dict[str, ChannelAccess]:
    if top is None:
        problems.add(root, "`channels:` is missing: no channel could use the bot")
        return {}
    channels: dict[str, ChannelAccess] = {}
    for channel_id, item in _mapping(top.value, problems, "`channels`").items():
        key_node = item.key
        if channel_id.startswith("D"):
            problems.add(key_node, f"{channel_id} looks like a direct message; only channels can be mapped")
            continue
        if not CHANNEL_ID.fullmatch(channel_id):
            problems.add(
                key_node,
                f"`{channel_id}` is not a Slack channel ID (like C0123ABCD); names change, IDs do not",
            )
            continue
        access = _channel(channel_id, item.value, problems)
        if access is not None:
            channels[channel_id] = access
    return channels


def _channel(channel_id: str, node: yaml.Node, problems: _Problems) -> ChannelAccess | None:
    fields = _mapping(node, problems, f"channel {channel_id}")
    entry = {key: item.value for key, item in fields.items()}
    _unknown_keys(fields, {"namespaces", "role", "alerts", "users", "locale"}, problems)
    ok = True
    namespaces: list[str] = []
    if "namespaces" not in entry:
        problems.add(node, f"channel {channel_id} needs `namespaces`")
        ok = False
    else:
        for name, item in _string_list(entry["namespaces"], problems, "`namespaces`"):
            _check_namespace_name(name, item, problems)
            namespaces.append(name)
        if not namespaces:
            problems.add(entry["namespaces"], f"channel {channel_id} maps no namespace")
            ok = False
    role_text = _scalar(entry.get("role"))
    if "role" not in entry:
        problems.add(node, f"channel {channel_id} needs `role` (read, write or admin)")
        ok = False
    elif role_text not in ROLES:
        problems.add(entry["role"], f"role must be read, write or admin, not `{role_text}`")
        ok = False
    alerts = False
    if "alerts" in entry:
        alerts_node = entry["alerts"]
        if not (isinstance(alerts_node, yaml.ScalarNode) and alerts_node.tag.endswith(":bool")):
            problems.add(alerts_node, "`alerts` must be true or false")
        else:
            alerts = str(alerts_node.value).lower() in ("true", "yes", "on")
    users: frozenset[str] | None = None
    if "users" in entry:
        listed = _string_list(entry["users"], problems, "`users`")
        for user, item in listed:
            if not USER_ID.fullmatch(user):
                problems.add(item, f"`{user}` is not a Slack user ID (like U0123ABCD)")
        users = frozenset(user for user, _ in listed)
    locale = _scalar(entry.get("locale")) or DEFAULT_LOCALE
    if locale not in LOCALES:
        problems.add(entry.get("locale"), f"locale must be one of {', '.join(LOCALES)}, not `{locale}`")
        ok = False
    if not ok or role_text not in ROLES:
        return None
    return ChannelAccess(channel_id, tuple(dict.fromkeys(namespaces)), ROLES[role_text], alerts, users, locale)
