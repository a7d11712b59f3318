"""A readable plain-text rendering of Block Kit messages, for the terminal (`quaybot run`)."""

from __future__ import annotations

import re
from typing import Any

from bot.blocks.message import Message

_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_EMOJI = {
    ":white_check_mark:": "✓",
    ":x:": "✗",
    ":warning:": "!",
    ":no_entry:": "⛔",
    ":grey_question:": "?",
    ":hourglass_flowing_sand:": "…",
}


def to_text(message: Message) -> str:
    lines: list[str] = []
    for block in message.to_dict()["blocks"]:
        lines.extend(_block_lines(block))
    return "\n".join(lines).rstrip() + "\n"


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "header":
        title = block["text"]["text"]
        return [title, "=" * len(title)]
    if kind == "divider":
        return ["---"]
    if kind == "section":
        lines = [_mrkdwn(block["text"]["text"])] if block.get("text") else []
        for item in block.get("fields", []):
            label, _, value = item["text"].partition("\n")
            lines.append(f"  {_mrkdwn(label)}: {_mrkdwn(value)}")
        return lines
    if kind == "context":
        return ["  " + _mrkdwn(e.get("text", "")) for e in block["elements"]]
    if kind == "actions":
        return ["  " + " ".join(f"[{e['text']['text']}]" for e in block["elements"])]
    return []


def _mrkdwn(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _MENTION.sub(r"@\1", text)
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    text = text.replace("```", "").replace("*", "").replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
