"""Which Slack message an event goes to: pushes to one repository within a minute share one message,
edited in place; the five stages of one build share one message, edited in place, with a thread line
per change; every other event is a message of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.blocks.events import (
    build_thread_line,
    render_build,
    render_expiry,
    render_mirror,
    render_push,
    render_vulnerability,
)
from bot.quay.events import BuildEvent, EventPayload, ExpiryEvent, MirrorEvent, PushEvent, VulnerabilityEvent
from bot.store.outbox import Payload
from bot.store.subscriptions import Grouped

PUSH_WINDOW = 60.0
# How far along a build is: a stage delivered late (Quay's worker ticks every 10 s) does not win.
BUILD_RANK = {"build_queued": 0, "build_start": 1, "build_success": 2, "build_failure": 2, "build_cancelled": 2}
BUILD_WINDOW = 24 * 3600.0


def route(event: str, payload: EventPayload, now: float, locale: str = "en") -> Payload | Grouped:
    """A message of its own (its payload), or how the event joins its group; in the channel's language."""
    match payload:
        case PushEvent():
            return _push(payload, locale)
        case BuildEvent():
            return _build(event, payload, now, locale)
        case VulnerabilityEvent():
            return render_vulnerability(payload.model_dump() | {"locale": locale})
        case ExpiryEvent():
            return render_expiry(payload.model_dump() | {"locale": locale})
        case MirrorEvent():
            return render_mirror(event, payload.model_dump() | {"locale": locale})
    raise AssertionError(f"unhandled payload {type(payload).__name__}")


def _push(push: PushEvent, locale: str) -> Grouped:
    def merge(data: dict[str, Any] | None) -> dict[str, Any]:
        if data is None:
            data = {"repository": push.repository, "docker_url": push.docker_url, "homepage": push.homepage}
            data |= {"tags": [], "pushes": 0}
        tags = [tag for tag in data["tags"] if tag not in push.updated_tags] + list(push.updated_tags)
        return data | {"tags": tags, "pushes": data["pushes"] + 1, "locale": locale}

    return Grouped(f"push:{push.repository}", PUSH_WINDOW, merge, render_push)


def pushers_named(repository: str, pushers: Mapping[str, str]) -> Grouped:
    """Who pushed which tag, learnt from Quay's usage logs after the push message was queued."""

    def merge(data: dict[str, Any] | None) -> dict[str, Any]:
        data = dict(data or {})
        return data | {"pushers": dict(data.get("pushers") or {}) | dict(pushers)}

    return Grouped(f"push:{repository}", PUSH_WINDOW, merge, render_push)


def _build(event: str, build: BuildEvent, now: float, locale: str) -> Grouped:
    def merge(data: dict[str, Any] | None) -> dict[str, Any]:
        meta = build.trigger_metadata
        info = meta.commit_info if meta else None
        fresh = {
            "repository": build.repository,
            "repo_homepage": build.homepage.split("/build/")[0],
            "homepage": build.homepage,
            "build_id": build.build_id,
            "build_name": build.build_name,
            "docker_tags": build.docker_tags,
            "trigger_kind": build.trigger_kind,
            "is_manual": build.is_manual,
            "ref": meta.ref if meta else None,
            "commit": meta.commit if meta else None,
            "commit_url": info.url if info else None,
            "commit_message": info.message if info else None,
            "error_message": build.error_message,
        }
        merged = dict(data or {})
        # Later stages carry less (no commit_info): keep what earlier ones said.
        merged |= {key: value for key, value in fresh.items() if value not in (None, [])}
        if BUILD_RANK.get(event, 0) >= BUILD_RANK.get(merged.get("stage", ""), -1):
            merged["stage"] = event
        merged["stages"] = [*merged.get("stages", []), [event, now]]
        merged["locale"] = locale
        return merged

    line = build_thread_line(event, now, build.error_message, locale)
    return Grouped(f"build:{build.repository}:{build.build_id}", BUILD_WINDOW, merge, render_build, line)
