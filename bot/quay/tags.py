"""Quay's tag API (`../shared/quay-tags-observed.md`): active tags a page at a time, a tag's
history, restore, move, expiry, delete, a manifest's vulnerabilities, and a repository's usage logs
(who pushed). Its quirks are Quay's: PUT answers the JSON string "Updated", a second DELETE is a 404,
an expiry in the past is a Werkzeug 400, and a Quay without a security scanner answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field

from bot.i18n import Phrase
from bot.quay.answers import expect_status, parse_model, repo_path
from bot.quay.client import QuayClient
from bot.quay.errors import QuayForbidden, QuayInvalidToken, QuayNotFound, QuayUnauthorized
from bot.quay.models import QuayModel
from bot.quay.names import RepositoryRef, TagRef
from bot.quay.responses import json_body, unexpected

PAGE = 50  # tags a page of `tag list` shows
HISTORY = 100  # versions of one tag read at once (Quay's largest page)
SEVERITIES = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")


class TagVersion(QuayModel):
    """One entry of `GET R/tag/`: a tag as it is, or as it was (`end_ts` set: moved, deleted or expired)."""

    name: str
    manifest_digest: str | None = None
    size: int | None = None
    start_ts: int | None = None
    end_ts: int | None = None
    last_modified: str | None = None
    expiration: str | None = None
    reversion: bool = False
    is_manifest_list: bool = False


class _TagPage(QuayModel):
    tags: list[TagVersion]
    page: int = 1
    has_additional: bool = False


@dataclass(frozen=True)
class TagPage:
    tags: tuple[TagVersion, ...]
    page: int
    has_more: bool


class _LogPerformer(QuayModel):
    name: str | None = None


class LogEntry(QuayModel):
    kind: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    datetime: str | None = None
    performer: _LogPerformer | None = None


@dataclass(frozen=True)
class Pusher:
    """Who put a tag where it is, from the repository's usage logs."""

    who: str
    when: float | None
    kind: str  # push_repo, create_tag (a move) or revert_tag (a restore)


PUSH_KINDS = ("push_repo", "create_tag", "revert_tag")


def pusher_of(logs: Sequence[LogEntry], tag: str) -> Pusher | None:
    """The newest entry that put `tag` where it is (Quay's webhook payload does not say who pushed)."""
    for entry in logs:
        if entry.kind in PUSH_KINDS and entry.metadata.get("tag") == tag:
            who = (entry.performer.name if entry.performer else None) or str(entry.metadata.get("username") or "?")
            try:
                when = parsedate_to_datetime(entry.datetime).timestamp() if entry.datetime else None
            except (TypeError, ValueError):
                when = None
            return Pusher(who, when, entry.kind)
    return None


class _Logs(QuayModel):
    logs: list[LogEntry] = Field(default_factory=list)
    search_unavailable: bool = False


class Vulnerability(QuayModel):
    Name: str = ""
    Severity: str = "Unknown"
    FixedBy: str | None = None


class _Feature(QuayModel):
    Name: str = ""
    Version: str = ""
    Vulnerabilities: list[Vulnerability] = Field(default_factory=list)


class _Layer(QuayModel):
    Features: list[_Feature] = Field(default_factory=list)


class _SecurityData(QuayModel):
    Layer: _Layer = Field(default_factory=_Layer)


class _Security(QuayModel):
    status: str
    data: _SecurityData | None = None


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    name: str
    severity: str
    fixed_by: str | None


@dataclass(frozen=True)
class SecurityReport:
    """`None` where it is used means: this Quay has no security scanner."""

    status: str  # queued | scanned | failed | unsupported
    counts: dict[str, int]
    worst: tuple[Finding, ...]


