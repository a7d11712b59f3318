"""A command written back as `/quay` text: for the audit log (secrets masked) and for stored
confirmations (destructive commands carry no secrets, and their text parses back to the same command)."""

from __future__ import annotations

from shlex import quote

from bot.commands.model import (
    Command,
    Help,
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
)
from bot.quay.catalogue import mask_config


def command_text(command: Command, *, masked: bool = True) -> str:
    words: list[str]
    match command:
        case Help():
            words = ["help", *([command.topic] if command.topic else [])]
        case RepoList():
            words = ["repo", "list", command.namespace]
            words += ["--public"] * command.public + ["--starred"] * command.starred
        case RepoCreate():
            words = ["repo", "create", str(command.repo), f"--{command.visibility}"]
            if command.description:
                words += ["--description", command.description]
        case RepoInfo() | RepoDelete() | NotifyList():
            words = [*command.command_name.split(), str(command.repo)]
        case RepoDescribe():
            words = ["repo", "describe", str(command.repo), command.description]
        case RepoVisibility():
            words = ["repo", "visibility", str(command.repo), command.visibility]
        case NotifyGet() | NotifyTest() | NotifyReset() | NotifyDelete():
            words = [*command.command_name.split(), str(command.repo), command.uuid]
        case Subscribe() | Unsubscribe():
            words = [command.command_name, str(command.target), *command.events]
        case Subscriptions():
            words = ["subscriptions"]
        case NotifyCreate():
            words = ["notify", "create", str(command.repo), command.event, command.method]
            config = mask_config(command.method, command.config) if masked else _plain_config(command)
            words += [f"{key}={value}" for key, value in config.items()]
            if command.title is not None:
                words += ["--title", command.title]
            if command.event_config:
                words += ["--event-config", *(f"{k}={v}" for k, v in command.event_config.items())]
    return " ".join(quote(word) for word in words)


def _plain_config(command: NotifyCreate) -> dict[str, str]:
    plain: dict[str, str] = {}
    for key, value in command.config.items():
        if key == "target" and isinstance(value, dict):
            plain[key] = f"{value.get('kind')}:{value.get('name')}"
        else:
            plain[key] = str(value)
    return plain
