"""The setup page's live checks, each answered in plain words with the fix: Quay (reachable, TLS, the
API, who the token is, what it may do in each namespace it sees) and Slack (the bot token through
`auth.test`, the app token by opening a Socket Mode connection and waiting for Slack's hello)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field

import aiohttp
from pydantic import SecretStr

from bot.quay import QuayClient, QuayError, QuayTLSError, QuayUnauthorized, QuayUnavailable
from bot.quay.errors import QuayForbidden, QuayNotFound
from bot.quay.models import User
from bot.quay.names import RepositoryRef

SIGNING_SECRET = re.compile(r"[0-9a-f]{32}")
HELLO_WITHIN = 10.0


class Problem(Exception):
    """A check that failed: what happened, and what to do about it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what, self.fix = what, fix


@dataclass(frozen=True)
class NamespaceFinding:
    name: str
    is_org: bool
    can_create: bool  # the token may create repositories here
    # The token may read notifications (the watch needs admin); None: no repository to ask about.
    notifications: bool | None
    logs: bool | None  # the token may read the usage logs (org:admin): the watch reads them; None: not an org


@dataclass(frozen=True)
class QuayFindings:
    url: str
    version: str | None
    username: str
    scopes: tuple[str, ...]  # what the answers show the token may do (Quay does not list a token's scopes)
    namespaces: tuple[NamespaceFinding, ...] = field(default=())


async def probe_quay(url: str, token: SecretStr, *, verify: bool = True, within: float = 10.0) -> QuayFindings:
    if not re.match(r"^https?://[^/\s]+", url):
        raise Problem(f"`{url}` is not a URL.", "Write the address you open Quay at, like https://quay.example.com.")
    async with QuayClient(url, token, verify=verify, timeout=within) as quay:
        version = await _discovery(quay, url)
        user = await _whoami(quay)
        namespaces = [await _namespace(quay, org.name, True, org.can_create_repo) for org in user.organizations or []]
        namespaces.append(await _namespace(quay, user.username, False, True))
    return QuayFindings(url, version, user.username, _scopes(user, namespaces), tuple(namespaces))


async def _discovery(quay: QuayClient, url: str) -> str | None:
    try:
        return await quay.discovery_version()
    except QuayTLSError as error:
        raise Problem(
            f"Quay's TLS certificate is not trusted ({error}).",
            "If Quay uses a private CA, set QUAY_VERIFY_TLS to the CA bundle's path before running setup.",
        ) from None
    except QuayUnavailable as error:
        raise Problem(
            f"Nothing answered at {url} ({error}).",
            "Check the address and the port, and that this machine can reach Quay (a proxy, a VPN).",
        ) from None
    except QuayNotFound:
        raise Problem(
            f"{url} answered, but not as Quay's API: /api/v1/discovery is not there.",
            "Give Quay's own address, without /api/v1 or a page path.",
        ) from None
    except QuayError as error:
        raise Problem(
            f"{url} answered, but not as Quay's API ({error}).",
            "Give Quay's own address, without /api/v1 or a page path.",
        ) from None


async def _whoami(quay: QuayClient) -> User:
    try:
        return await quay.whoami()
    except QuayUnauthorized:
        raise Problem(
            "Quay did not accept the token at GET /api/v1/user/ (401).",
            "Use a token with the user:read scope (an OAuth application's token, created under the "
            "organization's Applications tab); an expired or mistyped token gives this too.",
        ) from None
    except QuayError as error:
        raise Problem(
            f"Quay did not say who the token is ({error}).", "Try again; if it persists, see Quay's logs."
        ) from None


async def _namespace(quay: QuayClient, name: str, is_org: bool, can_create: bool) -> NamespaceFinding:
    notifications: bool | None = None
    try:
        page = await quay.list_repositories(name)
        if page.repositories:
            first = page.repositories[0]
            await quay.list_notifications(RepositoryRef(name, first.name), verify_repository=False)
            notifications = True
    except (QuayForbidden, QuayUnauthorized):
        notifications = False
    except QuayError:
        notifications = None
    logs: bool | None = None
    if is_org:
        try:
            logs = (await quay.get_organization(name)).is_admin
        except QuayError:
            logs = False
    return NamespaceFinding(name, is_org, can_create, notifications, logs)


def _scopes(user: User, namespaces: list[NamespaceFinding]) -> tuple[str, ...]:
    found = []
    if user.organizations is not None:
        found.append("user:read")
    if any(n.can_create for n in namespaces if n.is_org):
        found.append("repo:create")
    if any(n.notifications for n in namespaces):
        found.append("repo:admin")
    if any(n.logs for n in namespaces):
        found.append("org:admin")
    return tuple(found)


@dataclass(frozen=True)
class SlackFindings:
    team: str
    bot_user: str
    socket_mode: bool  # the app token opened a Socket Mode connection


async def probe_slack(
    api_url: str, bot_token: SecretStr, app_token: SecretStr | None, signing_secret: SecretStr | None
) -> SlackFindings:
    """Socket Mode with an app token, HTTP mode with a signing secret (which only Slack's first
    request can prove: its shape is checked here)."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.tokens import app_token_problem

    bot = bot_token.get_secret_value()
    if not bot.startswith("xoxb-"):
        raise Problem(
            "The bot token does not start with xoxb-.",
            "Copy the Bot User OAuth Token from your app's OAuth & Permissions page (after Install App).",
        )
    client = AsyncWebClient(token=bot, base_url=api_url, timeout=10)
    try:
        identity = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "")
        raise Problem(
            f"Slack refused the bot token ({code}).",
            "Install the app to the workspace, then copy its Bot User OAuth Token again.",
        ) from None
    except Exception as error:  # the network
        raise Problem(
            f"Slack did not answer ({type(error).__name__}).", "Check this machine's access to slack.com."
        ) from None
    findings = SlackFindings(str(identity.get("team", "")), str(identity.get("user_id", "")), False)
    if app_token is None:
        if signing_secret is None or not SIGNING_SECRET.fullmatch(signing_secret.get_secret_value()):
            raise Problem(
                "HTTP mode needs the app's signing secret (32 hexadecimal characters).",
                "Copy the Signing Secret from your app's Basic Information page.",
            )
        return findings
    try:
        opened = await client.apps_connections_open(app_token=app_token.get_secret_value())
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        raise Problem(
            app_token_problem(code) or f"Slack did not open a Socket Mode connection ({code}).",
            "Create an app-level token with the connections:write scope (Basic Information, App-Level Tokens).",
        ) from None
    await _hello(str(opened["url"]))
    return SlackFindings(findings.team, findings.bot_user, True)


async def _hello(url: str) -> None:
    """Open the Socket Mode connection Slack handed out and wait for its hello: the app token works."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=HELLO_WITHIN)) as ws,
        ):
            message = await asyncio.wait_for(ws.receive(), HELLO_WITHIN)
            hello = message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data).get("type") == "hello"
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise Problem(
            f"Slack's Socket Mode connection did not open ({type(error).__name__}).",
            "Check that Socket Mode is enabled for the app and that this machine may open wss:// connections.",
        ) from None
    if not hello:
        raise Problem("Slack's Socket Mode connection did not say hello.", "Try again in a minute.")
