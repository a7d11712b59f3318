"""Typed request and response bodies of the Quay endpoints quaybot uses (quay-api.md §3).

Fields that Quay may omit or send as null are optional here; unknown fields are ignored so a newer
Quay does not break the bot.
"""

from __future__ import annotations

import functools
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.quay.catalogue import FAILURES_BEFORE_DISABLED, describe_target, mask_config

Visibility = Literal["public", "private"]


class QuayModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RepositoryState(StrEnum):
    NORMAL = "NORMAL"
    READ_ONLY = "READ_ONLY"
    MIRROR = "MIRROR"
    ORG_MIRROR = "ORG_MIRROR"
    MARKED_FOR_DELETION = "MARKED_FOR_DELETION"


# Requests --------------------------------------------------------------------------------------


class NewRepository(QuayModel):
    """Body of `POST /api/v1/repository`. `namespace` is always sent: the default (the token's
    user) is rarely what a channel means."""

    namespace: str
    repository: str
    visibility: Visibility
    description: str = ""


class NewNotification(QuayModel):
    """Body of `POST …/notification/`. Sent as `eventConfig`; `title` is omitted when unset."""

    event: str
    method: str
    config: dict[str, Any]
    event_config: dict[str, Any] = Field(default_factory=dict)
    title: str | None = Field(default=None, max_length=255)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event": self.event,
            "method": self.method,
            "config": self.config,
            "eventConfig": self.event_config,
        }
        if self.title is not None:
            body["title"] = self.title
        return body


# Responses -------------------------------------------------------------------------------------


class CreatedRepository(QuayModel):
    namespace: str
    name: str
    kind: str = "image"


class QuotaReport(QuayModel):
    quota_bytes: int = 0
    configured_quota: int | None = None


class RepositorySummary(QuayModel):
    """An item of `GET /api/v1/repository`."""

    namespace: str
    name: str
    description: str | None = None
    is_public: bool
    kind: str = "image"
    state: str = RepositoryState.NORMAL
    is_starred: bool | None = None
    last_modified: int | None = None
    popularity: float | None = None
    quota_report: QuotaReport | None = None

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"


class RepositoryPage(QuayModel):
    repositories: list[RepositorySummary]
    next_page: str | None = None


class Tag(QuayModel):
    name: str
    size: int | None = None
    last_modified: str | None = None
    expiration: str | None = None
    manifest_digest: str | None = None


class DailyCount(QuayModel):
    date: str
    count: int


class Repository(QuayModel):
    """`GET /api/v1/repository/{repository}`."""

    namespace: str
    name: str
    kind: str = "image"
    description: str | None = None
    is_public: bool
    is_organization: bool = False
    is_starred: bool = False
    # The badge token of a private repository: never shown, so not kept.
    trust_enabled: bool = False
    tag_expiration_s: int | None = None
    is_free_account: bool | None = None
    state: str = RepositoryState.NORMAL
    can_write: bool = False
    can_admin: bool = False
    # Kept as Quay sent them (up to 500): a card only counts them, so none is validated until asked for.
    tags: dict[str, Any] | None = None
    stats: list[DailyCount] | None = None

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def tag_count(self) -> int | None:
        """Quay includes at most 500 active tags; `None` when tags were not asked for."""
        return None if self.tags is None else len(self.tags)

    def tag(self, name: str) -> Tag | None:
        raw = (self.tags or {}).get(name)
        return None if raw is None else Tag.model_validate(raw)

    def recent_tags(self, limit: int = 10) -> list[Tag]:
        """The `limit` most recently pushed tags, newest first (only these are validated)."""
        raws = [raw for raw in (self.tags or {}).values() if isinstance(raw, dict)]
        raws.sort(key=lambda raw: pushed_at(raw.get("last_modified")), reverse=True)
        return [Tag.model_validate(raw) for raw in raws[:limit]]


def pushed_at(value: object) -> float:
    """Quay's tag `last_modified` is an RFC 2822 date ("Fri, 27 Nov 2026 01:58:34 -0000")."""
    return _rfc2822(value) if isinstance(value, str) else 0.0


@functools.lru_cache(maxsize=16384)
def _rfc2822(value: str) -> float:
    # Cached: a card sorts up to 500 tags by this, and the same repository's dates come back each time.
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0.0


class Notification(QuayModel):
    uuid: str
    title: str | None = None
    event: str
    method: str
    config: dict[str, Any] = Field(default_factory=dict, repr=False)
    event_config: dict[str, Any] = Field(default_factory=dict)
    number_of_failures: int = 0

    @property
    def disabled(self) -> bool:
        """Quay silently stops delivering after three consecutive failures; there is no flag."""
        return self.number_of_failures >= FAILURES_BEFORE_DISABLED

    @property
    def masked_config(self) -> dict[str, str]:
        return mask_config(self.method, self.config)

    @property
    def target(self) -> str:
        return describe_target(self.method, self.config)


class NotificationList(QuayModel):
    notifications: list[Notification]


class Avatar(QuayModel):
    name: str | None = None
    hash: str | None = None
    color: str | None = None
    kind: str | None = None


class UserOrganization(QuayModel):
    name: str
    can_create_repo: bool = False
    public: bool = False
    is_org_admin: bool | None = None


class User(QuayModel):
    """`GET /api/v1/user/`; which fields appear depends on the token's scopes."""

    anonymous: bool = False
    username: str
    avatar: Avatar | None = None
    organizations: list[UserOrganization] | None = None
    super_user: bool = False
    email: str | None = None


class Team(QuayModel):
    name: str
    description: str | None = None
    role: str | None = None
    member_count: int | None = None
    repo_count: int | None = None


class Organization(QuayModel):
    name: str
    email: str = ""
    avatar: Avatar | None = None
    is_admin: bool = False
    is_member: bool = False
    teams: dict[str, Team] | None = None
