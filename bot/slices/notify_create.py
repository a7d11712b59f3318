"""`/quay notify create <ns>/<name> <event> <method> [key=value ...] [--title "<t>"]
[--event-config key=value ...]`, typed or from its form. Events, methods and settings are checked
before Quay sees them (Quay answers an HTML 500 to unknown names), and the target by the egress
policy. Its written-back words mask the target's secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.access import Role
from bot.alerts.hints import WatchSoon
from bot.blocks.context import RenderContext
from bot.blocks.message import Message, code
from bot.blocks.render import announce
from bot.commands.grammar import (
    MAX_TITLE,
    Arg,
    Bound,
    Definition,
    Flag,
    Pairs,
    ParseContext,
    key_values,
    limited,
    repository,
    said,
    usage,
)
from bot.quay import NewNotification
from bot.quay.catalogue import EVENTS, METHODS, InvalidNotification, mask_config, validate_event, validate_method
from bot.quay.models import Notification
from bot.quay.names import RepositoryRef
from bot.slices.spec import CommandSpec, Run


@dataclass(frozen=True)
class NotifyCreate:
    repo: RepositoryRef
    event: str
    method: str
    config: dict[str, Any] = field(default_factory=dict)
    event_config: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    command_name: ClassVar[str] = "notify create"


@dataclass(frozen=True)
class NotificationCreated:
    repo: RepositoryRef
    notification: Notification


def build(bound: Bound, context: ParseContext) -> NotifyCreate:
    repo = repository(bound.args[0], context)
    event, method = bound.args[1], bound.args[2]
    if event not in EVENTS and event in METHODS and method in EVENTS:
        raise usage("the event comes before the method: `{method} {event}`", method=method, event=event)
    config: dict[str, Any] = dict(key_values(bound.pairs, "settings are written key=value; `{word}` is not"))
    if method == "quay_notification" and "target" in config:
        kind, colon, name = str(config["target"]).partition(":")
        if not colon:
            raise usage("target is written <kind>:<name>, e.g. target=team:owners or target=user:alice")
        config["target"] = {"kind": kind, "name": name}
    title = bound.flags.get("--title")
    try:
        event_config = validate_event(
            event, key_values(bound.flag_pairs, "event config entries are written key=value; `{word}` is not")
        )
        config = validate_method(method, config, repo.namespace)
    except InvalidNotification as error:
        raise said(error) from None
    return NotifyCreate(
        repo,
        event,
        method,
        config,
        event_config,
        limited(str(title), "the title is {count} characters long; {limit} at most", MAX_TITLE)
        if title is not None
        else None,
    )


def words(command: NotifyCreate, masked: bool) -> list[str]:
    written = ["notify", "create", str(command.repo), command.event, command.method]
    config = mask_config(command.method, command.config) if masked else _plain_config(command)
    written += [f"{key}={value}" for key, value in config.items()]
    if command.title is not None:
        written += ["--title", command.title]
    if command.event_config:
        written += ["--event-config", *(f"{k}={v}" for k, v in command.event_config.items())]
    return written


def _plain_config(command: NotifyCreate) -> dict[str, str]:
    plain: dict[str, str] = {}
    for key, value in command.config.items():
        if key == "target" and isinstance(value, dict):
            plain[key] = f"{value.get('kind')}:{value.get('name')}"
        else:
            plain[key] = str(value)
    return plain


async def run(command: NotifyCreate, ctx: Run) -> NotificationCreated:
    await ctx.egress.check_notification(command.method, command.config)
    new = NewNotification(
        event=command.event,
        method=command.method,
        config=command.config,
        event_config=command.event_config,
        title=command.title,
    )
    return NotificationCreated(command.repo, await ctx.quay.create_notification(command.repo, new))


def render(result: NotificationCreated, ctx: RenderContext) -> Message:
    n = result.notification
    return announce(
        ctx,
        "{who} added a {event} notification to {repo} ({method} → {target}, UUID {uuid})",
        event=code(n.event),
        repo=code(result.repo.full_name),
        method=code(n.method),
        target=code(n.target),
        uuid=code(n.uuid),
    )


SPEC = CommandSpec(
    command=NotifyCreate,
    definition=Definition(
        "notify",
        "create",
        "add a notification",
        Role.WRITE,
        build,
        (Arg("repo"), Arg("event"), Arg("method")),
        (Pairs(), Flag("--title", '"<t>"'), Flag("--event-config", pairs=True)),
        topic="notify",
    ),
    words=words,
    run=run,
    render=render,
    results=(NotificationCreated,),
    watch=lambda result, now: WatchSoon(result.repo.namespace, result.repo.name, now),
)
