"""Every message the bot can show, as written in English: the string literals given to `t(...)`,
`ctx.t(...)`, `plural(...)` and `_label(...)` anywhere in bot/, plus the tables whose entries are
translated where they are used (help summaries and notes, catalogue summaries, role and state words,
headlines, form labels)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "bot"
CALLS = {
    "t",
    "plural",
    "_label",
    "_modal",
    "_text_input",
    "_select",
    "usage",
    "limited",
    "key_values",
    "announce",
    "LexError",
    "InvalidName",
    "InvalidNotification",
    "EgressRefused",
    "Phrase",
}
TRANSLATED_KEYWORDS = {"hint", "remedy"}  # keyword arguments translated by the helper (placeholders are examples)
KEYWORDS_ONLY = {"Change": {"thread"}}  # an alert's thread line is translated where it is posted


def literal_messages() -> dict[str, str]:
    """message -> where it is first used."""
    found: dict[str, str] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "i18n" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in KEYWORDS_ONLY:
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg in KEYWORDS_ONLY[name] and isinstance(value, ast.Constant) and value.value:
                        found.setdefault(str(value.value), f"{path.relative_to(ROOT.parent)}:{node.lineno}")
                continue
            if name not in CALLS:
                continue
            values = [*node.args, *(k.value for k in node.keywords if k.arg in TRANSLATED_KEYWORDS)]
            for arg in values:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                    if name == "t" and arg is node.args[0] and len(node.args) > 1:
                        continue  # t(locale, message): the first argument is the locale
                    found.setdefault(arg.value, f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    return found


def table_messages() -> set[str]:
    from bot.access import Role
    from bot.blocks.alerts import HEADLINES, UNREACHABLE
    from bot.blocks.events import BUILD_STAGES, MIRROR_STAGES
    from bot.blocks.forms import SETTINGS
    from bot.interactions.home import CAN
    from bot.quay.catalogue import EVENTS, METHODS
    from bot.slices import REGISTRY
    from bot.subscriptions import manager

    help_page, DEFINITIONS = REGISTRY.help_page, REGISTRY.definitions

    messages = {d.summary for d in DEFINITIONS} | {role.label for role in Role}
    for public_url in (None, "http://localhost:3000"):  # what NotConfigured says
        try:
            manager.check_public_url(public_url)
        except manager.NotConfigured as missing:
            messages |= {missing.reason, missing.remedy}
    messages |= {spec.summary for spec in EVENTS.values()} | {spec.summary for spec in METHODS.values()}
    for topic in (None, "repo", "notify", "subscribe"):
        messages |= set(help_page(topic, None).notes)  # type: ignore[arg-type]
    messages |= {"public", "private"} | set(HEADLINES.values()) | {UNREACHABLE} | set(CAN.values())
    messages |= {word for _, word, _ in BUILD_STAGES.values()} | {line for _, _, line in BUILD_STAGES.values()}
    messages |= {what for _, what in MIRROR_STAGES.values()}
    messages |= {label for label, _, _ in SETTINGS.values()} | {hint for _, _, hint in SETTINGS.values() if hint}
    from bot.commands.grammar import DESCRIPTION_TOO_LONG
    from bot.slack.delivery import BUSY, DATABASE_DOWN, INTERNAL
    from bot.slack.serving import STOPPED_DURING, STOPPED_FIRST
    from bot.store.confirmations import INTERRUPTED

    messages |= {BUSY, DATABASE_DOWN, INTERNAL, DESCRIPTION_TOO_LONG, INTERRUPTED, STOPPED_FIRST, STOPPED_DURING}
    messages |= {"Failing", "Disabled by Quay", "Recovered", "Deleted"}  # alert states, plain text
    messages |= {"done", "failed", "refused", "cancelled", "expired", "running", "interrupted", "pending"}
    messages |= {
        "succeeded",
        "confirmation_requested",
        "confirmed_succeeded",
        "confirmed_failed",
        "confirmed_refused",
    }  # audit outcomes on the home tab
    return messages


def all_messages() -> set[str]:
    return set(literal_messages()) | table_messages()