class Tags:
    """The tag calls, over a `QuayClient` (its token, pool, retries and error tree)."""

    def __init__(self, quay: QuayClient) -> None:
        self.quay = quay

    async def page(self, ref: RepositoryRef, page: int = 1, *, every: bool = False, limit: int = PAGE) -> TagPage:
        """Active tags newest first (`every`: expired and deleted ones too, each version a line)."""
        what = Phrase("listing the tags of {repo}", repo=ref.full_name)
        params = {"onlyActiveTags": "false" if every else "true", "limit": str(limit), "page": str(page)}
        response = await self.quay.read(f"{repo_path(ref)}/tag/", what=what, params=params)
        found = parse_model(_TagPage, response, what=what)
        return TagPage(tuple(found.tags), found.page, found.has_additional)

    async def history(self, ref: TagRef) -> list[TagVersion]:
        """Every version of one tag, newest first; the live one has no `end_ts` (or one in the future)."""
        what = Phrase("reading the history of {tag}", tag=str(ref))
        params = {"specificTag": ref.tag, "onlyActiveTags": "false", "limit": str(HISTORY), "page": "1"}
        response = await self.quay.read(f"{repo_path(ref.repo)}/tag/", what=what, params=params)
        return [t for t in parse_model(_TagPage, response, what=what).tags if t.name == ref.tag]

    async def restore(self, ref: TagRef, digest: str) -> None:
        what = Phrase("restoring {tag} to {digest}", tag=str(ref), digest=short_digest(digest))
        path = f"{repo_path(ref.repo)}/tag/{ref.path}/restore"
        response = await self.quay.write("POST", path, what=what, json={"manifest_digest": digest})
        expect_status(response, 200, what=what)

    async def move(self, ref: TagRef, digest: str) -> None:
        """Point the tag at `digest` (creating it if missing)."""
        what = Phrase("pointing {tag} at {digest}", tag=str(ref), digest=short_digest(digest))
        await self._put(ref, {"manifest_digest": digest}, what)

    async def expire(self, ref: TagRef, at: int | None) -> None:
        """Expire the tag at `at` (epoch seconds), or never (`None`)."""
        what = Phrase("setting the expiry of {tag}", tag=str(ref))
        await self._put(ref, {"expiration": at}, what)

    async def _put(self, ref: TagRef, body: dict[str, Any], what: Phrase) -> None:
        response = await self.quay.write("PUT", f"{repo_path(ref.repo)}/tag/{ref.path}", what=what, json=body)
        expect_status(response, 200, what=what)
        if json_body(response, what=what) != "Updated":  # Quay's answer, as observed
            raise unexpected(response, what=what, why='the body is not "Updated"')

    async def delete(self, ref: TagRef) -> None:
        what = Phrase("deleting {tag}", tag=str(ref))
        response = await self.quay.write("DELETE", f"{repo_path(ref.repo)}/tag/{ref.path}", what=what)
        expect_status(response, 204, what=what)

    async def security(self, ref: RepositoryRef, digest: str) -> SecurityReport | None:
        """The manifest's vulnerabilities; None when this Quay has no security scanner (its 404)."""
        what = Phrase("reading the vulnerabilities of {digest}", digest=short_digest(digest))
        path = f"{repo_path(ref)}/manifest/{quote(digest, safe=':')}/security"
        try:
            response = await self.quay.read(path, what=what, params={"vulnerabilities": "true"})
        except QuayNotFound:
            return None
        found = parse_model(_Security, response, what=what)
        findings = [
            Finding(f.Name, f.Version, v.Name, v.Severity if v.Severity in SEVERITIES else "Unknown", v.FixedBy)
            for f in (found.data.Layer.Features if found.data else [])
            for v in f.Vulnerabilities
        ]
        counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
        worst = sorted(findings, key=lambda f: SEVERITIES.index(f.severity))[:5]
        return SecurityReport(found.status, {s: n for s, n in counts.items() if n}, tuple(worst))

    async def logs(self, ref: RepositoryRef) -> Sequence[LogEntry] | None:
        """The repository's usage logs (the last day, newest first); None when the token may not read
        them (they need admin on the repository) or Quay's logs cannot be searched. Quay down or busy
        raises, as any read does."""
        what = Phrase("reading the usage logs of {repo}", repo=ref.full_name)
        try:
            response = await self.quay.read(f"{repo_path(ref)}/logs", what=what)
        except (QuayForbidden, QuayUnauthorized, QuayInvalidToken, QuayNotFound):
            return None
        found = parse_model(_Logs, response, what=what)
        return None if found.search_unavailable else found.logs


def short_digest(digest: str) -> str:
    """`sha256:6d89a1b2c3d4`: enough to tell manifests apart in a message."""
    algorithm, _, hexed = digest.partition(":")
    return f"{algorithm}:{hexed[:12]}" if hexed else digest[:19]
