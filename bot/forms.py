"""What a submitted form means: the values of a modal to a typed command, or an error per field.

No Slack here beyond the shape of `view.state.values`; the checks are the grammar's own (names,
lengths, the notification catalogue), so a form cannot do what the typed command would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands.grammar import MAX_TEXT, MAX_TITLE
from bot.i18n import t
from bot.quay.catalogue import EVENTS, METHODS, InvalidNotification, validate_event, validate_method
from bot.quay.names import InvalidName, RepositoryRef
from bot.slices.notify_create import NotifyCreate
from bot.slices.repo_create import RepoCreate
from bot.slices.repo_describe import RepoDescribe

REPO_CREATE = "quaybot_repo_create"
NOTIFY_CREATE = "quaybot_notify_create"
REPO_DESCRIBE = "quaybot_repo_describe"

# Block ids of the fields; a field's error is shown on its block.
NAMESPACE, NAME, VISIBILITY, DESCRIPTION = "namespace", "name", "visibility", "description"
REPOSITORY, EVENT, METHOD, TITLE = "repository", "event", "method", "title"
CONFIG, EVENT_CONFIG = "config:", "event_config:"  # + the key
# Methods offered in the form; the legacy ones (flowdock, hipchat) stay typed-only.
FORM_METHODS = ("webhook", "slack", "email", "quay_notification")

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]  # view.state.values


@dataclass(frozen=True)
class Invalid:
    errors: dict[str, str]  # block id -> what is wrong


def value(values: Values, block_id: str) -> str | None:
    """The text typed or the option chosen in a block (whatever its one element is). Slack sends a
    block's values as objects; anything else (only a forged submission has it) reads as empty."""
    block = values.get(block_id)
    for element in block.values() if isinstance(block, Mapping) else ():
        if not isinstance(element, Mapping):
            return None
        if chosen := element.get("selected_option"):
            picked = chosen.get("value") if isinstance(chosen, Mapping) else None
            return str(picked or "") or None
        typed = element.get("value")
        return str(typed).strip() if typed is not None and str(typed).strip() else None
    return None


def read_repo_create(values: Values, namespaces: tuple[str, ...], loc: str = "en") -> RepoCreate | Invalid:
    errors: dict[str, str] = {}
    namespace = value(values, NAMESPACE)
    if namespace not in namespaces:
        errors[NAMESPACE] = t(loc, "Pick one of this channel's namespaces.")
    name = value(values, NAME)
    ref: RepositoryRef | None = None
    if not name:
        errors[NAME] = t(loc, "Give the repository a name.")
    elif namespace in namespaces:
        try:
            ref = RepositoryRef.parse(f"{namespace}/{name}")
        except InvalidName as error:
            errors[NAME] = error.said(loc)
    description = value(values, DESCRIPTION) or ""
    if len(description) > MAX_TEXT:
        errors[DESCRIPTION] = t(loc, "{count} characters; {limit} at most.", count=len(description), limit=MAX_TEXT)
    if errors or ref is None:
        return Invalid(errors)
    if value(values, VISIBILITY) == "public":
        return RepoCreate(ref, "public", description)
    return RepoCreate(ref, "private", description)


def read_describe(values: Values, repo: RepositoryRef, loc: str = "en") -> RepoDescribe | Invalid:
    description = value(values, DESCRIPTION) or ""
    if len(description) > MAX_TEXT:
        return Invalid(
            {DESCRIPTION: t(loc, "{count} characters; {limit} at most.", count=len(description), limit=MAX_TEXT)}
        )
    return RepoDescribe(repo, description)


def read_notify_create(values: Values, namespaces: tuple[str, ...], loc: str = "en") -> NotifyCreate | Invalid:
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
