"""Quay's tag endpoints, for the fake Quay, written from ../shared/quay-tags-observed.md (and Quay's
endpoints/api/tag.py, manifest.py, secscan.py):

- `GET R/tag/` pages by `page` (from 1) and `limit` (at most 100), newest first, `onlyActiveTags`
  and `specificTag` filter; an old version has `end_ts`, the live one none (or its expiry);
- `POST R/tag/{tag}/restore` `{"manifest_digest"}`: the tag points at it again, listed with
  `"reversion": true`; 404 for a digest the repository does not have;
- `PUT R/tag/{tag}` answers the JSON string "Updated": `manifest_digest` creates or moves the tag,
  `expiration` (epoch seconds, or null) sets or clears its expiry; one in the past is Werkzeug's 400;
- `DELETE R/tag/{tag}` 204, then 404 (and 404 for a tag that never was);
- `GET R/manifest/{digest}/security` 404 without a security scanner;
- every change is in the usage logs (`create_tag`, `revert_tag`, `change_tag_expiration`, `delete_tag`).

A repository's live tags stay in `Repo.tags` (what the rest of the fake reads); the versions they
replaced are in `Repo.tag_history`.
"""

from __future__ import annotations

import json
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.quay import Auth, FakeQuay, Reply, Repo

BAD_REQUEST_MESSAGE = "The browser (or proxy) sent a request that this server could not understand."


def quay_time(ts: float) -> str:
    return formatdate(ts, usegmt=False).replace("+0000", "-0000")


