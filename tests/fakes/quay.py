"""A fake Red Hat Quay API server, written from ../shared/quay-api.md and quay-api-observed.md.

It is the oracle for every test that touches Quay, so it follows those documents, not quaybot's
client: the same paths and trailing-slash rules, status codes, the five error body shapes, OAuth
scopes capping database roles, 100-item pages with opaque `next_page` tokens, the 403-for-missing
rule, the CSRF 403 for anonymous writes, and the quirks that look like success.

It runs as a real HTTP server on 127.0.0.1 (`FakeQuayServer`) and can inject faults: latency,
error statuses (5xx, 429 with or without Retry-After) and dropped connections.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakes.quay_oauth import OAuthFake
from tests.fakes.quay_tags import TagsFake

READ, WRITE, ADMIN = 1, 2, 3
ROLE_NAMES = {"read": READ, "write": WRITE, "admin": ADMIN}
KNOWN_SCOPES = frozenset(
    {
        "repo:read",
        "repo:write",
        "repo:admin",
        "repo:create",
        "user:read",
        "user:admin",
        "org:admin",
        "super:user",
        "direct_user_login",
    }
)
TOKEN_APP = "TOKENAPPCLIENTID00000"  # the OAuth application the tests' tokens were generated from
FULL_SCOPES = "repo:read repo:write repo:admin repo:create user:read user:admin org:admin"

# util/names.py (FEATURE_EXTENDED_REPOSITORY_NAMES on, the default) and util/validation.py.
REPO_NAME = re.compile(r"^(?=.{0,255}$)[a-z0-9][\.a-z0-9_-]*(?:\/[a-z0-9][\.a-z0-9_-]*)*$")
NAMESPACE_NAME = re.compile(r"^([a-z0-9]+(?:[._-][a-z0-9]+)*)$")

EVENTS = frozenset(
    {
        "repo_push",
        "build_queued",
        "build_start",
        "build_success",
        "build_failure",
        "build_cancelled",
        "vulnerability_found",
        "repo_mirror_sync_started",
        "repo_mirror_sync_success",
        "repo_mirror_sync_failed",
        "repo_image_expiry",
        "quota_warning",
        "quota_error",
    }
)
METHODS = frozenset({"quay_notification", "email", "webhook", "slack", "flowdock", "hipchat"})
WEBHOOK_HOST_BLACKLIST = frozenset({"localhost", "127.0.0.1"})
PAGE_SIZE = 100
STARRED_LIMIT = 99
PAGE_TOKEN_TTL = 2 * 24 * 3600

HTML_500 = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request.</p>\n"
)
HTML_404_UI = "<!DOCTYPE html><html><head><title>Quay</title></head><body><div>404: Page not found</div></body></html>"
HTML_405 = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n"
    "<p>The method is not allowed for the requested URL.</p>\n"
)
NGINX_429 = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n</body>\r\n</html>\r\n"
NGINX_5XX = "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
BAD_REQUEST_MESSAGE = "The browser (or proxy) sent a request that this server could not understand."
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, POST, PUT",
    "Access-Control-Allow-Headers": "AUTHORIZATION, CONTENT-TYPE, X-REQUESTED-WITH",
}
BROWSER_UA = re.compile(r"Mozilla/.*(Chrome|Firefox|Safari|MSIE|Opera)/", re.IGNORECASE)


def truthy_bool(value: str | None) -> bool:
    """util/parsing.py: only these spellings are false."""
    return value is not None and value not in ("false", "False", "FALSE", "0", "", "null")


# State -------------------------------------------------------------------------------------------


@dataclass
class Namespace:
    name: str
    is_org: bool
    admins: set[str] = field(default_factory=set)  # org: members of an admin team
    creators: set[str] = field(default_factory=set)  # org: members of a creator team
    members: set[str] = field(default_factory=set)  # org: any team member
    teams: dict[str, set[str]] = field(default_factory=dict)
    robot: bool = False


@dataclass
class Token:
    user: str
    scopes: frozenset[str]
    app: str | None = None  # the OAuth application's client id, for a token a person granted it


@dataclass
class Repo:
    id: int
    namespace: str
    name: str
    description: str | None
    is_public: bool
    state: str = "NORMAL"
    kind: str = "image"
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    tag_history: list[dict[str, Any]] = field(default_factory=list)  # versions the live tags replaced
    permissions: dict[str, int] = field(default_factory=dict)
    starred_by: set[str] = field(default_factory=set)
    popularity: float = 0.0
    status_token: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass
class Notification:
    uuid: str
    repo_id: int
    event: str
    method: str
    config: dict[str, Any]
    event_config: dict[str, Any]
    title: str | None
    number_of_failures: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "title": self.title,
            "event": self.event,
            "method": self.method,
            "config": self.config,
            "event_config": self.event_config,
            "number_of_failures": self.number_of_failures,
        }


@dataclass
class Fault:
    """What to do to the next `times` requests matching `method` and `path` (a regex on the path).

    `delay` sleeps first (a slow Quay, or one slower than the client's timeout); then `drop`
    closes the connection without an answer, or `status` answers with that status, or the request
    is served normally.
    """

    path: str = ".*"
    method: str | None = None
    times: int = 1
    delay: float = 0.0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    drop: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None


@dataclass
class Recorded:
    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int
    body: str = ""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass
class Auth:
    user: str
    scopes: frozenset[str]
    app: str | None = None

    def repo_cap(self) -> int:
        if "repo:admin" in self.scopes:
            return ADMIN
        if "repo:write" in self.scopes:
            return WRITE
        return READ if "repo:read" in self.scopes else 0


class FakeQuay:
    """The state and behaviour of one Quay server; thread-safe."""

    def __init__(self, host: str = "quay.test") -> None:
        self.host = host
        self.lock = threading.RLock()
        self.namespaces: dict[str, Namespace] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.notifications: dict[str, Notification] = {}
        self.authorized_emails: set[tuple[str, str, str]] = set()
        self.requests: list[Recorded] = []
        self.connections = 0  # TCP connections accepted: a client that reuses them opens few
        self.faults: list[Fault] = []
        self.queued_tests: list[str] = []
        self.read_only = False
        self.webhook_blacklist = set(WEBHOOK_HOST_BLACKLIST)  # plus WEBHOOK_HOSTNAME_BLACKLIST
        self.anonymous_access = True
        self.now = time.time  # replaceable clock, for page-token expiry and the worker
        self.worker = NotificationWorker(self)
        self.oauth = OAuthFake(self)
        self.tag_api = TagsFake(self)
        self._next_id = 1
        self._page_secret = uuidlib.uuid4().bytes

    # Set-up helpers ----------------------------------------------------------------------------

    def add_user(self, name: str) -> None:
        with self.lock:
            self.namespaces[name] = Namespace(name, is_org=False)

    def add_org(
        self,
        name: str,
        *,
        admins: Iterable[str] = (),
        creators: Iterable[str] = (),
        members: Iterable[str] = (),
    ) -> None:
        with self.lock:
            org = Namespace(name, is_org=True, admins=set(admins), creators=set(creators))
            org.members = set(members) | org.admins | org.creators
            org.teams["owners"] = set(org.admins)
            self.namespaces[name] = org

    def add_team(self, org: str, team: str, members: Iterable[str] = ()) -> None:
        with self.lock:
            self.namespaces[org].teams[team] = set(members)
            self.namespaces[org].members |= set(members)

    def add_token(self, token: str, user: str, scopes: str = FULL_SCOPES, *, app: str | None = TOKEN_APP) -> None:
        """A token generated from an organization's OAuth application (the only kind the API takes):
        its changes are logged with that application's client id."""
        with self.lock:
            self.tokens[token] = Token(user, _decode_scopes(scopes), app)

    def add_repo(
        self,
        full_name: str,
        *,
        public: bool = False,
        description: str | None = "",
        state: str = "NORMAL",
        tags: Iterable[str] = (),
        owner: str | None = None,
    ) -> Repo:
        namespace, _, name = full_name.partition("/")
        with self.lock:
            repo = Repo(self._new_id(), namespace, name, description, public, state)
            for index, tag in enumerate(tags):
                repo.tags[tag] = {
                    "name": tag,
                    "size": 1024 * (index + 1),
                    "last_modified": "Fri, 27 Nov 2026 01:58:34 -0000",
                    "manifest_digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest(),
                    "start_ts": 1795744714 + index,
                }
            if owner:
                repo.permissions[owner] = ADMIN
            self.repos[repo.key] = repo
            return repo

    def grant(self, full_name: str, user: str, role: str) -> None:
        with self.lock:
            self.repos[_split(full_name)].permissions[user] = ROLE_NAMES[role]

    def add_notification(
        self,
        full_name: str,
        *,
        event: str = "repo_push",
        method: str = "webhook",
        config: dict[str, Any] | None = None,
        event_config: dict[str, Any] | None = None,
        title: str | None = None,
        failures: int = 0,
    ) -> Notification:
        with self.lock:
            repo = self.repos[_split(full_name)]
            item = Notification(
                str(uuidlib.uuid4()),
                repo.id,
                event,
                method,
                config if config is not None else {"url": "https://hooks.example.com/quay/secret-path"},
                event_config or {},
                title,
                failures,
            )
            self.notifications[item.uuid] = item
            return item

    def authorize_email(self, full_name: str, email: str) -> None:
        namespace, name = _split(full_name)
        with self.lock:
            self.authorized_emails.add((namespace, name, email))

    def set_failures(self, uuid: str, failures: int) -> None:
        with self.lock:
            self.notifications[uuid].number_of_failures = failures

    def pull(self, full_name: str, tag: str = "latest", *, by: str = "devtable") -> None:
        """A pull: nothing changes but the usage logs, where pulls dominate a busy registry's entries."""
        with self.lock:
            repo = self.repos[_split(full_name)]
            self.oauth.log(repo.namespace, "pull_repo", by, {"repo": repo.name, "tag": tag, "user-agent": "docker"})

    def push(self, full_name: str, tags: Iterable[str] = ("latest",), *, by: str = "devtable") -> None:
        """A push: the tags start now, so the repository's `last_modified` moves, and its repo_push
        notifications are queued for the worker (quay-events-observed.md); the tags' earlier versions
        stay restorable, and the push is in the usage logs with who pushed."""
        with self.lock:
            repo = self.repos[_split(full_name)]
            now = self.now()
            tags = list(tags)
            for tag in tags:
                self.tag_api._close(repo, tag, now)
                self.oauth.log(repo.namespace, "push_repo", by, {"repo": repo.name, "tag": tag})
                repo.tags[tag] = {
                    "name": tag,
                    "size": 2048,
                    "last_modified": time.strftime("%a, %d %b %Y %H:%M:%S -0000", time.gmtime(now)),
                    "manifest_digest": "sha256:" + hashlib.sha256(f"{tag}{now}".encode()).hexdigest(),
                    "start_ts": int(now),
                }
            body = event_body(repo, self.host, updated_tags=list(tags))
            for item in self.notifications.values():
                if item.repo_id == repo.id and item.event == "repo_push":
                    self.worker.queue(item.uuid, now, body)

    def fire(self, full_name: str, event: str, body: dict[str, Any] | None = None) -> None:
        """Any other event of a repository (a build stage, a vulnerability, an expiry, a mirror sync):
        its notifications for `event` are queued with `body`, or Quay's sample for the event."""
        with self.lock:
            repo = self.repos[_split(full_name)]
            now = self.now()
            payload = body if body is not None else sample_body(repo, self.host, event, now)
            for item in self.notifications.values():
                if item.repo_id == repo.id and item.event == event:
                    self.worker.queue(item.uuid, now, payload)

    def build(self, full_name: str, event: str, build_id: str) -> None:
        """One stage of a build (`build_queued` … `build_failure`), with the payload Quay sends."""
        with self.lock:
            repo = self.repos[_split(full_name)]
            self.fire(full_name, event, build_body(repo, self.host, event, build_id, self.now()))

    def run_notification_worker(self, deliver_ok: bool) -> None:
        """Process queued tests as Quay's notification worker would (§5.4)."""
        with self.lock:
            queued, self.queued_tests = self.queued_tests, []
            for uuid in queued:
                item = self.notifications.get(uuid)
                if item is None or item.number_of_failures >= 3:
                    continue  # disabled notifications swallow the event silently
                item.number_of_failures = 0 if deliver_ok else item.number_of_failures + 1

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def requests_to(self, method: str | None = None, path: str = ".*") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method) and re.search(path, r.path)]

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # Request entry point -----------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
            return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        path = unquote(parts.path)  # Werkzeug routes on the decoded path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            return self._dispatch(method, path, query, headers, body)

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        if path.startswith("/oauth/"):
            return self.oauth.handle(method, path, query, headers, body)
        if not path.startswith("/api/"):
            return Reply(404, HTML_404_UI, "text/html; charset=utf-8")
        browser = method == "GET" and BROWSER_UA.search(headers.get("user-agent", ""))
        if browser and headers.get("x-requested-with") != "XMLHttpRequest":
            return _abort(400, "API calls must be invoked with an X-Requested-With header if called from a browser")
        route = _route(path)
        if route is None:
            if method == "GET":
                return Reply(404, HTML_404_UI, "text/html; charset=utf-8")
            return Reply(405, HTML_405, "text/html; charset=utf-8")
        name, params, allowed = route
        if name == "redirect":
            location = f"http://{self.host}{path}/"
            return Reply(
                308,
                f"<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
                f'<p>You should be redirected automatically to the target URL: <a href="{location}">{location}</a>.',
                "text/html; charset=utf-8",
                {"Location": location},
            )
        if method not in allowed:
            return _message(405, "The method is not allowed for the requested URL.")
        auth = self._authenticate(headers)
        if method not in ("GET", "HEAD") and auth is None:
            return _abort(403, "CSRF token was invalid or missing.")
        if auth is None and not self.anonymous_access and name not in ("user", "discovery"):
            return _abort(401, "Anonymous access is not allowed")
        if self.read_only and method != "GET":
            return Reply(
                503,
                json.dumps(
                    {
                        "message": "System is currently read-only. Pulls will succeed but all write "
                        "operations are currently suspended.",
                        "is_readonly": True,
                    }
                ),
            )
        if name in OAUTH_ROUTES:
            return OAUTH_ROUTES[name](self.oauth, auth, params, query)
        if name in ("tags", "tag", "tag_restore", "security", "repo_logs"):
            return self._tag_call(name, method, auth, params, query, body)
        handler = getattr(self, f"_{name}_{method.lower()}")
        reply: Reply = handler(auth, params, query, headers, body)
        if reply.status < 300 and auth is not None and (name, method) in LOGGED:
            self._log_change(LOGGED[name, method], auth, params, query, body, reply)
        return reply

    def _tag_call(
        self, name: str, method: str, auth: Auth | None, params: dict[str, str], query: dict[str, str], body: bytes
    ) -> Reply:
        tags = self.tag_api
        if name == "tags":
            return tags.list(auth, params, query)
        if name == "tag_restore":
            return tags.restore(auth, params, body)
        if name == "security":
            return tags.security(auth, params)
        if name == "repo_logs":
            return tags.logs(auth, params)
        return tags.put(auth, params, body) if method == "PUT" else tags.delete(auth, params)

    def _log_change(
        self, kind: str, auth: Auth, params: dict[str, str], query: dict[str, str], body: bytes, reply: Reply
    ) -> None:
        """Quay's usage log of a change: who made it, and through which OAuth application."""
        if kind == "create_repo":
            created = json.loads(reply.body)
            namespace, repo = created["namespace"], created["name"]
        else:
            namespace, repo = params["namespace"], params["repo"]
        metadata: dict[str, Any] = {"repo": repo}
        if "uuid" in params:
            metadata["notification_id"] = params["uuid"]
        self.oauth.log(namespace, kind, auth.user, metadata, auth.app)

    def _authenticate(self, headers: dict[str, str]) -> Auth | None:
        # Basic auth is ignored; an unknown bearer token silently makes the request anonymous.
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return None
        token = self.tokens.get(value.removeprefix("Bearer ").strip())
        return Auth(token.user, token.scopes, token.app) if token else None

    # Problems ----------------------------------------------------------------------------------

    def problem(self, status: int, error_type: str, detail: str, **extra: Any) -> Reply:
        body = {
            **extra,
            "detail": detail,
            "error_message": detail,
            "error_type": error_type,
            "title": error_type,
            "type": f"http://{self.host}/api/v1/error/{error_type}",
            "status": status,
        }
        return Reply(status, json.dumps(body))

    def invalid(self, detail: str) -> Reply:
        return self.problem(400, "invalid_request", detail)

    def unauthorized(self, auth: Auth | None) -> Reply:
        if auth is None:
            return self.problem(401, "invalid_token", "Requires authentication")
        return self.problem(403, "insufficient_scope", "Unauthorized")

    def not_found(self) -> Reply:
        return self.problem(404, "not_found", "Not Found")

    # Permissions -------------------------------------------------------------------------------

    def _namespace_role(self, auth: Auth, namespace: str) -> int:
        """Namespace-wide repository role: own namespace or org admin gives admin on every repo."""
        ns = self.namespaces.get(namespace)
        if ns is None:
            return 0
        if (not ns.is_org and namespace == auth.user) or (ns.is_org and auth.user in ns.admins):
            return ADMIN
        return 0

    def _repo_role(self, auth: Auth | None, namespace: str, repo: Repo | None) -> int:
        if auth is None:
            return 0
        role = self._namespace_role(auth, namespace)
        if repo is not None:
            role = max(role, repo.permissions.get(auth.user, 0))
        return min(role, auth.repo_cap())

    def _can_create(self, auth: Auth, namespace: str) -> bool:
        ns = self.namespaces.get(namespace)
        if ns is None:
            return False
        if "org:admin" in auth.scopes:
            cap = 2
        elif "repo:create" in auth.scopes:
            cap = 1
        else:
            return False
        if not ns.is_org:
            return namespace == auth.user
        if auth.user in ns.admins:
            return True
        return auth.user in ns.creators and cap >= 1

    def _repo_access(self, auth: Auth | None, params: dict[str, str], need: int) -> tuple[Repo | None, Reply | None]:
        """The repository named in the URL if `auth` may act on it with role `need`.

        A missing repository is returned as (None, None) only to callers whose namespace-wide role
        passes the check; everyone else gets the same 403/401 as for a real permission problem.
        """
        repo = self.repos.get((params["namespace"], params["repo"]))
        if repo is not None and need == READ and repo.is_public:
            return repo, None
        if self._repo_role(auth, params["namespace"], repo) >= need:
            return repo, None
        return None, self.unauthorized(auth)

    # Handlers: identity ------------------------------------------------------------------------

    def _discovery_get(self, auth: Auth | None, params: dict[str, str], query: dict[str, str], *_: Any) -> Reply:
        return Reply(
            200,
            json.dumps({"swagger": "2.0", "info": {"version": "v1", "title": "Quay Frontend"}, "paths": {}}),
        )

    def _user_get(self, auth: Auth | None, params: dict[str, str], query: dict[str, str], *_: Any) -> Reply:
        if auth is None or not ({"user:read", "user:admin"} & auth.scopes):
            return self.problem(401, "invalid_token", "Requires authentication", session_required=False)
        body: dict[str, Any] = {
            "anonymous": False,
            "username": auth.user,
            "avatar": {"name": auth.user, "hash": "0" * 64, "color": "#17becf", "kind": "user"},
            "organizations": [
                {
                    "name": ns.name,
                    "avatar": {"name": ns.name, "hash": "1" * 64, "color": "#ff7f0e", "kind": "org"},
                    "can_create_repo": self._can_create(auth, ns.name),
                    "public": False,
                }
                for ns in self.namespaces.values()
                if ns.is_org and auth.user in ns.members
            ],
        }
        if "user:admin" in auth.scopes:
            body.update(
                {
                    "can_create_repo": True,
                    "is_me": True,
                    "verified": True,
                    "email": f"{auth.user}@example.com",
                }
            )
        return Reply(200, json.dumps(body))

    def _organization_get(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        ns = self.namespaces.get(params["org"])
        if ns is None or not ns.is_org:
            return self.not_found()
        is_admin = auth is not None and auth.user in ns.admins and "org:admin" in auth.scopes
        is_member = auth is not None and auth.user in ns.members and bool({"org:admin", "repo:create"} & auth.scopes)
        body: dict[str, Any] = {
            "name": ns.name,
            "email": f"{ns.name}@example.com" if is_admin else "",
            "avatar": {"name": ns.name, "hash": "1" * 64, "color": "#ff7f0e", "kind": "org"},
            "is_admin": is_admin,
            "is_member": is_member,
        }
        if is_member:
            body["teams"] = {
                team: {
                    "name": team,
                    "description": "",
                    "role": "admin" if team == "owners" else "member",
                    "member_count": len(members),
                    "repo_count": 0,
                    "can_view": True,
                    "is_synced": False,
                }
                for team, members in ns.teams.items()
            }
            body["ordered_teams"] = sorted(ns.teams)
        return Reply(200, json.dumps(body))

    # Handlers: repositories --------------------------------------------------------------------

    def _repos_post(
        self,
        auth: Auth | None,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        data, error = _json_request(headers, body)
        if error:
            return error
        problem = _validate(
            data,
            required=("repository", "visibility", "description"),
            strings=("repository", "description", "namespace"),
            enums={"visibility": ["public", "private"], "repo_kind": ["image", None]},
        )
        if problem:
            return self.invalid(problem)
        assert auth is not None
        namespace = data.get("namespace", auth.user)
        name = data["repository"]
        if not self._can_create(auth, namespace):
            return self.unauthorized(auth)
        if (namespace, name) in self.repos:
            return self.invalid("Repository already exists")
        if not REPO_NAME.match(name):
            return self.invalid("Invalid repository name")
        repo = Repo(self._new_id(), namespace, name, data["description"], data["visibility"] == "public")
        repo.permissions[auth.user] = ADMIN
        self.repos[repo.key] = repo
        return Reply(201, json.dumps({"namespace": namespace, "name": name, "kind": "image"}))

    def _repos_get(self, auth: Auth | None, params: dict[str, str], query: dict[str, str], *_: Any) -> Reply:
        namespace = query.get("namespace") or None
        starred = truthy_bool(query.get("starred"))
        public = truthy_bool(query.get("public"))
        if not (namespace or starred or public):
            return self.invalid("namespace, starred or public are required for this API call")
        if starred and auth is None:
            return _message(400, BAD_REQUEST_MESSAGE)
        if query.get("repo_kind", "image") != "image":
            return _message(400, "Unknown kind of repository" if starred else "Unknown repository kind")

        roles: dict[str, int] = {}  # per namespace, once per request: listings of 10,000 stay cheap

        def visible(repo: Repo) -> bool:
            if public and repo.is_public:
                return True
            if auth is None:
                return False
            if repo.permissions.get(auth.user, 0) > 0:
                return True
            if repo.namespace not in roles:
                roles[repo.namespace] = self._namespace_role(auth, repo.namespace)
            return roles[repo.namespace] > 0

        candidates = (r for r in self.repos.values() if not namespace or r.namespace == namespace)
        repos = sorted((r for r in candidates if visible(r)), key=lambda r: r.id)
        next_page = None
        if starred:
            assert auth is not None
            repos = [r for r in repos if auth.user in r.starred_by][:STARRED_LIMIT]
        else:
            after = self._read_page_token(query.get("next_page"))
            repos = [r for r in repos if r.id > after]
            if len(repos) > PAGE_SIZE:
                repos = repos[:PAGE_SIZE]
                next_page = self._page_token(repos[-1].id)
        items = [self._list_item(r, auth, query) for r in repos]
        result: dict[str, Any] = {"repositories": items}
        if next_page:
            result["next_page"] = next_page
        return Reply(200, json.dumps(result))

    def _list_item(self, repo: Repo, auth: Auth | None, query: dict[str, str]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "namespace": repo.namespace,
            "name": repo.name,
            "description": repo.description,
            "is_public": repo.is_public,
            "kind": repo.kind,
            "state": repo.state,
        }
        if auth is not None:
            item["is_starred"] = auth.user in repo.starred_by
        if truthy_bool(query.get("last_modified")):
            starts = [t["start_ts"] for t in repo.tags.values()]
            item["last_modified"] = max(starts) if starts else None
        if truthy_bool(query.get("popularity")):
            item["popularity"] = repo.popularity
        return item

    def _page_token(self, last_id: int) -> str:
        payload = json.dumps({"id": last_id, "t": int(self.now())}).encode()
        signature = hmac.new(self._page_secret, payload, hashlib.sha256).digest()
        return "gAAAAAB" + base64.urlsafe_b64encode(payload + signature).decode()

    def _read_page_token(self, token: str | None) -> int:
        """The id to continue after; 0 (page 1, no error) for a garbled or expired token."""
        if not token or not token.startswith("gAAAAAB"):
            return 0
        try:
            raw = base64.urlsafe_b64decode(token.removeprefix("gAAAAAB").encode())
            payload, signature = raw[:-32], raw[-32:]
            if not hmac.compare_digest(signature, hmac.new(self._page_secret, payload, hashlib.sha256).digest()):
                return 0
            data = json.loads(payload)
        except ValueError:
            return 0
        if self.now() - data["t"] > PAGE_TOKEN_TTL:
            return 0
        return int(data["id"])

    def _repo_get(self, auth: Auth | None, params: dict[str, str], query: dict[str, str], *_: Any) -> Reply:
        repo, denied = self._repo_access(auth, params, READ)
        if denied:
            return denied
        if repo is None:
            return self.not_found()
        role = self._repo_role(auth, repo.namespace, repo)
        body: dict[str, Any] = {
            "namespace": repo.namespace,
            "name": repo.name,
            "kind": repo.kind,
            "description": repo.description,
            "is_public": repo.is_public,
            "is_organization": self.namespaces[repo.namespace].is_org if repo.namespace in self.namespaces else False,
            "is_starred": auth is not None and auth.user in repo.starred_by,
            "status_token": "" if repo.is_public else repo.status_token,
            "trust_enabled": False,
            "tag_expiration_s": 1209600,
            "is_free_account": False,
            "state": repo.state,
        }
        if truthy_bool(query.get("includeTags", "true")):
            body["tags"] = {
                name: {k: v for k, v in tag.items() if k != "start_ts"} for name, tag in list(repo.tags.items())[:500]
            }
        if truthy_bool(query.get("includeStats")):
            body["stats"] = [{"date": "2026-11-26", "count": 0}]
        body["can_write"] = role >= WRITE and repo.state == "NORMAL"
        body["can_admin"] = role >= ADMIN
        return Reply(200, json.dumps(body))

    def _repo_put(
        self,
        auth: Auth | None,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        data, error = _json_request(headers, body)
        if error:
            return error
        problem = _validate(data, required=("description",), strings=("description",))
        if problem:
            return self.invalid(problem)
        repo, denied = self._repo_access(auth, params, WRITE)
        if denied:
            return denied
        if repo is None:
            return self.not_found()
        repo.description = data["description"]
        return Reply(200, json.dumps({"success": True}))

    def _repo_delete(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        repo, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        if repo is not None:  # a missing repository is "deleted" too: 204 either way
            del self.repos[repo.key]
            for uuid in [u for u, n in self.notifications.items() if n.repo_id == repo.id]:
                del self.notifications[uuid]
        return Reply(204)

    def _visibility_post(
        self,
        auth: Auth | None,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        data, error = _json_request(headers, body)
        if error:
            return error
        problem = _validate(data, required=("visibility",), enums={"visibility": ["public", "private"]})
        if problem:
            return self.invalid(problem)
        repo, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        if repo is None:
            return Reply(200, "null")  # the handler returns nothing for a missing repository
        repo.is_public = data["visibility"] == "public"
        return Reply(200, json.dumps({"success": True}))

    # Handlers: notifications -------------------------------------------------------------------

    def _notifications_get(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        repo, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        items = [n.to_json() for n in self.notifications.values() if repo is not None and n.repo_id == repo.id]
        return Reply(200, json.dumps({"notifications": items}))

    def _notifications_post(
        self,
        auth: Auth | None,
        params: dict[str, str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        data, error = _json_request(headers, body)
        if error:
            return error
        problem = _validate(
            data,
            required=("event", "method", "config", "eventConfig"),
            strings=("event", "method", "title"),
            objects=("config", "eventConfig"),
        )
        if problem:
            return self.invalid(problem)
        repo, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        if data["method"] not in METHODS:
            return Reply(500, HTML_500, "text/html; charset=utf-8")
        config = data["config"]
        try:
            problem = self._validate_method(data["method"], config, params)
        except _Crash:
            return Reply(500, HTML_500, "text/html; charset=utf-8")
        if problem:
            return self.invalid(problem)
        if data["event"] not in EVENTS or repo is None:
            return Reply(500, HTML_500, "text/html; charset=utf-8")
        title = data.get("title")
        if title is not None and len(title) > 255:
            return Reply(500, HTML_500, "text/html; charset=utf-8")
        item = Notification(
            str(uuidlib.uuid4()), repo.id, data["event"], data["method"], config, data["eventConfig"], title
        )
        self.notifications[item.uuid] = item
        return Reply(201, json.dumps(item.to_json()))

    def _validate_method(self, method: str, config: dict[str, Any], params: dict[str, str]) -> str | None:
        namespace, repo = params["namespace"], params["repo"]
        if method == "webhook":
            url = config.get("url")
            if not url:
                return "Missing webhook URL"
            parts = urlsplit(str(url))
            if parts.scheme in ("http", "https") and not parts.hostname:
                raise _Crash
            if parts.scheme not in ("http", "https") or parts.hostname in self.webhook_blacklist:
                return "Invalid webhook URL"
            template = config.get("template")
            if template is not None:
                if not isinstance(template, str):
                    raise _Crash
                try:
                    json.loads(template)
                except ValueError as error:
                    return f"Could not parse template: {error}"
            return None
        if method == "slack":
            return None if config.get("url") else "Missing Slack Callback URL"
        if method == "email":
            email = config.get("email")
            if not email:
                return "Missing e-mail address"
            if (namespace, repo, email) not in self.authorized_emails:
                return "The specified e-mail address is not authorized to receive notifications for this repository"
            return None
        if method == "flowdock":
            return None if config.get("flow_api_token") else "Missing Flowdock API Token"
        if method == "hipchat":
            if not config.get("notification_token"):
                return "Missing Hipchat Room Notification Token"
            return None if config.get("room_id") else "Missing Hipchat Room ID"
        # quay_notification
        target = config.get("target")
        if not target:
            return "Missing target"
        if not isinstance(target, dict):
            raise _Crash
        kind = target.get("kind")
        if not kind:
            return "Missing target"
        if kind not in ("user", "org", "team") or "name" not in target:
            raise _Crash
        name = target["name"]
        if kind == "user":
            ns = self.namespaces.get(name)
            return None if ns is not None and not ns.is_org else f"Unknown user {name}"
        if kind == "org":
            if name != namespace:
                raise _Crash
            ns = self.namespaces.get(name)
            return None if ns is not None and ns.is_org else f"Unknown organization {name}"
        org = self.namespaces.get(namespace)
        return None if org is not None and name in org.teams else f"Unknown team {name}"

    def _notification_get(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        _, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        item = self.notifications.get(params["uuid"])  # by UUID only: the repository is not checked
        return Reply(200, json.dumps(item.to_json())) if item else self.not_found()

    def _owned(self, params: dict[str, str]) -> Notification | None:
        repo = self.repos.get((params["namespace"], params["repo"]))
        item = self.notifications.get(params["uuid"])
        return item if item is not None and repo is not None and item.repo_id == repo.id else None

    def _missing_notification(self, params: dict[str, str]) -> Reply:
        return self.invalid(
            f"No repository notification found for: {params['namespace']}, {params['repo']}, {params['uuid']}"
        )

    def _notification_delete(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        _, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        item = self._owned(params)
        if item is None:
            return self._missing_notification(params)
        del self.notifications[item.uuid]
        return Reply(204)

    def _notification_post(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        """Reset failures."""
        _, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        if params["uuid"] not in self.notifications:
            return self._missing_notification(params)
        item = self._owned(params)
        if item is None:
            return _message(400, f"No repository notification found with uuid: {params['uuid']}")
        item.number_of_failures = 0
        return Reply(204)

    def _test_post(self, auth: Auth | None, params: dict[str, str], *_: Any) -> Reply:
        _, denied = self._repo_access(auth, params, ADMIN)
        if denied:
            return denied
        item = self.notifications.get(params["uuid"])  # like GET, the repository is not checked
        if item is None:
            return self._missing_notification(params)
        self.queued_tests.append(item.uuid)
        repo = next((r for r in self.repos.values() if r.id == item.repo_id), None)
        if self.worker.post_webhooks and repo is not None:
            self.worker.queue(item.uuid, self.now(), sample_body(repo, self.host, item.event, self.now()))
        return Reply(200, "{}")


class _Crash(Exception):
    """An uncaught exception inside Quay: an HTML 500."""


_REPO = r"(?P<namespace>[^/]+)/(?P<repo>[^/]+(?:/[^/]+)*)"
_ROUTES: list[tuple[re.Pattern[str], str, frozenset[str]]] = [
    (re.compile(r"^/api/v1/discovery$"), "discovery", frozenset({"GET"})),
    (re.compile(r"^/api/v1/user/$"), "user", frozenset({"GET"})),
    (re.compile(r"^/api/v1/user$"), "redirect", frozenset()),
    (re.compile(r"^/api/v1/organization/(?P<org>[^/]+)$"), "organization", frozenset({"GET"})),
    (re.compile(r"^/api/v1/app/(?P<client_id>[^/]+)$"), "app", frozenset({"GET"})),
    (
        re.compile(r"^/api/v1/organization/(?P<org>[^/]+)/applications/(?P<client_id>[^/]+)$"),
        "org_app",
        frozenset({"GET"}),
    ),
    (re.compile(r"^/api/v1/user/assignedauthorization$"), "assigned", frozenset({"GET"})),
    (re.compile(r"^/api/v1/user/logs$"), "user_logs", frozenset({"GET"})),
    (re.compile(r"^/api/v1/organization/(?P<org>[^/]+)/logs$"), "org_logs", frozenset({"GET"})),
    (re.compile(r"^/api/v1/repository$"), "repos", frozenset({"GET", "POST"})),
    (
        re.compile(rf"^/api/v1/repository/{_REPO}/notification/(?P<uuid>[^/]+)/test$"),
        "test",
        frozenset({"POST"}),
    ),
    (
        re.compile(rf"^/api/v1/repository/{_REPO}/notification/(?P<uuid>[^/]+)$"),
        "notification",
        frozenset({"GET", "POST", "DELETE"}),
    ),
    (re.compile(rf"^/api/v1/repository/{_REPO}/notification/$"), "notifications", frozenset({"GET", "POST"})),
    (re.compile(rf"^/api/v1/repository/{_REPO}/notification$"), "redirect", frozenset()),
    (re.compile(rf"^/api/v1/repository/{_REPO}/changevisibility$"), "visibility", frozenset({"POST"})),
    (re.compile(rf"^/api/v1/repository/{_REPO}/tag/$"), "tags", frozenset({"GET"})),
    (re.compile(rf"^/api/v1/repository/{_REPO}/tag/(?P<tag>[^/]+)/restore$"), "tag_restore", frozenset({"POST"})),
    (re.compile(rf"^/api/v1/repository/{_REPO}/tag/(?P<tag>[^/]+)$"), "tag", frozenset({"PUT", "DELETE"})),
    (
        re.compile(rf"^/api/v1/repository/{_REPO}/manifest/(?P<digest>[^/]+)/security$"),
        "security",
        frozenset({"GET"}),
    ),
    (re.compile(rf"^/api/v1/repository/{_REPO}/logs$"), "repo_logs", frozenset({"GET"})),
    (re.compile(rf"^/api/v1/repository/{_REPO}$"), "repo", frozenset({"GET", "PUT", "DELETE"})),
]


# What Quay's usage logs call each change (`endpoints/api/`'s log_action calls).
LOGGED = {
    ("repos", "POST"): "create_repo",
    ("repo", "DELETE"): "delete_repo",
    ("repo", "PUT"): "set_repo_description",
    ("visibility", "POST"): "change_repo_visibility",
    ("notifications", "POST"): "add_repo_notification",
    ("notification", "DELETE"): "delete_repo_notification",
    ("notification", "POST"): "reset_repo_notification",
}
OAUTH_ROUTES: dict[str, Any] = {
    "app": lambda oauth, auth, params, query: oauth.application_info(params["client_id"]),
    "org_app": lambda oauth, auth, params, query: oauth.org_application(auth, params["org"], params["client_id"]),
    "assigned": lambda oauth, auth, params, query: oauth.assigned_authorizations(auth),
    "org_logs": lambda oauth, auth, params, query: oauth.org_logs(auth, params["org"], query),
    "user_logs": lambda oauth, auth, params, query: oauth.user_logs(auth, query),
}


def _route(path: str) -> tuple[str, dict[str, str], frozenset[str]] | None:
    for pattern, name, methods in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match.groupdict(), methods
    return None


def _split(full_name: str) -> tuple[str, str]:
    namespace, _, name = full_name.partition("/")
    return namespace, name


def _decode_scopes(scopes: str) -> frozenset[str]:
    items = frozenset(s for s in re.split(r"[ ,]+", scopes.strip()) if s)
    return items if items <= KNOWN_SCOPES else frozenset()  # one unknown scope voids them all


def _abort(status: int, message: str) -> Reply:
    """util/http.py abort(): JSON text under an HTML content type."""
    return Reply(status, json.dumps({"error": message}), "text/html; charset=utf-8")


def _message(status: int, message: str) -> Reply:
    return Reply(status, json.dumps({"message": message}))


def _json_request(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], Reply | None]:
    if not headers.get("content-type", "").startswith("application/json"):
        return {}, _message(
            415,
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        )
    try:
        data = json.loads(body or b"")
    except ValueError:
        return {}, _message(400, BAD_REQUEST_MESSAGE)
    if not isinstance(data, dict):
        return {}, Reply(
            400,
            json.dumps(
                {
                    "detail": f"{data!r} is not of type 'object'\n\nFailed validating 'type' in schema",
                    "error_message": f"{data!r} is not of type 'object'",
                    "error_type": "invalid_request",
                    "title": "invalid_request",
                    "type": "http://quay.test/api/v1/error/invalid_request",
                    "status": 400,
                }
            ),
        )
    return data, None


def _validate(
    data: dict[str, Any],
    *,
    required: tuple[str, ...] = (),
    strings: tuple[str, ...] = (),
    objects: tuple[str, ...] = (),
    enums: dict[str, list[Any]] | None = None,
) -> str | None:
    """A jsonschema 3.2 style message for the first problem, with its long multi-line tail."""
    instance = repr(data)

    def tail(kind: str) -> str:
        return f"\n\nFailed validating '{kind}' in schema:\n    {{...}}\n\nOn instance:\n    {instance}"

    for key in required:
        if key not in data:
            return f"{key!r} is a required property" + tail("required")
    for key in strings:
        if key in data and not isinstance(data[key], str):
            return f"{data[key]!r} is not of type 'string'" + tail("type")
    for key in objects:
        if key in data and not isinstance(data[key], dict):
            return f"{data[key]!r} is not of type 'object'" + tail("type")
    for key, allowed in (enums or {}).items():
        if key in data and data[key] not in allowed:
            return f"{data[key]!r} is not one of {allowed!r}" + tail("enum")
    return None


# HTTP server ----------------------------------------------------------------------------------


class NotificationWorker:
    """Quay's notification worker as measured (quay-events-observed.md): it polls its queue every
    10 s, so a delivery happens 0-10 s after the event; a failed delivery counts a failure and is
    retried 30 s later (on the next tick); at 3 failures the notification is skipped and the item
    dropped; a success resets the count.

    By default deliveries are simulated: a target fails when its URL's host is in `dead_hosts`. With
    `post_webhooks = True`, `webhook` notifications are really POSTed, as Quay does: the event's JSON
    body, `Content-type: application/json`, no signature, a 10 s timeout, and any non-2xx answer or
    network error is a failure.

    `tick(now)` does what is due by `now` on the fake's clock; tests call it, or `start()` runs it
    in a thread every `poll / speed` seconds for a clock running `speed` times as fast."""

    POLL, RETRY, DISABLE_AT = 10.0, 30.0, 3

    def __init__(self, fake: FakeQuay) -> None:
        self.fake = fake
        self.dead_hosts: set[str] = set()
        self.post_webhooks = False
        self.send_timeout = 10.0
        self.items: list[tuple[float, str, dict[str, Any] | None]] = []  # (due, notification uuid, body)
        self.delivered: list[tuple[float, str]] = []
        self.failures: list[tuple[float, str, int]] = []  # (when, uuid, count after it)
        self.posts: list[tuple[str, int | None]] = []  # (url, status or None for a network error)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def queue(self, uuid: str, now: float, body: dict[str, Any] | None = None) -> None:
        # The item is picked up on the worker's next tick: 0-10 s later.
        with self.fake.lock:
            self.items.append((self._next_tick(now), uuid, body))

    def _next_tick(self, now: float) -> float:
        return (int(now // self.POLL) + 1) * self.POLL

    def fails(self, item: Notification) -> bool:
        url = str(item.config.get("url") or "")
        return urlsplit(url).hostname in self.dead_hosts

    def tick(self, now: float) -> None:
        with self.fake.lock:
            due = sorted((entry for entry in self.items if entry[0] <= now), key=lambda e: (e[0], e[1]))
            self.items = [entry for entry in self.items if entry[0] > now]
        for at, uuid, body in due:
            with self.fake.lock:
                item = self.fake.notifications.get(uuid)
                if item is None or item.number_of_failures >= self.DISABLE_AT:
                    continue  # deleted or disabled: the item is dropped
                url = str(item.config.get("url") or "")
                really = self.post_webhooks and item.method == "webhook" and body is not None
            # Sent outside the lock: the receiver may take its time, and Quay keeps answering meanwhile.
            failed = not self._post(url, body) if really and body is not None else self.fails(item)
            with self.fake.lock:
                if failed:
                    item.number_of_failures += 1
                    self.failures.append((at, uuid, item.number_of_failures))
                    if item.number_of_failures < self.DISABLE_AT:
                        # Available again 30 s later, so taken on the tick after that: 40 s apart, as measured.
                        self.items.append((self._next_tick(at + self.RETRY), uuid, body))
                else:
                    item.number_of_failures = 0
                    self.delivered.append((at, uuid))

    def _post(self, url: str, body: dict[str, Any]) -> bool:
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-type": "application/json", "User-Agent": "python-requests/2.32.3"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.send_timeout) as response:
                status: int | None = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError):
            status = None
        with self.fake.lock:
            self.posts.append((url, status))
        return status is not None and 200 <= status < 300

    def drain(self, now: float, rounds: int = 1) -> None:
        """Run every tick up to `now` plus `rounds` more polls (tests: deliver what is queued)."""
        for _ in range(rounds):
            now += self.POLL
            self.tick(now)

    def start(self, speed: float = 1.0) -> None:
        def run() -> None:
            while not self._stop.wait(1.0 / speed):
                self.tick(self.fake.now())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def payload_for(namespace: str, name: str, host: str = "quay.test", **fields: Any) -> dict[str, Any]:
    """The fields every event payload starts with (quay-events-observed.md), then `fields`."""
    full = f"{namespace}/{name}"
    return {
        "repository": full,
        "namespace": namespace,
        "name": name,
        "docker_url": f"{host}/{full}",
        "homepage": f"http://{host}/repository/{full}",
        **fields,
    }


def event_body(repo: Repo, host: str, **fields: Any) -> dict[str, Any]:
    return payload_for(repo.namespace, repo.name, host, **fields)


_COMMIT = "42d4a62c53350993ea41069e9f2cfdefb0df097d"


def _commit_info(date: float) -> dict[str, Any]:
    return {
        "url": "http://path/to/the/commit",
        "message": "Some commit message",
        "date": date,
        "author": {
            "username": "fakeauthor",
            "url": "http://path/to/fake/author/in/scm",
            "avatar_url": "http://www.gravatar.com/avatar/fakehash",
        },
    }


def build_body(repo: Repo, host: str, event: str, build_id: str, now: float, **extra: Any) -> dict[str, Any]:
    """A build event as Quay sends it: the build page as homepage; queued and failure carry the commit's
    details, the others only its hash; failure adds error_message, success and cancelled image_id."""
    metadata: dict[str, Any] = {"default_branch": "master", "ref": "refs/heads/somebranch", "commit": _COMMIT}
    if event in ("build_queued", "build_failure"):
        metadata["commit_info"] = _commit_info(now)
    body = event_body(
        repo,
        host,
        build_id=build_id,
        build_name="some-fake-build",
        docker_tags=["latest", "foo", "bar"],
        trigger_id="1245634",
        trigger_kind="GitHub",
        trigger_metadata=metadata,
    )
    body["homepage"] = f"http://{host}/repository/{repo.namespace}/{repo.name}/build/{build_id}"
    if event == "build_queued":
        body["is_manual"] = False
    if event == "build_failure":
        body["error_message"] = "This is a fake error message"
    if event in ("build_success", "build_cancelled"):
        body["image_id"] = "1245657346"
    return {**body, **extra}


def sample_body(repo: Repo, host: str, event: str, now: float) -> dict[str, Any]:
    """What `POST …/notification/{uuid}/test` delivers for each event: Quay's fixed samples."""
    if event.startswith("build_"):
        return build_body(repo, host, event, "fake-build-id", now)
    samples: dict[str, dict[str, Any]] = {
        "repo_push": {"updated_tags": ["latest", "foo"], "pruned_image_count": 3},
        "vulnerability_found": {
            "tags": ["latest", "prod", "foo", "bar", "baz"],
            "image": "some-image-id",
            "vulnerability": {
                "id": "CVE-FAKE-CVE",
                "description": "A futurist vulnerability",
                "link": "https://security-tracker.debian.org/tracker/CVE-FAKE-CVE",
                "priority": "High",
            },
        },
        "repo_image_expiry": {"tags": ["latest", "v1"], "expiring_in": "7 days"},
    }
    return event_body(repo, host, **samples.get(event, {"message": "TEST NOTIFICATION"}))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the client's
    # delayed ACK hold each answer back about 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.fake.lock:
            self.server.fake.connections += 1

    def _serve(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        with fake.lock:  # recorded on arrival, so a slow or dropped request is still seen
            fake.requests.append(Recorded(self.command, path, parts.path, dict(parse_qsl(parts.query)), headers, body))
        fault = fake.take_fault(self.command, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.status is not None:
            reply = _fault_reply(fault)
        else:
            reply = fake.handle(self.command, self.path, headers, body)
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        data = reply.body.encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in {**CORS_HEADERS, **reply.headers}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


def _fault_reply(fault: Fault) -> Reply:
    status = fault.status or 500
    if fault.body is not None:
        body = fault.body
    elif status == 429:
        body = NGINX_429
    else:
        reason = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Time-out",
        }
        body = NGINX_5XX.format(status=status, reason=reason.get(status, "Error"))
    return Reply(status, body, "text/html", dict(fault.headers))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeQuay) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeQuayServer:
    """`FakeQuay` served over real HTTP on 127.0.0.1, on a free port, in a background thread."""

    def __init__(self, fake: FakeQuay | None = None, *, tls: ssl.SSLContext | None = None) -> None:
        self.fake = fake or FakeQuay()
        self._server = _Server(self.fake)
        self.scheme = "http"
        if tls is not None:  # HTTPS with the caller's certificate (the handshake runs on accept)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def start(self) -> FakeQuayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeQuayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
