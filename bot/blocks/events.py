"""Quay events as Slack messages, rendered from what a message shows so far (its group's data, see
`bot/subscriptions/grouping.py`). All Quay text is escaped; links are kept only when they are http(s)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.blocks.ids import TAG_RESTORE_PREVIOUS_ACTION, numbered
from bot.blocks.message import Message, actions, button, code, context, escape, fields, link, section, truncate
from bot.i18n import t
from bot.quay.names import InvalidName, TagRef

MAX_TAGS_SHOWN = 10
TAG_LIMIT = 128  # Quay's own limit on a tag name
DESCRIPTION_LIMIT = 500
ERROR_LIMIT = 1000

BUILD_STAGES = {
    "build_queued": (":hourglass_flowing_sand:", "queued", "Queued"),
    "build_start": (":gear:", "started", "Started"),
    "build_success": (":white_check_mark:", "succeeded", "Succeeded"),
    "build_failure": (":x:", "failed", "Failed"),
    "build_cancelled": (":no_entry_sign:", "cancelled", "Cancelled"),
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


def tag_list(tags: Sequence[str], locale: str = "en", limit: int = MAX_TAGS_SHOWN, budget: int = 1000) -> str:
    """Up to `limit` tags, within `budget` characters, then how many more: a long list never pushes
    the rest of the message out of its block."""
    if not tags:
        return t(locale, "(none)")
    shown: list[str] = []
    for tag in tags[:limit]:
        item = code(truncate(tag, TAG_LIMIT))
        if shown and sum(len(s) + 2 for s in shown) + len(item) > budget:
            break
        shown.append(item)
    more = len(tags) - len(shown)
    return ", ".join(shown) + (t(locale, " and {count} more", count=more) if more > 0 else "")


def _message(text: str, blocks: list[Block]) -> dict[str, Any]:
    # The fallback is Quay's text too: escaped, so it cannot mention @channel in a notification.
    payload = Message(escape(truncate(text, 2500)), blocks, in_channel=True).to_dict()
    payload.pop("response_type", None)
    return payload


def _locale(data: Mapping[str, Any]) -> str:
    return str(data.get("locale") or "en")


def render_push(data: Mapping[str, Any]) -> dict[str, Any]:
    loc = _locale(data)
    repository: str = data["repository"]
    tags: list[str] = data["tags"]
    pushes: int = data["pushes"]
    where = safe_link(data.get("homepage"), repository)
    lines = [t(loc, ":package: *Pushed to {repo}*:", repo=where) + " " + tag_list(tags, loc)]
    pull = [f"docker pull {truncate(data['docker_url'], 256)}:{truncate(tag, TAG_LIMIT)}" for tag in tags[-3:]]
    lines.append("```" + escape("\n".join(pull)).replace("```", "ˋˋˋ") + "```")
    blocks: list[Block] = [section("\n".join(lines))]
    restorable = [tag for tag in tags[-5:] if _restorable(repository, tag)]
    if restorable:  # each through `tag restore`'s confirmation, with the version the push replaced
        blocks.append(
            actions(
                *(
                    button(
                        truncate(t(loc, "Restore previous {tag}", tag=tag), 75),
                        numbered(TAG_RESTORE_PREVIOUS_ACTION, index),
                        f"{repository}:{tag}",
                    )
                    for index, tag in enumerate(restorable)
                )
            )
        )
    by = _pushed_by(tags, data.get("pushers") or {}, loc)
    if by:
        blocks.append(context(by))
    if pushes > 1:
        blocks.append(context(t(loc, "{count} pushes within a minute, gathered in this message", count=pushes)))
    return _message(t(loc, "Pushed to {repo}:", repo=repository) + " " + ", ".join(tags[:MAX_TAGS_SHOWN]), blocks)


def _pushed_by(tags: Sequence[str], pushers: Mapping[str, str], loc: str) -> str:
    """ "Pushed by `alice`", or who pushed which tag when they differ; from Quay's usage logs."""
    named = [(tag, str(pushers[tag])) for tag in tags[-MAX_TAGS_SHOWN:] if tag in pushers]
    if not named:
        return ""
    people = list(dict.fromkeys(who for _, who in named))
    if len(people) == 1:
        return t(loc, "Pushed by {who}", who=code(truncate(people[0], 64)))
    each = ", ".join(f"{code(truncate(who, 64))} ({code(truncate(tag, TAG_LIMIT))})" for tag, who in named)
    return t(loc, "Pushed by {who}", who=each)


