"""`/quay notify create <ns>/<name> <event> <method> [key=value ...] [--title "<t>"]
[--event-config key=value ...]`, typed or from its form. Events, methods and settings are checked
before Quay sees them (Quay answers an HTML 500 to unknown names), and the target by the egress
policy. Its written-back words mask the target's secrets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bot.access import Role
from bot.alerts.hints import WatchSoon
from bot.blocks.context import RenderContext
from bot.blocks.forms import (
    CONFIG,
    EVENT,
    EVENT_CONFIG,
    FORM_METHODS,
    METHOD,
    NOTIFY_CREATE,
    REPOSITORY,
    TITLE,
    Invalid,
    Values,
    value,
)
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
from bot.i18n import t
from bot.quay import NewNotification
from bot.quay.catalogue import EVENTS, METHODS, InvalidNotification, mask_config, validate_event, validate_method
from bot.quay.models import Notification
from bot.quay.names import InvalidName, RepositoryRef
from bot.slices.spec import CommandSpec, Form, Run


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
    written = [str(command.repo), command.event, command.method]
    config = mask_config(command.method, command.config) if masked else _plain_config(command)
    written += [f"{key}={value}" for key, value in config.items()]
    if command.title is not None:
        written += ["--title", command.title]
    if command.event_config:
        written += ["--event-config", *(f"{k}={v}" for k, v in command.event_config.items())]
    return written


def _plain_config(command: NotifyCreate) -> dict[str, str]:
    plain: dict[str, str] = {}
    for key, setting in command.config.items():
        if key == "target" and isinstance(setting, dict):
            plain[key] = f"{setting.get('kind')}:{setting.get('name')}"
        else:
            plain[key] = str(setting)
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


# The form ------------------------------------------------------------------------------------


def read_form(values: Values, namespaces: Sequence[str], repo: str | None, loc: str) -> NotifyCreate | Invalid:
    errors: dict[str, str] = {}
    ref: RepositoryRef | None = None
    written = value(values, REPOSITORY)
    try:
        ref = RepositoryRef.parse(written or "")
        if ref.namespace not in namespaces:
            errors[REPOSITORY] = t(loc, "This channel acts on {namespaces} only.", namespaces=", ".join(namespaces))
    except InvalidName as error:
        errors[REPOSITORY] = error.said(loc) if written else t(loc, "Write the repository as <namespace>/<name>.")
    event, method = value(values, EVENT), value(values, METHOD)
    if event not in EVENTS:
        errors[EVENT] = t(loc, "Pick an event.")
    if method not in FORM_METHODS:
        errors[METHOD] = t(loc, "Pick a method.")
    title = value(values, TITLE)
    if title is not None and len(title) > MAX_TITLE:
        errors[TITLE] = t(loc, "{count} characters; {limit} at most.", count=len(title), limit=MAX_TITLE)
    if errors or ref is None or event is None or method is None:
        return Invalid(errors)
    config: dict[str, Any] = {}
    for key in METHODS[method].required:
        typed = value(values, CONFIG + key)
        if typed is None:
            errors[CONFIG + key] = t(loc, "Required.")
        elif key == "target":
            kind, colon, name = typed.partition(":")
            if not colon:
                errors[CONFIG + key] = t(loc, "Write it as <kind>:<name>, e.g. team:owners or user:alice.")
            config[key] = {"kind": kind, "name": name}
        else:
            config[key] = typed
    event_config = {k: v for k in EVENTS[event].config_keys if (v := value(values, EVENT_CONFIG + k)) is not None}
    if errors:
        return Invalid(errors)
    try:
        event_config = validate_event(event, event_config)
    except InvalidNotification as error:
        keys = EVENTS[event].config_keys
        return Invalid({EVENT_CONFIG + keys[-1] if keys else EVENT: error.said(loc)})
    try:
        config = validate_method(method, config, ref.namespace)
    except InvalidNotification as error:
        keys = METHODS[method].required
        return Invalid({CONFIG + keys[0] if keys else METHOD: error.said(loc)})
    return NotifyCreate(ref, event, method, config, event_config, title)


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
    form=Form(NOTIFY_CREATE, read_form),
    watch=lambda result, now: WatchSoon(result.repo.namespace, result.repo.name, now),
)
