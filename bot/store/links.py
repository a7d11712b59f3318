"""Linked Quay accounts and the logins that make them.

A link is (Slack team, Slack user) -> (Quay username, token, scopes, when), the token sealed under
`QUAYBOT_SECRET_KEY`. A login is a single-use state bound to the Slack user who asked, then to the
browser that opened the start page (the hash of an HttpOnly cookie), for ten minutes: whatever comes
back from Quay is only ever linked to the person whose browser started it. Every method is short
and synchronous; callers run them through `Database.run`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import delete, select, update

from bot.sealing import Sealer
from bot.store.db import Database
from bot.store.tables import LinkedAccount, LoginStart

LOGIN_SECONDS = 600.0


@dataclass(frozen=True)
class Link:
    team_id: str
    user_id: str
    quay_username: str
    token: SecretStr
    scopes: tuple[str, ...]
    linked_at: float


@dataclass(frozen=True)
class Person:
    """A login taken by its browser: who it links."""

    team_id: str
    user_id: str


def browser_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class LinkStore:
    def __init__(self, db: Database, sealer: Sealer | None) -> None:
        self.db = db
        self.sealer = sealer  # None: linking is not configured, and nothing is stored

    # Links -------------------------------------------------------------------------------------

    def save(self, person: Person, username: str, token: SecretStr, scopes: tuple[str, ...], now: float) -> None:
        assert self.sealer is not None
        sealed = self.sealer.seal(token)
        with self.db.session() as session, session.begin():
            row = session.get(LinkedAccount, (person.team_id, person.user_id))
            if row is None:
                row = LinkedAccount(team_id=person.team_id, user_id=person.user_id)
                session.add(row)
            row.quay_username, row.token_sealed, row.scopes, row.linked_at = username, sealed, " ".join(scopes), now

    def get(self, team_id: str, user_id: str) -> Link | None:
        """The link, its token opened; `bot.sealing.Unsealable` when the key no longer opens it."""
        if self.sealer is None:
            return None
        with self.db.session() as session:
            row = session.get(LinkedAccount, (team_id, user_id))
            if row is None:
                return None
            token = self.sealer.open(row.token_sealed)
            return Link(team_id, user_id, row.quay_username, token, tuple(row.scopes.split()), row.linked_at)

    def forget(self, team_id: str, user_id: str) -> str | None:
        """Drop the link; the Quay username it had, if any."""
        with self.db.session() as session, session.begin():
            row = session.get(LinkedAccount, (team_id, user_id))
            if row is None:
                return None
            username = row.quay_username
            session.delete(row)
            return username

    def reseal_all(self) -> int:
        """Every stored token under the first key (after a key rotation)."""
        assert self.sealer is not None
        with self.db.session() as session, session.begin():
            rows = session.scalars(select(LinkedAccount)).all()
            for row in rows:
                row.token_sealed = self.sealer.reseal(row.token_sealed)
            return len(rows)

    def count(self) -> int:
        with self.db.session() as session:
            return len(session.scalars(select(LinkedAccount.user_id)).all())

    # Logins ------------------------------------------------------------------------------------

    def begin(self, team_id: str, user_id: str, now: float) -> str:
        state = secrets.token_urlsafe(24)
        with self.db.session() as session, session.begin():
            session.execute(delete(LoginStart).where(LoginStart.expires_at < now - LOGIN_SECONDS))
            session.add(
                LoginStart(
                    state=state, team_id=team_id, user_id=user_id, created_at=now, expires_at=now + LOGIN_SECONDS
                )
            )
        return state

    def bind_browser(self, state: str, now: float) -> str | None:
        """The start page opened in a browser: a new cookie for it, bound to the login (once)."""
        cookie = secrets.token_urlsafe(32)
        with self.db.session() as session, session.begin():
            bound = session.execute(
                update(LoginStart)
                .where(
                    LoginStart.state == state,
                    LoginStart.browser_hash.is_(None),
                    LoginStart.used_at.is_(None),
                    LoginStart.expires_at > now,
                )
                .values(browser_hash=browser_hash(cookie))
                .execution_options(synchronize_session=False)
            )
            return cookie if bound.rowcount == 1 else None  # type: ignore[attr-defined]

    def take(self, cookie: str, state: str | None, now: float) -> Person | None:
        """The login this browser started, used up; None if there is none, it expired, it was used,
        or `state` (when Quay sent it back) is another login's."""
        hashed = browser_hash(cookie)
        with self.db.session() as session, session.begin():
            row = session.scalars(select(LoginStart).where(LoginStart.browser_hash == hashed)).first()
            if row is None or (state is not None and not secrets.compare_digest(row.state, state)):
                return None
            taken = session.execute(
                update(LoginStart)
                .where(LoginStart.state == row.state, LoginStart.used_at.is_(None), LoginStart.expires_at > now)
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return Person(row.team_id, row.user_id)

    def pending(self, cookie: str, now: float) -> bool:
        """Does this browser hold a login still open?"""
        with self.db.session() as session:
            row = session.scalars(select(LoginStart).where(LoginStart.browser_hash == browser_hash(cookie))).first()
            return row is not None and row.used_at is None and row.expires_at > now
