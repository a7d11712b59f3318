"""What Quay's notification worker POSTs to a webhook, one model per event (quay-events-observed.md).

The body names no event: the URL the bot gave Quay does (`?event=`). Fields Quay may leave out are
optional; unknown fields are ignored; the strings are bounded so a hostile body cannot blow up a
message.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Short = Annotated[str, StringConstraints(max_length=512)]
Long = Annotated[str, StringConstraints(max_length=8192)]
Tags = Annotated[list[Short], Field(max_length=1000)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    repository: Short  # "namespace/name"
    namespace: Short
    name: Short
    docker_url: Short
    homepage: Short


class PushEvent(_Payload):
    updated_tags: Tags
    pruned_image_count: int | None = None


class CommitAuthor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    username: Short | None = None
    url: Short | None = None


class CommitInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    url: Short | None = None
    message: Long | None = None
    date: float | None = None
    author: CommitAuthor | None = None


class TriggerMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    default_branch: Short | None = None
    ref: Short | None = None
    commit: Short | None = None
    commit_info: CommitInfo | None = None


class BuildEvent(_Payload):
    build_id: Short
    build_name: Short | None = None
    docker_tags: Tags = Field(default_factory=list)
    trigger_id: Short | None = None
    trigger_kind: Short | None = None
    trigger_metadata: TriggerMetadata | None = None
    is_manual: bool | None = None
    error_message: Long | None = None
    image_id: Short | None = None


class Vulnerability(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Short
    description: Long | None = None
    link: Short | None = None
    priority: Short | None = None


class VulnerabilityEvent(_Payload):
    tags: Tags = Field(default_factory=list)
    image: Short | None = None
    vulnerability: Vulnerability


class ExpiryEvent(_Payload):
    tags: Tags
    expiring_in: Short


class MirrorEvent(_Payload):
    message: Long


EventPayload = PushEvent | BuildEvent | VulnerabilityEvent | ExpiryEvent | MirrorEvent

MODELS: dict[str, type[EventPayload]] = {
    "repo_push": PushEvent,
    "build_queued": BuildEvent,
    "build_start": BuildEvent,
    "build_success": BuildEvent,
    "build_failure": BuildEvent,
    "build_cancelled": BuildEvent,
    "vulnerability_found": VulnerabilityEvent,
    "repo_image_expiry": ExpiryEvent,
    "repo_mirror_sync_started": MirrorEvent,
    "repo_mirror_sync_success": MirrorEvent,
    "repo_mirror_sync_failed": MirrorEvent,
}


class InvalidEvent(ValueError):
    pass


def parse_event(event: str, body: bytes) -> EventPayload:
    """The payload of `event`, or `InvalidEvent` saying what is wrong (without echoing the body)."""
    model = MODELS.get(event)
    if model is None:
        raise InvalidEvent(f"unknown event {event[:64]!r}")
    try:
        payload = model.model_validate_json(body)
    except ValidationError as error:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()[:3])
        raise InvalidEvent(f"not a {event} payload ({where})") from None
    if payload.repository != f"{payload.namespace}/{payload.name}":
        raise InvalidEvent("repository does not match namespace/name")
    return payload
