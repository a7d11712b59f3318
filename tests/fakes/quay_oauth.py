"""Quay's OAuth applications and usage logs, for the fake Quay, written from
../shared/quay-oauth-observed.md (and Quay's endpoints/web.py, oauth/provider.py, data/model/oauth.py):

- an application belongs to an organization and has one redirect URI; a request's `redirect_uri`
  must start with it (`validate_redirect_uri`), else a redirect to the application's own URI with
  `error=redirect_uri_mismatch`;
- `GET /oauth/authorize` is for a user signed in to Quay in the browser (here: the `quay_session`
  cookie names the user): anonymous 401, not an admin of the application's organization and no
  assignment 403 (an HTML page), else the consent page (HTML, or JSON with `format=json`) whose form
  posts to `/oauth/authorizeapp` with a CSRF token; once authorized with those scopes, a 302 at once;
- code flow: 302 to `R?scope=...&state=X&code=C`; `POST /oauth/access_token` gives the token as JSON;
- assigned (implicit) flow: an admin assigns (`POST /oauth/authorize/assignuser`, a web session with
  CSRF only), the user sees it at `GET /api/v1/user/assignedauthorization` and approves; 302 to
  `R?scope=...&state=X#access_token=T&token_type=Bearer&expires_in=315576000`; the assignment is used up;
- a change made with a token is logged with its user as the performer, and with the application's
  client id when the token is an OAuth application's (`GET /api/v1/organization/{org}/logs`).
"""

from __future__ import annotations

import base64
import calendar
import html
import json
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from tests.fakes.quay import Auth, FakeQuay, Reply

TEN_YEARS = 315576000
LOG_PAGE = 20
SESSION_COOKIE = "quay_session"


@dataclass
class Application:
    client_id: str
    client_secret: str
    organization: str
    redirect_uri: str
    name: str = "quaybot"


@dataclass
class Assignment:
    uuid: str
    client_id: str
    username: str
    redirect_uri: str
    scope: str
    response_type: str


@dataclass
class OAuthState:
    applications: dict[str, Application] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> (client, user, scope)
    authorized: set[tuple[str, str, str]] = field(default_factory=set)  # (client, user, scope)
    csrf: dict[str, str] = field(default_factory=dict)  # token -> user
    logs: list[dict[str, Any]] = field(default_factory=list)  # newest last


