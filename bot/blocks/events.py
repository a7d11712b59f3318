"""Quay events as Slack messages, rendered from what a message shows so far (its group's data, see
`bot/subscriptions/grouping.py`). All Quay text is escaped; links are kept only when they are http(s)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks.message import Message, code, context, escape, fields, link, section, truncate

MAX_TAGS_SHOWN = 10
TAG_LIMIT = 128  # Quay's own limit on a tag name
DESCRIPTION_LIMIT = 500
ERROR_LIMIT = 1000

BUILD_STAGES = {
    "build_queued": (":hourglass_flowing_sand:", "queued"),
    "build_start": (":gear:", "started"),
    "build_success": (":white_check_mark:", "succeeded"),
    "build_failure": (":x:", "failed"),
    "build_cancelled": (":no_entry_sign:", "cancelled"),
}
MIRROR_STAGES = {
    "repo_mirror_sync_started": (":arrows_counterclockwise:", "Mirror sync started"),
    "repo_mirror_sync_success": (":white_check_mark:", "Mirror sync succeeded"),
    "repo_mirror_sync_failed": (":x:", "Mirror sync failed"),
}


def safe_link(url: str | None, label: str) -> str:
    """A link when the URL is plain http(s); otherwise the label alone, escaped."""
    if url and url.startswith(("https://", "http://")) and not any(c in url for c in "<>| \n"):
        return link(url, label)
    return escape(label)


def tag_list(tags: Sequence[str], limit: int = MAX_TAGS_SHOWN, budget: int = 1000) -> str:
    """Up to `limit` tags, within `budget` characters, then how many more: a long list never pushes
    the rest of the message out of its block."""
    if not tags:
        return "(none)"
    shown: list[str] = []
    for tag in tags[:limit]:
        item = code(truncate(tag, TAG_LIMIT))
        if shown and sum(len(s) + 2 for s in shown) + len(item) > budget:
            break
        shown.append(item)
    more = len(tags) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _message(text: str, blocks: list[Block]) -> dict[str, Any]:
    # The fallback is Quay's text too: escaped, so it cannot mention @channel in a notification.
    payload = Message(escape(truncate(text, 2500)), blocks, in_channel=True).to_dict()
    payload.pop("response_type", None)
    return payload


def render_push(data: Mapping[str, Any]) -> dict[str, Any]:
    repository: str = data["repository"]
    tags: list[str] = data["tags"]
    pushes: int = data["pushes"]
    where = safe_link(data.get("homepage"), repository)
    lines = [f":package: *Pushed to {where}*: {tag_list(tags)}"]
    pull = [f"docker pull {truncate(data['docker_url'], 256)}:{truncate(tag, TAG_LIMIT)}" for tag in tags[-3:]]
    lines.append("```" + escape("\n".join(pull)).replace("```", "ˋˋˋ") + "```")
    blocks: list[Block] = [section("\n".join(lines))]
    if pushes > 1:
        blocks.append(context(f"{pushes} pushes within a minute, gathered in this message"))
    return _message(f"Pushed to {repository}: {', '.join(tags[:MAX_TAGS_SHOWN])}", blocks)


def render_build(data: Mapping[str, Any]) -> dict[str, Any]:
    repository: str = data["repository"]
    stage: str = data["stage"]
    emoji, word = BUILD_STAGES.get(stage, (":gear:", stage))
    name = data.get("build_name") or data["build_id"]
    headline = f"{emoji} *Build {code(name)} of {safe_link(data.get('repo_homepage'), repository)} {word}*"
    facts: list[tuple[str, str]] = []
    if data.get("trigger_kind"):
        facts.append(("Trigger", escape(data["trigger_kind"]) + (" (manual)" if data.get("is_manual") else "")))
    if data.get("ref"):
        facts.append(("Ref", code(data["ref"])))
    if data.get("commit"):
        facts.append(("Commit", safe_link(data.get("commit_url"), data["commit"][:7])))
    if data.get("docker_tags"):
        facts.append(("Tags", tag_list(data["docker_tags"])))
    text = headline
    if data.get("commit_message"):
        text += "\n>" + escape(truncate(str(data["commit_message"]).splitlines()[0], 200))
    blocks: list[Block] = [fields(facts, text=text) if facts else section(text)]
    if stage == "build_failure" and data.get("error_message"):
        blocks.append(section("*Error*\n```" + escape(truncate(data["error_message"], ERROR_LIMIT)) + "```"))
    blocks.append(context(safe_link(data.get("homepage"), "Build page") + f" · build {code(data['build_id'])}"))
    return _message(f"Build {name} of {repository} {word}", blocks)


def build_thread_line(stage: str, at: float, error: str | None = None) -> str:
    emoji, word = BUILD_STAGES.get(stage, (":gear:", stage))
    line = f"{emoji} {word.capitalize()} at {time.strftime('%H:%M:%S UTC', time.gmtime(at))}"
    if stage == "build_failure" and error:
        line += ": " + escape(truncate(error, 300))
    return line


def render_vulnerability(data: Mapping[str, Any]) -> dict[str, Any]:
    repository: str = data["repository"]
    vulnerability: Mapping[str, Any] = data["vulnerability"]
    cve = safe_link(vulnerability.get("link"), vulnerability["id"])
    priority = vulnerability.get("priority") or "unknown priority"
    text = f":shield: *{cve}* ({escape(priority)}) found in {safe_link(data.get('homepage'), repository)}"
    if vulnerability.get("description"):
        text += "\n" + escape(truncate(vulnerability["description"], DESCRIPTION_LIMIT))
    blocks: list[Block] = [section(text), context("Affected tags: " + tag_list(data.get("tags") or []))]
    return _message(f"{vulnerability['id']} ({priority}) found in {repository}", blocks)


def render_expiry(data: Mapping[str, Any]) -> dict[str, Any]:
    repository: str = data["repository"]
    when = escape(data["expiring_in"])
    text = (
        f":hourglass: *Tags expiring in {when}* on {safe_link(data.get('homepage'), repository)}: "
        f"{tag_list(data['tags'])}"
    )
    return _message(f"Tags expiring in {data['expiring_in']} on {repository}", [section(text)])


def render_mirror(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    repository: str = data["repository"]
    emoji, what = MIRROR_STAGES.get(event, (":arrows_counterclockwise:", event))
    text = f"{emoji} *{what}* for {safe_link(data.get('homepage'), repository)}"
    if data.get("message"):
        text += "\n" + escape(truncate(data["message"], DESCRIPTION_LIMIT))
    return _message(f"{what} for {repository}", [section(text)])