class TagsFake:
    def __init__(self, quay: FakeQuay) -> None:
        self.quay = quay
        self.scanner: dict[str, dict[str, Any]] | None = None  # digest -> Clair's answer; None: no scanner

    # Helpers for tests ---------------------------------------------------------------------------

    def versions(self, repo: Repo, tag: str | None = None) -> list[dict[str, Any]]:
        """Every version (live and past), newest first."""
        now = self.quay.now()
        found = [dict(v, live=True) for v in repo.tags.values()]
        found += [dict(v, live=False) for v in repo.tag_history]
        for version in found:
            ends = version.get("end_ts")
            if version["live"] and ends is not None and ends <= now:  # expired meanwhile
                version["live"] = False
        if tag is not None:
            found = [v for v in found if v["name"] == tag]
        return sorted(found, key=lambda v: (v["start_ts"], v["live"]), reverse=True)

    def _digests(self, repo: Repo) -> dict[str, dict[str, Any]]:
        return {v["manifest_digest"]: v for v in self.versions(repo)}

    def _close(self, repo: Repo, tag: str, now: float) -> dict[str, Any] | None:
        old = repo.tags.pop(tag, None)
        if old is not None:
            ended = dict(old)
            if ended.get("end_ts") is None or ended["end_ts"] > now:
                ended["end_ts"] = int(now)
            ended.pop("expiration", None)
            repo.tag_history.append(ended)
        return old

    def _start(self, repo: Repo, tag: str, like: dict[str, Any], now: float, *, reversion: bool = False) -> None:
        repo.tags[tag] = {
            "name": tag,
            "size": like.get("size"),
            "last_modified": quay_time(now),
            "manifest_digest": like["manifest_digest"],
            "start_ts": int(now),
            "reversion": reversion,
        }

    # Endpoints -----------------------------------------------------------------------------------

    def list(self, auth: Auth | None, params: dict[str, str], query: dict[str, str]) -> Reply:
        from tests.fakes.quay import READ, truthy_bool

        repo, denied = self.quay._repo_access(auth, params, READ)
        if denied:
            return denied
        if repo is None:
            return self.quay.not_found()
        try:
            limit = min(max(int(query.get("limit", "50")), 1), 100)
            page = max(int(query.get("page", "1")), 1)
        except ValueError:
            return _json(400, {"message": BAD_REQUEST_MESSAGE})
        versions = self.versions(repo, query.get("specificTag") or None)
        if truthy_bool(query.get("onlyActiveTags")):
            versions = [v for v in versions if v["live"]]
        chosen = versions[(page - 1) * limit : page * limit]
        return _json(
            200,
            {"tags": [self._view(v) for v in chosen], "page": page, "has_additional": len(versions) > page * limit},
        )

    def _view(self, version: dict[str, Any]) -> dict[str, Any]:
        view = {
            "name": version["name"],
            "reversion": bool(version.get("reversion")),
            "start_ts": version["start_ts"],
            "manifest_digest": version["manifest_digest"],
            "is_manifest_list": False,
            "size": version.get("size"),
            "last_modified": version.get("last_modified") or quay_time(version["start_ts"]),
        }
        if version.get("end_ts") is not None:
            view["end_ts"] = version["end_ts"]
            view["expiration"] = quay_time(version["end_ts"])
        return view

    def put(self, auth: Auth | None, params: dict[str, str], body: bytes) -> Reply:
        from tests.fakes.quay import WRITE

        repo, denied = self.quay._repo_access(auth, params, WRITE)
        if denied:
            return denied
        if repo is None:
            return self.quay.not_found()
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _json(400, {"message": BAD_REQUEST_MESSAGE})
        tag, now = params["tag"], self.quay.now()
        assert auth is not None
        if "expiration" in data:
            current = repo.tags.get(tag)
            if current is None:
                return self.quay.not_found()
            at = data["expiration"]
            if at is not None and (not isinstance(at, int | float) or at <= now):
                return _json(400, {"message": BAD_REQUEST_MESSAGE})
            old = current.get("end_ts")
            current["end_ts"] = int(at) if at is not None else None
            self.quay.oauth.log(
                repo.namespace,
                "change_tag_expiration",
                auth.user,
                {"repo": repo.name, "tag": tag, "expiration_date": at, "old_expiration_date": old},
                auth.app,
            )
        if "manifest_digest" in data:
            target = self._digests(repo).get(data["manifest_digest"])
            if target is None:
                return self.quay.not_found()
            old = self._close(repo, tag, now)
            self._start(repo, tag, target, now)
            metadata = {"repo": repo.name, "tag": tag, "manifest_digest": target["manifest_digest"]}
            if old is not None:
                metadata["original_manifest_digest"] = old["manifest_digest"]
            self.quay.oauth.log(repo.namespace, "create_tag", auth.user, metadata, auth.app)
        return _json(200, "Updated")

    def restore(self, auth: Auth | None, params: dict[str, str], body: bytes) -> Reply:
        from tests.fakes.quay import WRITE

        repo, denied = self.quay._repo_access(auth, params, WRITE)
        if denied:
            return denied
        if repo is None:
            return self.quay.not_found()
        digest = json.loads(body or b"{}").get("manifest_digest")
        target = self._digests(repo).get(digest or "")
        if target is None:
            return self.quay.not_found()
        assert auth is not None
        now, tag = self.quay.now(), params["tag"]
        self._close(repo, tag, now)
        self._start(repo, tag, target, now, reversion=True)
        self.quay.oauth.log(
            repo.namespace,
            "revert_tag",
            auth.user,
            {"repo": repo.name, "tag": tag, "manifest_digest": digest},
            auth.app,
        )
        return _json(200, {})

    def delete(self, auth: Auth | None, params: dict[str, str]) -> Reply:
        from tests.fakes.quay import WRITE, Reply

        repo, denied = self.quay._repo_access(auth, params, WRITE)
        if denied:
            return denied
        if repo is None or params["tag"] not in repo.tags:
            return self.quay.not_found()
        assert auth is not None
        self._close(repo, params["tag"], self.quay.now())
        self.quay.oauth.log(
            repo.namespace, "delete_tag", auth.user, {"repo": repo.name, "tag": params["tag"]}, auth.app
        )
        return Reply(204, "")

    def security(self, auth: Auth | None, params: dict[str, str]) -> Reply:
        from tests.fakes.quay import READ

        repo, denied = self.quay._repo_access(auth, params, READ)
        if denied:
            return denied
        if repo is None or self.scanner is None or params["digest"] not in self.scanner:
            return self.quay.not_found()
        return _json(200, self.scanner[params["digest"]])

    def logs(self, auth: Auth | None, params: dict[str, str]) -> Reply:
        from tests.fakes.quay import ADMIN

        repo, denied = self.quay._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        if repo is None:
            return self.quay.not_found()
        entries = [
            e
            for e in reversed(self.quay.oauth.state.logs)
            if e["metadata"].get("namespace") == repo.namespace and e["metadata"].get("repo") == repo.name
        ]
        shown = [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries[:20]]
        return _json(200, {"start_time": "", "end_time": "", "logs": shown})


def _json(status: int, body: Any) -> Reply:
    from tests.fakes.quay import Reply

    return Reply(status, json.dumps(body))