def _restorable(repository: str, tag: str) -> bool:
    """A button value the restore handler will read back (Quay's names, so it always is)."""
    try:
        TagRef.parse(f"{repository}:{tag}")
    except InvalidName:
        return False
    return len(repository) + len(tag) < 1900


def render_build(data: Mapping[str, Any]) -> dict[str, Any]:
    loc = _locale(data)
    repository: str = data["repository"]
    stage: str = data["stage"]
    emoji, word, _ = BUILD_STAGES.get(stage, (":gear:", stage, stage))
    name = data.get("build_name") or data["build_id"]
    where = safe_link(data.get("repo_homepage"), repository)
    headline = emoji + " " + t(loc, "*Build {name} of {repo} {stage}*", name=code(name), repo=where, stage=t(loc, word))
    facts: list[tuple[str, str]] = []
    if data.get("trigger_kind"):
        manual = t(loc, " (manual)") if data.get("is_manual") else ""
        facts.append((t(loc, "Trigger"), escape(data["trigger_kind"]) + manual))
    if data.get("ref"):
        facts.append((t(loc, "Ref"), code(data["ref"])))
    if data.get("commit"):
        facts.append((t(loc, "Commit"), safe_link(data.get("commit_url"), data["commit"][:7])))
    if data.get("docker_tags"):
        facts.append((t(loc, "Tags"), tag_list(data["docker_tags"], loc)))
    text = headline
    if data.get("commit_message"):
        text += "\n>" + escape(truncate(str(data["commit_message"]).splitlines()[0], 200))
    blocks: list[Block] = [fields(facts, text=text) if facts else section(text)]
    if stage == "build_failure" and data.get("error_message"):
        error = escape(truncate(data["error_message"], ERROR_LIMIT))
        blocks.append(section(f"*{t(loc, 'Error')}*\n```{error}```"))
    page = safe_link(data.get("homepage"), t(loc, "Build page"))
    blocks.append(context(page + " · " + t(loc, "build {id}", id=code(data["build_id"]))))
    return _message(t(loc, "Build {name} of {repo} {stage}", name=name, repo=repository, stage=t(loc, word)), blocks)


def build_thread_line(stage: str, at: float, error: str | None = None, locale: str = "en") -> str:
    emoji, _, word = BUILD_STAGES.get(stage, (":gear:", stage, stage))
    when = time.strftime("%H:%M:%S UTC", time.gmtime(at))
    line = emoji + " " + t(locale, "{stage} at {time}", stage=t(locale, word), time=when)
    if stage == "build_failure" and error:
        line += ": " + escape(truncate(error, 300))
    return line


def render_vulnerability(data: Mapping[str, Any]) -> dict[str, Any]:
    loc = _locale(data)
    repository: str = data["repository"]
    vulnerability: Mapping[str, Any] = data["vulnerability"]
    cve = safe_link(vulnerability.get("link"), vulnerability["id"])
    priority = vulnerability.get("priority") or t(loc, "unknown priority")
    where = safe_link(data.get("homepage"), repository)
    text = ":shield: " + t(loc, "*{cve}* ({priority}) found in {repo}", cve=cve, priority=escape(priority), repo=where)
    if vulnerability.get("description"):
        text += "\n" + escape(truncate(vulnerability["description"], DESCRIPTION_LIMIT))
    affected = t(loc, "Affected tags:") + " " + tag_list(data.get("tags") or [], loc)
    blocks: list[Block] = [section(text), context(affected)]
    plain = t(loc, "{cve} ({priority}) found in {repo}", cve=vulnerability["id"], priority=priority, repo=repository)
    return _message(plain, blocks)


def render_expiry(data: Mapping[str, Any]) -> dict[str, Any]:
    loc = _locale(data)
    repository: str = data["repository"]
    when = escape(data["expiring_in"])
    where = safe_link(data.get("homepage"), repository)
    text = ":hourglass: " + t(loc, "*Tags expiring in {when}* on {repo}:", when=when, repo=where)
    text += " " + tag_list(data["tags"], loc)
    plain = t(loc, "Tags expiring in {when} on {repo}", when=data["expiring_in"], repo=repository)
    return _message(plain, [section(text)])


def render_mirror(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    loc = _locale(data)
    repository: str = data["repository"]
    emoji, what = MIRROR_STAGES.get(event, (":arrows_counterclockwise:", event))
    text = f"{emoji} " + t(
        loc, "*{what}* for {repo}", what=t(loc, what), repo=safe_link(data.get("homepage"), repository)
    )
    if data.get("message"):
        text += "\n" + escape(truncate(data["message"], DESCRIPTION_LIMIT))
    return _message(t(loc, "{what} for {repo}", what=t(loc, what), repo=repository), [section(text)])
