"""The setup page: an aiohttp server on 127.0.0.1 only, opened with a one-time token printed in the
terminal (Jupyter's way). The first browser to use the token gets a session cookie (HttpOnly,
SameSite=Strict) and the token is spent; anything else is refused. Requests must name the page's
own host (no DNS rebinding) and forms its own origin; nothing is cached, nothing is logged (the
access log would hold the token)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.setup import html
from bot.setup.flow import STEPS, AccessRow, Setup
from bot.setup.probe import Problem

COOKIE = "quaybot_setup"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SetupPage:
    def __init__(self, setup: Setup, host: str = "127.0.0.1", port: int = 0) -> None:
        self.setup = setup
        self.host, self.port = host, port
        self.token = secrets.token_urlsafe(32)
        self._session: str | None = None
        self.serve = asyncio.Event()  # the user asked to start serving
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/?token={self.token}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self._home),
                web.get("/{step:quay|access|slack|write}", self._show),
                web.post("/quay", self._quay),
                web.post("/access", self._access),
                web.post("/slack/mode", self._mode),
                web.post("/slack", self._slack),
                web.post("/write", self._write),
                web.post("/serve", self._serve),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # The guard ----------------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return _secured(web.Response(status=403, text="quaybot setup answers on 127.0.0.1 only"))
        session = request.cookies.get(COOKIE)
        if not (self._session and session and secrets.compare_digest(session, self._session)):
            return _secured(self._admit(request))
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin is not None and origin != f"http://{request.host}":
            return _secured(web.Response(status=403, text="a form from another page"))
        return _secured(await handler(request))

    def _admit(self, request: web.Request) -> web.StreamResponse:
        given = request.query.get("token", "")
        if self._session is None and given and secrets.compare_digest(given.encode(), self.token.encode()):
            self._session = secrets.token_urlsafe(32)
            response = _see(request.path)  # the token leaves the address bar and the history
            response.set_cookie(COOKIE, self._session, httponly=True, samesite="Strict", path="/")
            return response
        reason = (
            "This link was already used in another browser: stop quaybot setup and start it again for a new one."
            if self._session is not None and given
            else "Open the address printed in the terminal where quaybot setup runs: it carries a one-time token."
        )
        return web.Response(status=403, text=html.refused(reason), content_type="text/html")

    # Steps --------------------------------------------------------------------------------------

    async def _home(self, request: web.Request) -> web.StreamResponse:
        return _see(f"/{self.setup.reached()}")

    async def _show(self, request: web.Request) -> web.StreamResponse:
        step = request.match_info["step"]
        if STEPS.index(step) > STEPS.index(self.setup.reached()):
            return _see(f"/{self.setup.reached()}")
        return self._render(step)

    def _render(self, step: str, problem: Problem | None = None, **filled: Any) -> web.Response:
        body = {
            "quay": lambda: html.quay_step(self.setup, **filled),
            "access": lambda: html.access_step(self.setup),
            "slack": lambda: html.slack_step(self.setup),
            "write": lambda: html.write_step(self.setup),
        }[step]()
        status = 200 if problem is None else 400
        return web.Response(status=status, text=html.page(self.setup, step, body, problem), content_type="text/html")

    async def _quay(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        url, token = str(form.get("url", "")), str(form.get("token", ""))
        try:
            await self.setup.check_quay(url, token)
        except Problem as problem:
            return self._render("quay", problem, url=url)
        return _see("/access")

    async def _access(self, request: web.Request) -> web.StreamResponse:
        if self.setup.quay is None:
            return _see("/quay")
        form = await request.post()
        rows = []
        for index in range(len(self.setup.quay.namespaces)):
            rows.append(
                AccessRow(
                    str(form.get(f"namespace-{index}", "")),
                    f"use-{index}" in form,
                    str(form.get(f"channel-{index}", "")),
                    str(form.get(f"role-{index}", "")),
                    f"alerts-{index}" in form,
                )
            )
        try:
            self.setup.set_access(rows)
        except Problem as problem:
            return self._render("access", problem)
        return self._render("access")

    async def _mode(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            self.setup.choose_mode(str(form.get("mode", "")), str(form.get("public_url", "")))
        except Problem as problem:
            return self._render("slack", problem)
        return _see("/slack")

    async def _slack(self, request: web.Request) -> web.StreamResponse:
        if not self.setup.plan.mappings:
            return _see(f"/{self.setup.reached()}")
        form = await request.post()
        try:
            await self.setup.check_slack(
                str(form.get("bot_token", "")), str(form.get("app_token", "")), str(form.get("signing_secret", ""))
            )
        except Problem as problem:
            return self._render("slack", problem)
        return _see("/write")

    async def _write(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            await self.setup.write(replace="replace" in form)
        except Problem as problem:
            return self._render("write", problem)
        return self._render("write")

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if self.setup.written is None:
            return _see(f"/{self.setup.reached()}")
        self.serve.set()
        return web.Response(text=html.serving(), content_type="text/html")


def _see(path: str) -> web.Response:
    return web.Response(status=303, headers={"Location": path})


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "no-store"
    # Same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the page's own forms.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # No script at all; the one <style> element is inline.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response
