"""Forms (Slack modals), in one place: their callback and field ids, reading a submission's values,
and the modals themselves, built from the same catalogue as the grammar and help (the events, the
methods, each one's settings are listed once, in `bot/quay/catalogue.py`). What a submitted form
means is its command's (`CommandSpec.form`, `bot/slices/`), checked as the typed command is, so a
form cannot do what the typed command would refuse."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.message import truncate
from bot.commands.grammar import MAX_TEXT
from bot.i18n import t
from bot.quay.catalogue import EVENTS, METHODS, VULNERABILITY_LEVELS

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


EVENT_SELECT = "quaybot_form_event"
METHOD_SELECT = "quaybot_form_method"
TEXT = "text"  # the action id of plain inputs

# How each setting is asked for: label, placeholder, hint.
SETTINGS: dict[str, tuple[str, str, str]] = {
    "webhook.url": ("Webhook URL", "https://ci.example.com/hooks/quay", "Quay POSTs the event as JSON here."),
    "slack.url": ("Slack incoming-webhook URL", "https://hooks.slack.com/services/…", ""),
    "email.email": ("E-mail address", "ops@example.com", "It must be authorized for the repository in Quay."),
    "quay_notification.target": (
        "Quay notification target",
        "team:owners",
        "user:<name>, org:<namespace> or team:<name>",
    ),
    "ref-regex": ("Only refs matching", "heads/main", "A regular expression; empty: every ref."),
    "level": ("Minimum severity", "", "Empty: every vulnerability."),
    "days": ("Days before expiry", "7", "Quay skips the event without it."),
}


def metadata(channel_id: str, repo: str | None = None) -> str:
    """`private_metadata`: where the form was opened from, nothing secret."""
    return json.dumps({"channel": channel_id, **({"repo": repo} if repo else {})})


def read_metadata(text: str) -> tuple[str, str | None]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return "", None
    if not isinstance(data, dict):
        return "", None
    repo = data.get("repo")
    return str(data.get("channel") or ""), str(repo) if isinstance(repo, str) else None


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text)


def _option(value: str, label: str | None = None) -> Option:
    return Option(value=value, label=truncate(label or value, 75))


def _label(text: str, loc: str) -> PlainTextObject:
    return _plain(t(loc, text))


def _text_input(
    loc: str,
    block_id: str,
    label: str,
    *,
    initial: str | None = None,
    placeholder: str = "",
    hint: str = "",
    optional: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_label(label, loc),
        element=PlainTextInputElement(
            action_id=TEXT,
            initial_value=initial or None,
            placeholder=_plain(truncate(placeholder, 150)) if placeholder else None,
            multiline=multiline,
            max_length=max_length,
        ),
        hint=_label(hint, loc) if hint else None,
        optional=optional,
    )


def _select(
    loc: str,
    block_id: str,
    label: str,
    options: list[Option],
    chosen: str | None,
    *,
    action_id: str = TEXT,
    dispatch: bool = False,
    hint: str = "",
    optional: bool = False,
) -> InputBlock:
    """A static select, with the option whose value is `chosen` selected; `dispatch`: a choice is sent
    at once (the form is rendered again for it)."""
    return InputBlock(
        block_id=block_id,
        label=_label(label, loc),
        dispatch_action=dispatch,
        element=StaticSelectElement(
            action_id=action_id, options=options, initial_option=next((o for o in options if o.value == chosen), None)
        ),
        hint=_label(hint, loc) if hint else None,
        optional=optional,
    )


def _modal(loc: str, callback_id: str, title: str, submit: str, blocks: Sequence[Block], private_metadata: str) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=_label(title, loc),
        submit=_label(submit, loc),
        close=_label("Cancel", loc),
        blocks=list(blocks),
        private_metadata=private_metadata,
    )


def repo_create_modal(channel_id: str, namespaces: Sequence[str], loc: str = "en") -> View:
    options = [_option(n) for n in namespaces[:100]]
    blocks: list[Block] = [
        _select(loc, NAMESPACE, "Namespace", options, namespaces[0] if len(namespaces) == 1 else None),
        _text_input(
            loc, NAME, "Name", placeholder="api", hint="Lowercase letters, digits, . _ - and /", max_length=255
        ),
        InputBlock(
            block_id=VISIBILITY,
            label=_label("Visibility", loc),
            element=RadioButtonsElement(
                action_id=TEXT,
                options=[
                    _option("private", t(loc, "Private: only those with access")),
                    _option("public", t(loc, "Public: anyone can pull")),
                ],
                initial_option=_option("private", t(loc, "Private: only those with access")),
            ),
        ),
        _text_input(loc, DESCRIPTION, "Description", optional=True, multiline=True, max_length=MAX_TEXT),
    ]
    return _modal(loc, REPO_CREATE, "New repository", "Create", blocks, metadata(channel_id))


def describe_loading_modal(channel_id: str, repo: str, loc: str = "en") -> View:
    """Opened at once (a trigger lasts 3 s), then replaced by the form once Quay has answered."""
    reading = t(loc, "Reading the description of {repo} from Quay…", repo=f"`{repo}`")
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=reading)])]
    return View(
        type="modal",
        callback_id=REPO_DESCRIBE,
        title=_label("Describe repository", loc),
        close=_label("Cancel", loc),
        blocks=blocks,
        private_metadata=metadata(channel_id, repo),
    )


def describe_modal(channel_id: str, repo: str, current: str | None, loc: str = "en") -> View:
    about = t(loc, "The description of {repo} in Quay (Markdown).", repo=f"`{repo}`")
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=about)]),
        _text_input(
            loc,
            DESCRIPTION,
            "Description",
            initial=truncate(current or "", 3000),
            optional=True,
            multiline=True,
            max_length=3000,
        ),
    ]
    return _modal(loc, REPO_DESCRIBE, "Describe repository", "Save", blocks, metadata(channel_id, repo))


def notify_create_modal(
    channel_id: str,
    repo: str | None,
    event: str | None = None,
    method: str | None = None,
    typed: Values | None = None,
    loc: str = "en",
) -> View:
    """The form for `notify create`; rendered again (`views.update`) when the event or the method
    changes, keeping what was typed."""
    typed = typed or {}
    events = [_option(name, f"{name}: {t(loc, spec.summary)}") for name, spec in EVENTS.items()]
    methods = [_option(name, f"{name}: {t(loc, METHODS[name].summary)}") for name in FORM_METHODS]
    blocks: list[Block] = [
        _text_input(
            loc,
            REPOSITORY,
            "Repository",
            initial=value(typed, REPOSITORY) or repo,
            placeholder="team-a/api",
        ),
        _select(loc, EVENT, "Event", events, event, action_id=EVENT_SELECT, dispatch=True),
        _select(loc, METHOD, "Method", methods, method, action_id=METHOD_SELECT, dispatch=True),
    ]
    if method in METHODS:
        for key in METHODS[method].required:
            label, placeholder, hint = SETTINGS.get(f"{method}.{key}", (key, "", ""))
            initial = value(typed, CONFIG + key)
            blocks.append(_text_input(loc, CONFIG + key, label, initial=initial, placeholder=placeholder, hint=hint))
    if event in EVENTS:
        for key in EVENTS[event].config_keys:
            label, placeholder, hint = SETTINGS.get(key, (key, "", ""))
            initial = value(typed, EVENT_CONFIG + key)
            if key == "level":
                levels = [_option(str(i), name) for i, name in enumerate(VULNERABILITY_LEVELS)]
                blocks.append(_select(loc, EVENT_CONFIG + key, label, levels, initial, hint=hint, optional=True))
            else:
                blocks.append(
                    _text_input(
                        loc,
                        EVENT_CONFIG + key,
                        label,
                        initial=initial,
                        placeholder=placeholder,
                        hint=hint,
                        optional=key != "days",
                    )
                )
    blocks.append(_text_input(loc, TITLE, "Title", initial=value(typed, TITLE), optional=True, max_length=255))
    return _modal(loc, NOTIFY_CREATE, "New notification", "Add", blocks, metadata(channel_id, repo))


def notice(text: str, loc: str = "en") -> View:
    """A modal that only says something (the form could not be filled in)."""
    return View(
        type="modal",
        title=_plain("quaybot"),
        close=_label("Close", loc),
        blocks=[ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000))])],
    )
