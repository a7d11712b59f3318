"""Help, generated from the same definitions the parser uses, filtered by what the channel may run.
The topic pages' notes (events, methods, how subscriptions work) are said here, once per topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.access import ChannelAccess, Role
from bot.commands.grammar import Definition
from bot.commands.model import HelpTopic
from bot.i18n import t
from bot.quay.catalogue import EVENTS, METHODS


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    summary: str
    role: Role


@dataclass(frozen=True)
class HelpPage:
    """What `/quay help` shows in one channel."""

    topic: HelpTopic | None
    access: ChannelAccess | None
    entries: tuple[HelpEntry, ...]
    hidden: int  # commands that exist but need a higher role than the channel has
    notes: tuple[str, ...] = ()
    unavailable: str | None = None  # why nothing can be run here, and what would allow it
    guarded: int = 0  # commands the role would allow that a guardrail denies here outright
    person: str | None = None  # where commands run as each person: the caller's linked Quay account
    beyond_person: int = 0  # commands that account may not run in any of the channel's namespaces


def _entry(definition: Definition) -> HelpEntry:
    summary = definition.summary
    if definition.aliases:
        summary += f" (also: {', '.join(definition.aliases)})"
    if definition.note:
        summary += f"; {definition.note}"
    return HelpEntry(definition.usage, summary, definition.role)


def help_page(
    definitions: Sequence[Definition],
    topic: HelpTopic | None,
    access: ChannelAccess | None,
    unavailable: str | None = None,
    denied: Callable[[str], bool] = lambda words: False,
) -> HelpPage:
    """`denied(words)`: is that command denied here whatever its arguments (a guardrail)?"""
    definitions = [d for d in definitions if d.verb != "help" and (topic is None or d.topic == topic)]
    allowed_role = access.role if access else None
    allowed = [d for d in definitions if allowed_role is not None and d.role <= allowed_role]
    shown = [d for d in allowed if not denied(d.words)]
    notes: list[str] = []
    if access is not None and access.default_namespace:
        loc, namespace = access.locale, access.default_namespace
        if topic == "subscribe":  # where the grammar reads a bare name as a namespace
            note = t(
                loc,
                "In subscribe and unsubscribe a bare name is a namespace: write {namespace}/<name> for one repository.",
                namespace=namespace,
            )
        elif topic is None:
            note = t(
                loc,
                "A bare name means {namespace}/<name> (in subscribe and unsubscribe: a namespace).",
                namespace=namespace,
            )
        else:
            note = t(loc, "A bare name means {namespace}/<name>.", namespace=namespace)
        notes.append(note)
    if topic == "notify":
        notes.append("Events: " + ", ".join(EVENTS) + ".")
        notes.append("Methods and their settings: " + "; ".join(_method_line(m) for m in METHODS) + ".")
        notes.append(
            "Event config (--event-config): ref-regex=<regex> for build events, level=<Critical|High|…> "
            "for vulnerability_found, days=<N> for repo_image_expiry."
        )
        notes.append("Quay disables a notification after 3 failed deliveries in a row; `notify reset` re-enables it.")
    if topic == "subscribe":
        notes.append("Events: " + ", ".join(EVENTS) + ".")
        notes.append(
            "A subscription adds one Quay webhook per repository and event (titled quaybot), pointing at this bot; "
            "`unsubscribe` removes exactly those. A namespace-wide one asks for confirmation above 100 webhooks."
        )
    return HelpPage(
        topic,
        access,
        tuple(_entry(d) for d in shown),
        hidden=len(definitions) - len(allowed),
        notes=tuple(notes),
        unavailable=unavailable,
        guarded=len(allowed) - len(shown),
    )


def _method_line(name: str) -> str:
    spec = METHODS[name]
    keys = [f"{key}=…" for key in spec.required] + [f"[{key}=…]" for key in spec.optional]
    if name == "quay_notification":
        keys = ["target=<user|org|team>:<name>"]
    return f"{name} {' '.join(keys)}"
