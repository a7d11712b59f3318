"""A stricter Block Kit check than slack_sdk's models, as the fake Slack will apply to every message.

slack_sdk validates limits only when a model is serialised and misses message-level rules (50
blocks), so this re-parses the JSON a message would carry and adds those rules.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

LIMITS = {"section_text": 3000, "field": 2000, "header": 150, "button_text": 75, "value": 2000, "ids": 255}


def problems(message: dict[str, Any], surface: str = "message") -> list[str]:
    found: list[str] = []
    blocks = message.get("blocks") or []
    limit = 50 if surface == "message" else 100
    if len(blocks) > limit:
        found.append(f"{len(blocks)} blocks > {limit}")
    if blocks and not str(message.get("text", "")).strip():
        found.append("no plain text fallback")
    for index, raw in enumerate(blocks):
        parsed = Block.parse(raw)
        if parsed is None:
            found.append(f"block {index}: unknown type {raw.get('type')}")
            continue
        try:
            parsed.to_dict()
        except Exception as error:  # slack_sdk raises SlackObjectFormationError
            found.append(f"block {index}: {error}")
        found += [f"block {index}: {p}" for p in _block_rules(raw)]
    return found


def _block_rules(block: dict[str, Any]) -> list[str]:
    found = []
    kind = block["type"]
    if kind == "section":
        text = (block.get("text") or {}).get("text", "")
        if len(text) > LIMITS["section_text"]:
            found.append("section text too long")
        if not text and not block.get("fields"):
            found.append("section without text or fields")
        if len(block.get("fields", [])) > 10:
            found.append("more than 10 fields")
        found += ["field too long" for f in block.get("fields", []) if len(f["text"]) > LIMITS["field"]]
    if kind == "header" and (block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > LIMITS["header"]):
        found.append("header must be plain_text of 150 characters at most")
    if kind == "actions":
        ids = [e.get("action_id") for e in block["elements"]]
        if len(ids) != len(set(ids)):
            found.append("duplicate action_id in one block")
        for element in block["elements"]:
            if element["type"] == "button":
                if element["text"]["type"] != "plain_text" or len(element["text"]["text"]) > LIMITS["button_text"]:
                    found.append("button text must be plain_text of 75 characters at most")
                if len(element.get("value", "")) > LIMITS["value"]:
                    found.append("button value too long")
    if len(block.get("block_id", "")) > LIMITS["ids"]:
        found.append("block_id too long")
    return found


def view_problems(view: dict[str, Any]) -> list[str]:
    """A modal or home tab as Slack checks it: slack_sdk's `View` model, then the limits it misses."""
    from slack_sdk.models.views import View

    found: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view type {kind!r}"]
    try:
        View(**view).to_dict()
    except Exception as error:
        found.append(f"view: {error}")
    if kind == "modal":
        title = (view.get("title") or {}).get("text", "")
        if not 1 <= len(title) <= 24:
            found.append(f"modal title of {len(title)} characters (1 to 24)")
        for key in ("submit", "close"):
            if view.get(key) and len(view[key].get("text", "")) > 24:
                found.append(f"{key} text over 24 characters")
        if any(b.get("type") == "input" for b in view.get("blocks", [])) and not view.get("submit"):
            found.append("a modal with inputs needs a submit button")
    elif view.get("submit") or view.get("close"):
        found.append("a home tab has no submit or close")
    if len(view.get("private_metadata", "")) > 3000:
        found.append("private_metadata over 3000 characters")
    if len(view.get("callback_id", "")) > 255:
        found.append("callback_id over 255 characters")
    blocks = view.get("blocks") or []
    if not 1 <= len(blocks) <= 100:
        found.append(f"{len(blocks)} blocks (1 to 100)")
    found += problems({"text": "view", "blocks": blocks}, surface="view")
    block_ids = [b["block_id"] for b in blocks if b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        found.append("duplicate block_id")
    return found
