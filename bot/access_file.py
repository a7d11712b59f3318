"""Reading the access file (its format: `bot/access.py`): checked as a whole, every problem reported
with its line and column, so that an operator fixes them all in one go."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import SecretStr

from bot.access import CHANNEL_ID, ENV_NAME, ROLES, USER_ID, AccessPolicy, ChannelAccess, Identity
from bot.guardrails import Guardrail, Guardrails, Rule, split_rule
from bot.i18n import DEFAULT as DEFAULT_LOCALE
from bot.i18n import LOCALES
from bot.quay.names import InvalidName, check_namespace

TOP_KEYS = {"channels", "namespaces", "guardrails", "audit_channel"}
CHANNEL_KEYS = {"namespaces", "role", "alerts", "users", "locale", "identity", "approval"}


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


def load_policy(
    path: Path,
    environ: Mapping[str, str],
    default_token: SecretStr | None = None,
    *,
    commands: Collection[str] | None = None,
) -> AccessPolicy:
    """Read and check the access file; raise `AccessFileError` listing every problem. With `commands`
    (every command's words), approvals and guardrails must name commands that exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccessFileError(
            [f"{path}: the access file does not exist (set QUAYBOT_ACCESS_FILE, or create it; see README)"]
        ) from None
    except OSError as error:
        raise AccessFileError([f"{path}: cannot read the access file: {error.strerror}"]) from None
    return parse_policy(text, str(path), environ, default_token, commands=commands)


def parse_policy(
    text: str,
    source: str,
    environ: Mapping[str, str],
    default_token: SecretStr | None = None,
    *,
    commands: Collection[str] | None = None,
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
    _unknown_keys(top, TOP_KEYS, problems)
    tokens = _namespace_tokens(top.get("namespaces"), environ, problems)
    channels_entry = top.get("channels")
    channels = _channels(channels_entry, problems, root, commands)
    guardrails = _guardrails(top.get("guardrails"), problems, commands)
    audit_channel = _audit_channel(top.get("audit_channel"), problems)
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
    return AccessPolicy(
        channels=channels, tokens=tokens, source=source, guardrails=guardrails, audit_channel=audit_channel
    )


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


def _channels(
    top: _Entry | None, problems: _Problems, root: yaml.Node, commands: Collection[str] | None
) -> dict[str, ChannelAccess]:
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
        access = _channel(channel_id, item.value, problems, commands)
        if access is not None:
            channels[channel_id] = access
    return channels


def _channel(
    channel_id: str, node: yaml.Node, problems: _Problems, commands: Collection[str] | None
) -> ChannelAccess | None:
    fields = _mapping(node, problems, f"channel {channel_id}")
    entry = {key: item.value for key, item in fields.items()}
    _unknown_keys(fields, CHANNEL_KEYS, problems)
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
    identity = _scalar(entry.get("identity")) or "bot"
    if identity not in ("bot", "user"):
        problems.add(entry.get("identity"), f"identity must be bot or user, not `{identity[:40]}`")
        ok = False
    approval = _commands(entry.get("approval"), problems, "`approval`", commands)
    if not ok or role_text not in ROLES:
        return None
    acting: Identity = "user" if identity == "user" else "bot"
    return ChannelAccess(
        channel_id,
        tuple(dict.fromkeys(namespaces)),
        ROLES[role_text],
        alerts,
        users,
        locale,
        identity=acting,
        approval=frozenset(approval),
    )


def _commands(node: yaml.Node | None, problems: _Problems, what: str, commands: Collection[str] | None) -> list[str]:
    """Command names (`repo delete`), each checked against the commands there are."""
    if node is None:
        return []
    names = []
    for name, item in _string_list(node, problems, what):
        name = " ".join(name.split())
        if commands is not None and name not in commands:
            problems.add(item, f"`{name[:80]}` is not a command (expected one of: {', '.join(sorted(commands))})")
        else:
            names.append(name)
    return names


def _guardrails(top: _Entry | None, problems: _Problems, commands: Collection[str] | None) -> Guardrails:
    if top is None:
        return Guardrails()
    if not isinstance(top.value, yaml.SequenceNode):
        problems.add(top.value, "`guardrails` must be a list of {namespaces: [...], deny: [...]}")
        return Guardrails()
    rails: list[Guardrail] = []
    for position, node in enumerate(top.value.value, start=1):
        fields = _mapping(node, problems, f"guardrail {position}")
        _unknown_keys(fields, {"name", "namespaces", "deny"}, problems)
        patterns = (
            [p for p, _ in _string_list(fields["namespaces"].value, problems, "`namespaces`")]
            if ("namespaces" in fields)
            else []
        )
        if not patterns:
            problems.add(node, f"guardrail {position} needs `namespaces` (globs such as prod-* or *)")
        rules: list[Rule] = []
        for text, item in _string_list(fields["deny"].value, problems, "`deny`") if "deny" in fields else []:
            rule = split_rule(text, commands)
            if isinstance(rule, str):
                problems.add(item, rule)
            else:
                rules.append(rule)
        if "deny" not in fields:
            problems.add(node, f"guardrail {position} needs `deny` (commands, such as repo delete)")
        name = _scalar(fields["name"].value) if "name" in fields else None
        if patterns and rules:
            rails.append(Guardrail(position, tuple(patterns), tuple(rules), name))
    return Guardrails(tuple(rails))


def _audit_channel(entry: _Entry | None, problems: _Problems) -> str | None:
    if entry is None:
        return None
    channel = _scalar(entry.value)
    if channel is None or not CHANNEL_ID.fullmatch(channel):
        problems.add(entry.value, "`audit_channel` must be a Slack channel ID (like C0123ABCD)")
        return None
    return channel
