"""People's own Quay accounts: linking one (both OAuth flows), the token a command of theirs runs
with, and unlinking, by them or because Quay no longer takes the token.

Nothing here knows Slack or HTTP: the web pages (`bot/slack/oauth_pages.py`) and the commands
(`bot/slices/identity.py`) call in with what they were given, and get back what to say.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import SecretStr

from bot.access import Caller
from bot.quay import QuayClient, QuayError, QuayUnauthorized
from bot.quay.oauth import START_PATH, OAuthApplication
from bot.sealing import Unsealable
from bot.settings import OAUTH_SCOPES
from bot.store.db import Database
from bot.store.links import Link, LinkStore, Person

log = logging.getLogger(__name__)
# Told of each link and unlink, for the audit channel: (Slack team, Slack user, what, Quay username);
# whether it told anyone.
LinkObserver = Callable[[str, str, str, str], Awaitable[bool]]


@dataclass(frozen=True)
class Linked:
    person: Person
    username: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class NotLinked:
    """Why a browser's return from Quay linked nothing, in words for the page."""

    reason: str


class Identities:
    def __init__(
        self,
        db: Database,
        links: LinkStore,
        quay: QuayClient,
        app: OAuthApplication | None,
        missing: list[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.links = links
        self.quay = quay
        self.app = app
        self.missing = missing  # the settings linking needs and does not have
        self.clock = clock
        self.observers: list[LinkObserver] = []
        self._organization: str | None = None

    @property
    def enabled(self) -> bool:
        return self.app is not None and not self.missing

    async def organization(self) -> str | None:
        """The OAuth application's organization, as Quay says (read once): whose admins may authorize
        it, and assign it to others."""
        if self._organization is None and self.app is not None:
            try:
                self._organization = (await self.app.information(self.quay)).organization.name
            except QuayError as error:
                log.warning("could not read the OAuth application from Quay", extra={"error": type(error).__name__})
        return self._organization

    async def request_assignment(self, caller: Caller, username: str) -> bool:
        """Ask, where the audit channel can hear it, for the application to be assigned to `username`;
        whether anyone was told."""
        return await self._tell(caller.team_id, caller.user_id, "assignment_requested", username)

    # What a command runs with ------------------------------------------------------------------

    async def link_of(self, caller: Caller) -> Link | None:
        """The caller's link; one whose token no configured key opens is dropped (and said in the log)."""
        try:
            return await self.db.run(lambda: self.links.get(caller.team_id, caller.user_id))
        except Unsealable:
            log.warning("a linked token could not be decrypted (QUAYBOT_SECRET_KEY changed?); the link is dropped")
            await self.forget(caller, "unreadable")
            return None

    def client_for(self, link: Link) -> QuayClient:
        return self.quay.with_token(link.token)

    async def still_accepted(self, caller: Caller, link: Link) -> bool:
        """After Quay refused a call made with a person's token: is the token itself still good? Quay
        treats a revoked token as anonymous (401 on `GET /api/v1/user/`); then the link is dropped."""
        try:
            await self.client_for(link).whoami()
        except QuayUnauthorized:
            await self.forget(caller, "revoked")
            return False
        except QuayError:
            return True  # Quay could not tell now; the link stays
        return True

    # Linking -----------------------------------------------------------------------------------

    async def login_url(self, caller: Caller) -> str:
        assert self.app is not None
        state = await self.db.run(lambda: self.links.begin(caller.team_id, caller.user_id, self.clock()))
        return f"{self.app.public_url}{START_PATH}?state={state}"

    async def start(self, state: str) -> str | None:
        """The start page opened: the cookie binding this browser to the login, or None when the
        link is unknown, expired, used, or opened already (by another browser)."""
        return await self.db.run(lambda: self.links.bind_browser(state, self.clock()))

    async def complete_code(self, cookie: str, state: str | None, code: str) -> Linked | NotLinked:
        assert self.app is not None
        person = await self.db.run(lambda: self.links.take(cookie, state, self.clock()))
        if person is None:
            return NotLinked(_NO_LOGIN)
        try:
            token, scopes = await self.app.exchange(self.quay, code)
        except QuayError as error:
            log.warning("Quay did not exchange an authorization code", extra={"error": type(error).__name__})
            return NotLinked("Quay did not accept the authorization code (it may have been used already).")
        return await self._save(person, token, scopes)

    async def complete_token(
        self, cookie: str, state: str | None, token: SecretStr, scopes: tuple[str, ...] = ()
    ) -> Linked | NotLinked:
        """The implicit flow: the token Quay put in the page's fragment, posted by the page itself, with
        the scopes Quay's redirect named (those of the assignment; the configured ones when absent)."""
        assert self.app is not None
        person = await self.db.run(lambda: self.links.take(cookie, state, self.clock()))
        if person is None:
            return NotLinked(_NO_LOGIN)
        known = tuple(scope for scope in scopes if scope in OAUTH_SCOPES)
        return await self._save(person, token, known or tuple(self.app.scopes.split()))

    async def _save(self, person: Person, token: SecretStr, scopes: tuple[str, ...]) -> Linked | NotLinked:
        try:
            user = await self.quay.with_token(token).whoami()
        except QuayUnauthorized:
            return NotLinked(
                "Quay does not say whose token this is: the token is not valid, or lacks the user:read scope "
                "(QUAY_OAUTH_SCOPES must include it)."
            )
        except QuayError as error:
            return NotLinked(f"Quay could not be asked whose token this is: {error}")
        await self.db.run(lambda: self.links.save(person, user.username, token, scopes, self.clock()))
        await self._tell(person.team_id, person.user_id, "linked", user.username)
        return Linked(person, user.username, scopes)

    async def forget(self, caller: Caller, why: str = "unlinked") -> str | None:
        username = await self.db.run(lambda: self.links.forget(caller.team_id, caller.user_id))
        if username is not None:
            await self._tell(caller.team_id, caller.user_id, why, username)
        return username

    async def _tell(self, team_id: str, user_id: str, what: str, username: str) -> bool:
        told = False
        for observer in self.observers:
            try:
                told = await observer(team_id, user_id, what, username) or told
            except Exception:
                log.exception("could not record a link or unlink")
        return told


_NO_LOGIN = (
    "This browser has no login in progress: the link from Slack expired (it lasts 10 minutes), was used "
    "already, or was opened in another browser. Run /quay login in Slack again and open its button here."
)
