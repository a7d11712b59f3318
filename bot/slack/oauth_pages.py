"""The two web pages of `/quay login`: `GET /quay/oauth/start` (binds the browser with an HttpOnly
cookie, then sends it to Quay) and `/quay/oauth/callback` (where Quay sends it back).

Quay's code flow comes back as `?code=&state=`: exchanged on the server. Its assigned (implicit)
flow comes back with the token in the URL fragment, which browsers never send to a server: the
callback page reads it with its own inline script (no third-party script, a CSP nonce) and posts it
back to the same address, and takes it off the address bar first. Whatever comes back is linked only
to the login this browser's cookie holds. Pages say plainly what happened, and keep no secret in a
URL, a log, a cache or a referrer.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets

from aiohttp import web
from pydantic import SecretStr

from bot.identities import Identities, Linked
from bot.quay.names import InvalidName
from bot.quay.oauth import CALLBACK_PATH, START_PATH

log = logging.getLogger(__name__)
COOKIE = "quaybot_login"
MAX_FORM = 4096
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")


def routes(identities: Identities, draining: asyncio.Event) -> list[web.RouteDef]:
    async def start(request: web.Request) -> web.StreamResponse:
        if draining.is_set():
            return _page("quaybot is restarting", _RESTARTING, status=503)
        if not identities.enabled or identities.app is None:
            return _page("Linking is not set up", _NOT_SET_UP, status=404)
        state, assigned = request.query.get("state", ""), request.query.get("assigned")
        target = identities.app.authorize_url(state)
        if assigned:
            try:  # approving an assignment happens on Quay's own page for it
                target = identities.app.approve_assignment_url(assigned)
            except InvalidName:
                return _page("This link cannot be used", _STALE_LINK, status=400)
        # Checked first, so that a link spoilt on the way does not use the login up.
        cookie = await identities.start(state) if _plausible(state) else None
        if cookie is None:
            return _page("This link cannot be used", _STALE_LINK, status=400)
        response = web.Response(status=302, headers={"Location": target})
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=600,
            path="/quay/oauth",
            httponly=True,
            secure=identities.app.public_url.startswith("https://"),
            samesite="Lax",  # sent when Quay's redirect brings the browser back, never on a cross-site POST
        )
        _private(response)
        return response

    async def callback(request: web.Request) -> web.StreamResponse:
        if draining.is_set():
            return _page("quaybot is restarting", _RESTARTING, status=503)
        if not identities.enabled:
            return _page("Linking is not set up", _NOT_SET_UP, status=404)
        query = request.query
        if "error" in query:
            return _page("Quay did not authorize quaybot", _quay_error(query.get("error", "")), status=400)
        cookie = request.cookies.get(COOKIE, "")
        if "code" in query:
            if not cookie:
                return _page("Nothing was linked", _NO_COOKIE, status=400)
            result = await identities.complete_code(cookie, query.get("state"), query["code"][:512])
            return _result(result)
        return _fragment_reader(query.get("state", ""), query.get("scope", ""))

    async def callback_post(request: web.Request) -> web.StreamResponse:
        if draining.is_set():
            return _page("quaybot is restarting", _RESTARTING, status=503)
        if not identities.enabled:
            return _page("Linking is not set up", _NOT_SET_UP, status=404)
        if request.content_length is None or request.content_length > MAX_FORM:
            return _page("Nothing was linked", "The page sent something this server does not take.", status=400)
        form = await request.post()
        token, state = str(form.get("access_token", "")), str(form.get("state", "")) or None
        scopes = tuple(str(form.get("scope", "")).replace(",", " ").split()[:10])
        cookie = request.cookies.get(COOKIE, "")
        if not cookie:
            return _page("Nothing was linked", _NO_COOKIE, status=400)
        if not token or len(token) > 512 or not set(token) <= TOKEN_CHARS:
            return _page("Nothing was linked", _NOTHING_SENT, status=400)
        return _result(await identities.complete_token(cookie, state, SecretStr(token), scopes))

    return [web.get(START_PATH, start), web.get(CALLBACK_PATH, callback), web.post(CALLBACK_PATH, callback_post)]


def _plausible(state: str) -> bool:
    return 16 <= len(state) <= 64 and state.replace("-", "").replace("_", "").isalnum() and state.isascii()


def _result(result: object) -> web.Response:
    if isinstance(result, Linked):
        who = html.escape(result.username)
        slack_user = html.escape(result.person.user_id)
        body = (
            f"<p>Your Slack account ({slack_user}) is now linked to the Quay account <b>{who}</b>.</p>"
            f"<p>Commands in channels set to act as each person now run as <b>{who}</b>, with what Quay lets "
            "that account do, and Quay's usage logs name it. <code>/quay whoami</code> shows the link; "
            "<code>/quay logout</code> forgets it.</p><p>You can close this page and go back to Slack.</p>"
        )
        response = _page("Linked", body)
    else:
        response = _page("Nothing was linked", html.escape(getattr(result, "reason", "")), status=400)
    response.del_cookie(COOKIE, path="/quay/oauth")  # the login is used up either way
    return response


def _fragment_reader(state: str, scope: str) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    script = (
        f'<script nonce="{nonce}">'
        "(function(){var p=new URLSearchParams(location.hash.slice(1));var t=p.get('access_token');"
        "history.replaceState(null,'',location.pathname);"  # the token leaves the address bar and history
        "var s=document.getElementById('status');"
        "if(!t){s.textContent=" + _js(_NOTHING_SENT) + ";return;}"
        "var f=document.getElementById('f');f.access_token.value=t;f.submit();})();</script>"
    )
    body = (
        '<p id="status">Reading what Quay sent back…</p>'
        f'<form id="f" method="post" action="{CALLBACK_PATH}"><input type="hidden" name="access_token">'
        f'<input type="hidden" name="state" value="{html.escape(state)}">'
        f'<input type="hidden" name="scope" value="{html.escape(scope[:500])}"></form>'
        "<noscript><p>This page needs JavaScript: Quay put the token in this page's address after the #, "
        "which only the page itself can read. Nothing was linked.</p></noscript>" + script
    )
    return _page("Linking your Quay account", body, nonce=nonce)


def _js(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _page(title: str, body: str, *, status: int = 200, nonce: str | None = None) -> web.Response:
    script_source = f"'nonce-{nonce}'" if nonce else "'none'"
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>quaybot: {html.escape(title)}</title></head>"
        f'<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    response = web.Response(text=document, content_type="text/html", status=status)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {script_source}; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    _private(response)
    return response


def _private(response: web.StreamResponse) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the code in the address goes nowhere else
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"


def _quay_error(error: str) -> str:
    known = {
        "access_denied": "You declined in Quay, so nothing was linked. Run /quay login again to link.",
        "redirect_uri_mismatch": (
            "Quay's OAuth application does not accept this bot's address as its redirect URI. An operator sets "
            "the application's Redirect/Callback URL in Quay to this bot's QUAYBOT_PUBLIC_URL "
            "(quaybot check says what it expects)."
        ),
        "unauthorized_client": (
            "Quay would not authorize quaybot for your account: only admins of the application's organization "
            "may, or a person an admin assigned it to. In Slack, /quay login YOUR_QUAY_USERNAME asks for that."
        ),
    }
    return html.escape(known.get(error, f"Quay answered {error[:60]!r}. Nothing was linked; run /quay login again."))


_RESTARTING = "quaybot is restarting. Reload this page in a minute; nothing was linked yet."
_NOT_SET_UP = "This quaybot is not set up to link Quay accounts (an operator sets QUAY_OAUTH_CLIENT_ID and the rest)."
_STALE_LINK = (
    "This link from Slack expired (it lasts 10 minutes), was used already, or was opened in another browser. "
    "Run /quay login in Slack again and open its button in this browser."
)
_NO_COOKIE = (
    "This browser did not start a login (its cookie is missing). Open the button of /quay login in Slack in this "
    "browser first; it sends you on to Quay."
)
_NOTHING_SENT = "Quay did not send a token back to this page, so nothing was linked. Run /quay login in Slack again."
