"""A namespace's changes, from Quay's own usage logs (`quay-oauth-observed.md`, "Usage logs").

One request reads the newest 20 entries of a whole namespace (`GET /api/v1/organization/{org}/logs`,
or `/api/v1/user/logs` for the token's own namespace): a push shows there within half a second, with
its tag and who pushed it, and so do tag changes, new and deleted repositories, and notifications
added, reset or deleted in Quay's UI. The feed pages back, newest first, only until the entries it
has already taken. A first read (no position) replays nothing, but looks back over the logs' window
(up to `MAX_PAGES`) for the repositories a first pass should read first: the ones pushed to, and
those whose notifications were added, lately.

Entries have whole-second times and no id, so the position is the newest entry's second and the
keys of the entries already taken in that second, counted (two pulls of one tag by one user in one
second are two entries). The window asked for starts on the position's day (Quay's `starttime` is a
day), so a position from before midnight is still inside it. The position is stored
(`bot/store/feeds.py`): a restart or a new leader neither misses nor replays.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field, ValidationError

from bot.i18n import Phrase
from bot.quay import QuayClient, QuayError, QuayForbidden, QuayNotFound, QuayUnauthorized
from bot.quay.models import QuayModel

MAX_PAGES = 25  # one read takes at most 500 entries; beyond that the listing heals what was skipped
PUSHES = frozenset({"push_repo", "create_tag", "revert_tag", "delete_tag", "change_tag_expiration"})
NOTIFICATION_CHANGES = frozenset({"add_repo_notification", "reset_repo_notification", "delete_repo_notification"})
REPOSITORY_CHANGES = frozenset({"create_repo", "delete_repo"})
Status = Literal["ok", "forbidden", "unavailable", "error"]


class _Performer(QuayModel):
    name: str | None = None


class _Entry(QuayModel):
    kind: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    datetime: str
    performer: _Performer | None = None


class _Page(QuayModel):
    logs: list[_Entry] = Field(default_factory=list)
    next_page: str | None = None
    search_unavailable: bool = False


@dataclass(frozen=True)
class Change:
    """One entry the watch acts on."""

    kind: str
    repository: str | None
    at: float
    who: str | None
    notification: str | None = None  # the notification's id, for its changes
    application: str | None = None  # the OAuth application that made it (the bot's, or another)


@dataclass
class Position:
    newest_at: float | None = None
    seen: list[str] = field(default_factory=list)  # keys taken in that second (repeated when repeated)


@dataclass(frozen=True)
class FeedRead:
    status: Status
    changes: tuple[Change, ...] = ()
    position: Position | None = None  # where the next read starts; None: unchanged
    requests: int = 0
    complete: bool = True  # False: more entries than MAX_PAGES came since the last read
    earlier: tuple[Change, ...] = ()  # a first read: what the window held before it, oldest first
    since: float | None = None  # every entry logged from then on has been taken, by this read or before


def entry_key(entry: _Entry) -> str:
    performer = entry.performer.name if entry.performer else None
    return json.dumps([entry.kind, entry.datetime, performer, entry.metadata], sort_keys=True, default=str)


def entry_time(entry: _Entry) -> float | None:
    try:
        return parsedate_to_datetime(entry.datetime).timestamp()
    except (TypeError, ValueError):
        return None


def _day(ts: float) -> str:
    return time.strftime("%m/%d/%Y", time.gmtime(ts))


async def read_feed(
    client: QuayClient, namespace: str, position: Position, *, own: bool, now: float, pace: Any = None
) -> FeedRead:
    """The entries since `position`, oldest first. A first read (no position) starts from the newest
    entry and replays nothing; what it looked back over is `earlier`."""
    path = "/api/v1/user/logs" if own else f"/api/v1/organization/{quote(namespace, safe='')}/logs"
    what = Phrase("reading the usage logs of {namespace}", namespace=namespace)
    params: dict[str, str] = {"endtime": _day(now)}
    if position.newest_at is not None:
        params["starttime"] = _day(min(position.newest_at, now))
    seen = Counter(position.seen)
    taken: list[_Entry] = []
    top: list[_Entry] = []  # the newest second's entries, for the next position
    first = position.newest_at is None
    requests, reached = 0, False
    oldest: float | None = None  # of the entries taken
    for _ in range(MAX_PAGES):
        if pace is not None:
            await pace()
        requests += 1
        try:
            response = await client.read(path, what=what, params=params)
            page = _Page.model_validate_json(response.content)
        except (QuayForbidden, QuayUnauthorized, QuayNotFound):
            return FeedRead("forbidden", requests=requests)
        except (QuayError, ValidationError):
            return FeedRead("error", requests=requests)
        if page.search_unavailable:
            return FeedRead("unavailable", requests=requests)
        for entry in page.logs:
            at = entry_time(entry)
            if at is None:
                continue
            if not top or at == entry_time(top[0]):
                top.append(entry)
            if position.newest_at is not None:
                if at < position.newest_at:
                    reached = True
                    break
                key = entry_key(entry)
                if at == position.newest_at and seen[key] > 0:
                    seen[key] -= 1
                    continue
            taken.append(entry)
            oldest = at
        if reached or page.next_page is None:
            reached = True
            break
        params["next_page"] = page.next_page
    newest = entry_time(top[0]) if top else None
    moved: Position | None = None
    if newest is None:
        # Nothing logged yet: from this second on (Quay's times are whole seconds; anything logged in
        # it before this read would have been in it).
        moved = Position(float(int(now)), []) if position.newest_at is None else None
    elif position.newest_at is None or newest >= position.newest_at:
        moved = Position(newest, [entry_key(e) for e in top])  # every entry of the newest second, taken
    changes = tuple(_change(e) for e in reversed(taken))
    if reached and position.newest_at is not None:
        since: float = position.newest_at
    elif oldest is not None:
        # Entries are whole seconds: others of the oldest one's second may lie on the page not read.
        since = oldest if reached else oldest + 1
    else:
        since = now
    if first:
        return FeedRead("ok", (), moved, requests, True, earlier=changes, since=since)
    return FeedRead("ok", changes, moved, requests, reached, since=since)


def _change(entry: _Entry) -> Change:
    meta = entry.metadata
    repository = meta.get("repo")
    notification = meta.get("notification_id")
    application = meta.get("oauth_token_application_id")
    return Change(
        entry.kind,
        str(repository) if repository else None,
        entry_time(entry) or 0.0,
        entry.performer.name if entry.performer else None,
        str(notification) if notification else None,
        str(application) if application else None,
    )
