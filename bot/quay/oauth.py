"""Quay's OAuth 2 for the bot's application (`../shared/quay-oauth-observed.md`): where to send a
person's browser, the code exchange, and what Quay says of the application. Nothing of Slack here.

Only admins of the application's organization may authorize it directly (the code flow); anyone
else needs an admin to assign the application to them, and approves that in Quay's UI, which sends
the token back in the URL fragment of the redirect URI (the implicit flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

from pydantic import BaseModel, SecretStr, ValidationError

from bot.i18n import Phrase
from bot.quay.client import QuayClient
from bot.quay.errors import QuayUnexpectedResponse
from bot.quay.names import check_namespace
from bot.settings import Settings

M = TypeVar("M", bound=BaseModel)
CALLBACK_PATH = "/quay/oauth/callback"
START_PATH = "/quay/oauth/start"


class _Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the kind of token, not one
    scope: str | None = None


class _AppOrganization(BaseModel):
    name: str


class ApplicationInfo(BaseModel):
    """`GET /api/v1/app/{client_id}`: public, for anyone."""

    name: str
    organization: _AppOrganization


class OrgApplication(BaseModel):
    """`GET /api/v1/organization/{org}/applications/{client_id}`: the redirect URI only for its admins."""

    name: str
    redirect_uri: str | None = None
    client_secret: str | None = None  # shown to the organization's admins only


@dataclass(frozen=True)
class OAuthApplication:
    quay_url: str
    client_id: str
    client_secret: SecretStr
    public_url: str  # the bot's
    scopes: str

    @property
    def redirect_uri(self) -> str:
        return self.public_url + CALLBACK_PATH

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthApplication | None:
        """The bot's application as the settings name it; None while any of its settings is missing."""
        if not (settings.quay_oauth_client_id and settings.quay_oauth_client_secret and settings.public_url):
            return None
        return cls(
            settings.quay_url,
            settings.quay_oauth_client_id,
            settings.quay_oauth_client_secret,
            settings.public_url,
            settings.quay_oauth_scopes,
        )

    def authorize_url(self, state: str) -> str:
        """Where the start page sends the browser: Quay's consent page, the code flow."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scopes,
            "response_type": "code",
            "state": state,
        }
        return f"{self.quay_url}/oauth/authorize?{urlencode(query)}"

    def approve_assignment_url(self, username: str) -> str:
        """The page of Quay's UI where a person approves an application an admin assigned to them
        (Quay's own notification of an assignment links there)."""
        return f"{self.quay_url}/user/{quote(check_namespace(username), safe='')}/?tab=external"

    def assign_page(self, organization: str) -> str:
        """Where an admin of the application's organization assigns it to a person (Applications ->
        the application -> Generate token -> Assign another user)."""
        return f"{self.quay_url}/organization/{quote(organization, safe='')}?tab=applications"

    async def exchange(self, quay: QuayClient, code: str) -> tuple[SecretStr, tuple[str, ...]]:
        """The token a code stands for (single use: never retried)."""
        what = Phrase("exchanging the authorization code at Quay")
        response = await quay.post_form(
            "/oauth/access_token",
            {
                "grant_type": "authorization_code",
                "client_id": self.client_id,
                "client_secret": self.client_secret.get_secret_value(),
                "redirect_uri": self.redirect_uri,
                "code": code,
                "scope": self.scopes,
            },
            what=what,
        )
        try:
            token = _Token.model_validate_json(response.content)
        except ValidationError:
            raise QuayUnexpectedResponse(
                Phrase("Quay's answer was not a token while {what}.", what=what),
                status=response.status_code,
                method="POST",
                path="/oauth/access_token",
            ) from None
        scopes = tuple((token.scope or self.scopes).replace(",", " ").split())
        return SecretStr(token.access_token), scopes

    async def information(self, quay: QuayClient) -> ApplicationInfo:
        what = Phrase("reading the OAuth application {client}", client=self.client_id)
        response = await quay.read(f"/api/v1/app/{quote(self.client_id, safe='')}", what=what)
        return _model(ApplicationInfo, response.content, what, f"/api/v1/app/{self.client_id}")

    async def registered(self, quay: QuayClient, organization: str) -> OrgApplication:
        what = Phrase("reading the OAuth application {client}", client=self.client_id)
        path = f"/api/v1/organization/{quote(organization, safe='')}/applications/{quote(self.client_id, safe='')}"
        response = await quay.read(path, what=what)
        return _model(OrgApplication, response.content, what, path)

    def redirect_accepted(self, registered: str) -> bool:
        """Does Quay accept the bot's redirect URI for an application registered with `registered`?
        The scheme and host must be the same, and the path start with the registered one."""
        ours, theirs = urlsplit(self.redirect_uri), urlsplit(registered)
        return (
            bool(theirs.scheme)
            and (ours.scheme, ours.netloc.lower()) == (theirs.scheme, theirs.netloc.lower())
            and ours.path.startswith(theirs.path.rstrip("/") or "/")
        )


def _model(model: type[M], content: bytes, what: Phrase, path: str) -> M:
    try:
        return model.model_validate_json(content)
    except ValidationError:
        raise QuayUnexpectedResponse(
            Phrase("Quay's answer could not be read while {what}.", what=what), status=200, method="GET", path=path
        ) from None