class OAuthFake:
    def __init__(self, quay: FakeQuay) -> None:
        self.quay = quay
        self.state = OAuthState()
        self.unsearchable: set[str] = set()  # namespaces whose logs backend cannot be searched
        self.log_reads = 0

    # Set-up ------------------------------------------------------------------------------------

    def add_application(self, client_id: str, secret: str, organization: str, redirect_uri: str) -> Application:
        app = Application(client_id, secret, organization, redirect_uri)
        self.state.applications[client_id] = app
        return app

    def assign(self, admin: str, client_id: str, username: str, redirect_uri: str, scope: str) -> Reply:
        """What an org admin's "Assign another user" does, from a signed-in web session with its CSRF token."""
        token = self._csrf_for(admin)
        query = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "response_type": "token",
            "username": username,
            "format": "json",
            "_csrf_token": token,
        }
        return self.quay.handle(
            "POST", "/oauth/authorize/assignuser?" + urlencode(query), {"cookie": f"{SESSION_COOKIE}={admin}"}, b""
        )

    def revoke(self, username: str, client_id: str) -> None:
        """The user revokes the application in Quay's UI (Account settings -> Authorized Applications)."""
        with self.quay.lock:
            for token, held in list(self.quay.tokens.items()):
                if held.user == username and held.app == client_id:
                    del self.quay.tokens[token]

    # Web endpoints -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        from tests.fakes.quay import Reply

        user = _session_user(headers)
        form = dict(parse_qsl(body.decode(errors="replace"))) if body else {}
        if path == "/oauth/authorize" and method == "GET":
            return self._authorize(user, query)
        if path == "/oauth/authorizeapp" and method == "POST":
            return self._authorize_app(user, form)
        if path == "/oauth/access_token" and method == "POST":
            return self._access_token(form, headers)
        if path == "/oauth/authorize/assignuser" and method == "POST":
            return self._assign_user(user, query)
        return Reply(404, "<html><body>404: Page not found</body></html>", "text/html; charset=utf-8")

    def _authorize(self, user: str | None, query: dict[str, str]) -> Reply:
        from tests.fakes.quay import Reply

        for required in ("client_id", "redirect_uri", "scope"):
            if required not in query:
                return _json(400, {"message": f"Missing parameter: {required}"})
        if user is None:
            return Reply(401, _page("Unauthorized"), "text/html; charset=utf-8")
        response_type = query.get("response_type", "code")
        assignment_uuid = query.get("assignment_uuid")
        if response_type != "token" and assignment_uuid is not None:
            return Reply(400, _page("Bad Request"), "text/html; charset=utf-8")
        app = self.state.applications.get(query["client_id"])
        if app is None:
            return Reply(404, _page("Not Found"), "text/html; charset=utf-8")
        if not self._is_admin(user, app) and self._assignment(assignment_uuid, user, app) is None:
            return Reply(403, _page("Forbidden"), "text/html; charset=utf-8")
        scope = query["scope"]
        if (app.client_id, user, scope) not in self.state.authorized:
            if not query["redirect_uri"].startswith(app.redirect_uri):
                return _redirect(app.redirect_uri, {"error": "redirect_uri_mismatch"})
            fields = {
                "client_id": app.client_id,
                "redirect_uri": query["redirect_uri"],
                "scope": scope,
                "response_type": response_type,
                "state": query.get("state"),
                "assignment_uuid": assignment_uuid,
                "_csrf_token": self._csrf_for(user),
            }
            if query.get("format") == "json":
                return _json(200, {**fields, "csrf_token_val": fields.pop("_csrf_token")})
            inputs = "".join(
                f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
                for name, value in fields.items()
                if value is not None
            )
            consent = f'<form method="post" action="/oauth/authorizeapp">{inputs}<button>Authorize</button></form>'
            return Reply(200, f"<html><body><h1>Authorize {app.name}</h1>{consent}</body></html>", "text/html")
        return self._grant(user, app, response_type, query["redirect_uri"], scope, query.get("state"), assignment_uuid)

    def _authorize_app(self, user: str | None, form: dict[str, str]) -> Reply:
        from tests.fakes.quay import Reply

        if user is None:
            return Reply(401, _page("Unauthorized"), "text/html; charset=utf-8")
        if self.state.csrf.get(form.get("_csrf_token", "")) != user:
            return _json(403, {"error": "CSRF token was invalid or missing."}, "text/html; charset=utf-8")
        response_type = form.get("response_type", "code")
        if response_type != "token" and form.get("assignment_uuid") is not None:
            return Reply(400, _page("Bad Request"), "text/html; charset=utf-8")
        app = self.state.applications.get(form.get("client_id", ""))
        if app is None:
            return Reply(404, _page("Not Found"), "text/html; charset=utf-8")
        return self._grant(
            user,
            app,
            response_type,
            form.get("redirect_uri", ""),
            form.get("scope", ""),
            form.get("state"),
            form.get("assignment_uuid"),
        )

    def _grant(
        self,
        user: str,
        app: Application,
        response_type: str,
        redirect_uri: str,
        scope: str,
        state: str | None,
        assignment_uuid: str | None,
    ) -> Reply:
        if not redirect_uri.startswith(app.redirect_uri):
            return _json(400, {"error": "invalid_request"})
        if response_type == "token":
            assignment = self._assignment(assignment_uuid, user, app)
            if not self._is_admin(user, app) and assignment is None:
                return _redirect(redirect_uri, {"error": "unauthorized_client"})
            if assignment is not None:
                del self.state.assignments[assignment.uuid]  # used up
            token = secrets.token_urlsafe(30)[:40]
            self.quay.add_token(token, user, scope)
            self.quay.tokens[token].app = app.client_id
            self.state.authorized.add((app.client_id, user, scope))
            query = {"scope": scope, **({"state": state} if state else {})}
            fragment = urlencode({"access_token": token, "token_type": "Bearer", "expires_in": TEN_YEARS})
            return _redirect(redirect_uri, query, fragment)
        code = secrets.token_urlsafe(30)[:40]
        self.state.codes[code] = (app.client_id, user, scope)
        self.state.authorized.add((app.client_id, user, scope))
        return _redirect(redirect_uri, {"scope": scope, **({"state": state} if state else {}), "code": code})

    def _access_token(self, form: dict[str, str], headers: dict[str, str]) -> Reply:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        app = self.state.applications.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, secret):
            return _json(400, {"error": "invalid_client"})
        found = self.state.codes.pop(form.get("code", ""), None)
        if found is None or found[0] != client_id or not form.get("redirect_uri", "").startswith(app.redirect_uri):
            return _json(400, {"error": "invalid_grant"})
        _, user, scope = found
        token = secrets.token_urlsafe(30)[:40]
        self.quay.add_token(token, user, scope)
        self.quay.tokens[token].app = client_id
        return _json(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": TEN_YEARS, "refresh_token": None}
        )

    def _assign_user(self, user: str | None, query: dict[str, str]) -> Reply:
        from tests.fakes.quay import Reply

        if user is None:
            return Reply(401, _page("Unauthorized"), "text/html; charset=utf-8")
        if self.state.csrf.get(query.get("_csrf_token", "")) != user:
            return _json(403, {"error": "CSRF token was invalid or missing."}, "text/html; charset=utf-8")
        app = self.state.applications.get(query.get("client_id", ""))
        if app is None or query.get("username") not in self.quay.namespaces:
            return Reply(404, _page("Not Found"), "text/html; charset=utf-8")
        if not self._is_admin(user, app):
            return Reply(403, _page("Forbidden"), "text/html; charset=utf-8")
        assignment = Assignment(
            str(uuidlib.uuid4()),
            app.client_id,
            query["username"],
            query["redirect_uri"],
            query["scope"],
            query.get("response_type", "code"),
        )
        self.state.assignments[assignment.uuid] = assignment
        self.log(
            app.organization,
            "oauth_token_assigned",
            user,
            {"assigning_user": user, "assigned_user": assignment.username, "application": app.name},
        )
        return _json(200, {"message": "Token assigned successfully"})

    # API endpoints (routed by the fake Quay) ---------------------------------------------------

    def application_info(self, client_id: str) -> Reply:
        app = self.state.applications.get(client_id)
        if app is None:
            return self.quay.not_found()
        org = {"name": app.organization, "email": "", "is_admin": False, "is_member": False}
        return _json(200, {"name": app.name, "description": "", "uri": "", "avatar": {}, "organization": org})

    def org_application(self, auth: Auth | None, org: str, client_id: str) -> Reply:
        app = self.state.applications.get(client_id)
        ns = self.quay.namespaces.get(org)
        is_admin = auth is not None and ns is not None and auth.user in ns.admins and "org:admin" in auth.scopes
        if not is_admin:
            return self.quay.unauthorized(auth)
        if app is None or app.organization != org:
            return self.quay.not_found()
        body = {"name": app.name, "client_id": app.client_id, "client_secret": app.client_secret}
        return _json(200, {**body, "redirect_uri": app.redirect_uri, "application_uri": "", "avatar_email": None})

    def assigned_authorizations(self, auth: Auth | None) -> Reply:
        if auth is None:
            return self.quay.unauthorized(auth)
        found = [a for a in self.state.assignments.values() if a.username == auth.user]
        return _json(
            200,
            {
                "authorizations": [
                    {
                        "uuid": a.uuid,
                        "application": {"name": self.state.applications[a.client_id].name, "clientId": a.client_id},
                        "redirectUri": a.redirect_uri,
                        "scopes": [{"scope": s} for s in a.scope.split()],
                        "responseType": a.response_type,
                    }
                    for a in found
                ]
            },
        )

    def org_logs(self, auth: Auth | None, org: str, query: dict[str, str] | None = None) -> Reply:
        """`GET /api/v1/organization/{org}/logs`: an admin's, with `org:admin`."""
        ns = self.quay.namespaces.get(org)
        if auth is None or ns is None or auth.user not in ns.admins or "org:admin" not in auth.scopes:
            return self.quay.unauthorized(auth)
        return self._usage_logs(org, query or {})

    def user_logs(self, auth: Auth | None, query: dict[str, str] | None = None) -> Reply:
        """`GET /api/v1/user/logs`: the token's own namespace."""
        if auth is None:
            return self.quay.unauthorized(auth)
        return self._usage_logs(auth.user, query or {})

    def _usage_logs(self, namespace: str, query: dict[str, str]) -> Reply:
        """Newest first, 20 a page with a `next_page` token, `starttime`/`endtime` as %m/%d/%Y in UTC
        (whole days; by default the last day), or `search_unavailable` where the logs backend cannot
        be searched."""
        if namespace in self.unsearchable:
            return _json(
                200,
                {"logs": [], "search_unavailable": True, "message": "Log search is unavailable for this backend"},
            )
        now = self.quay.now()
        try:
            start = _day(query["starttime"]) if query.get("starttime") else now - 86400
            end = _day(query["endtime"]) + 86400 if query.get("endtime") else now + 1
            before = int(base64.urlsafe_b64decode(query["next_page"]).decode()) if query.get("next_page") else None
        except (ValueError, KeyError):
            return _json(
                400, {"message": "The browser (or proxy) sent a request that this server could not understand."}
            )
        window = [
            e
            for e in reversed(self.state.logs)
            if e["metadata"].get("namespace") == namespace
            and start <= e["_ts"] < end
            and (before is None or e["_seq"] < before)
        ]
        page = window[:LOG_PAGE]
        body: dict[str, Any] = {
            "start_time": formatdate(start, usegmt=False).replace("+0000", "-0000"),
            "end_time": formatdate(end, usegmt=False).replace("+0000", "-0000"),
            "logs": [{k: v for k, v in e.items() if not k.startswith("_")} for e in page],
        }
        if len(window) > LOG_PAGE:
            body["next_page"] = base64.urlsafe_b64encode(str(page[-1]["_seq"]).encode()).decode()
        self.log_reads += 1
        return _json(200, body)

    def log(self, namespace: str, kind: str, performer: str, metadata: dict[str, Any], app: str | None = None) -> None:
        extra = {"oauth_token_id": 1, "oauth_token_application_id": app} if app else {}
        now = self.quay.now()
        self.state.logs.append(
            {
                "kind": kind,
                "metadata": {"namespace": namespace, **metadata, **extra},
                "ip": "127.0.0.1",
                "datetime": formatdate(now, usegmt=False).replace("+0000", "-0000"),
                "performer": {"kind": "user", "name": performer, "is_robot": False},
                "_ts": int(now),  # second granularity, as Quay shows it
                "_seq": len(self.state.logs) + 1,
            }
        )

    def performers(self, kind: str) -> list[tuple[str, str | None]]:
        """Who Quay's logs say did each `kind` change: (username, OAuth application client id)."""
        return [
            (e["performer"]["name"], e["metadata"].get("oauth_token_application_id"))
            for e in self.state.logs
            if e["kind"] == kind
        ]

    # Helpers -----------------------------------------------------------------------------------

    def _is_admin(self, user: str, app: Application) -> bool:
        ns = self.quay.namespaces.get(app.organization)
        return ns is not None and user in ns.admins

    def _assignment(self, assignment_uuid: str | None, user: str, app: Application) -> Assignment | None:
        if assignment_uuid is None:
            return None
        found = self.state.assignments.get(assignment_uuid)
        return found if found is not None and found.username == user and found.client_id == app.client_id else None

    def _csrf_for(self, user: str) -> str:
        token = secrets.token_urlsafe(16)
        self.state.csrf[token] = user
        return token


def _day(text: str) -> float:
    """%m/%d/%Y, midnight UTC."""
    return float(calendar.timegm(time.strptime(text, "%m/%d/%Y")))


def _session_user(headers: dict[str, str]) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value
    return None


def _page(title: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"


def _json(status: int, body: dict[str, Any], content_type: str = "application/json") -> Reply:
    from tests.fakes.quay import Reply

    return Reply(status, json.dumps(body), content_type)


def _redirect(uri: str, query: dict[str, Any], fragment: str = "") -> Reply:
    from tests.fakes.quay import Reply

    location = uri + ("&" if "?" in uri else "?") + urlencode(query) + (f"#{fragment}" if fragment else "")
    return Reply(302, "", "text/html; charset=utf-8", {"Location": location})
