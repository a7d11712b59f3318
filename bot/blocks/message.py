"""A Slack message: Block Kit blocks (slack_sdk models, which check Slack's limits) plus plain text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
FALLBACK_TEXT = 3000


@dataclass(frozen=True)
class Message:
    text: str
    blocks: Sequence[Block] = field(default_factory=tuple)
    in_channel: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The payload for `respond()`/`chat.postMessage`; serialising validates every block."""
        if len(self.blocks) > MAX_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks; Slack allows {MAX_BLOCKS} in a message")
        return {
            "text": truncate(self.text, FALLBACK_TEXT),
            "blocks": [block.to_dict() for block in self.blocks],
            "response_type": "in_channel" if self.in_channel else "ephemeral",
        }


def escape(text: str) -> str:
    """Text from Quay or users must not become Slack markup (`<!channel>`, links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Inline code; backticks inside would end it early."""
    return "`" + escape(text).replace("`", "ˋ") + "`"


def link(url: str, label: str) -> str:
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def plain(text: str, *, in_channel: bool = False) -> Message:
    """A message of one section whose text is also its notification fallback."""
    return Message(text, [section(text)], in_channel=in_channel)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)))


def fields(pairs: Sequence[tuple[str, str]], text: str | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)) if text else None,
        fields=[MarkdownTextObject(text=truncate(f"*{label}*\n{value}", FIELD_TEXT)) for label, value in pairs[:10]],
    )


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_TEXT)))


def context(*lines: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(line, FIELD_TEXT)) for line in lines[:10]])


def button(
    text: str, action_id: str, value: str, style: str | None = None, confirm: ConfirmObject | None = None
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=text), action_id=action_id, value=value, style=style, confirm=confirm
    )


def actions(*buttons: ButtonElement, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=list(buttons), block_id=block_id)


def chunk_lines(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[str]:
    """Join lines into as few texts as fit in one section each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
