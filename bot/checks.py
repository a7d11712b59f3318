"""`quaybot check`: what works and what does not, each part checked even when an earlier one
failed, so one run shows everything to fix."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.access import AccessPolicy
from bot.access_file import AccessFileError, load_policy
from bot.quay import QuayClient, QuayError, QuayNotFound, QuayTLSError, QuayUnauthorized, QuayUnavailable
from bot.quay.oauth import OAuthApplication
from bot.settings import Settings
from bot.slices import COMMAND_NAMES
from bot.store.db import DatabaseUnusable

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient


async def _check_slack(settings: Settings, out: TextIO) -> int:
    """What `quaybot serve` needs of Slack in its mode, and whether Slack takes the bot token."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    mode = settings.effective_mode
    print(f"Slack: {'Socket Mode' if mode == 'socket' else 'HTTP mode'} ({settings.slack_api_url})", file=out)
    problems = 0
    if mode == "http" and settings.slack_signing_secret is None:
        print("  ! SLACK_SIGNING_SECRET is not set: HTTP mode refuses every request without it", file=out)
        problems += 1
    if settings.slack_bot_token is None:
        print("  ! SLACK_BOT_TOKEN is not set: `quaybot serve` needs it (alerts, forms, the App Home)", file=out)
        return problems + 1
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=10
    )
    try:
        identity = await client.auth_test()
    except SlackApiError as error:
        print(f"  ! Slack refused SLACK_BOT_TOKEN ({error.response.get('error', '')})", file=out)
        return problems + 1
    except Exception as error:  # the network: unreachable, TLS, a timeout
        print(f"  ! Slack did not answer auth.test ({type(error).__name__}: {error})", file=out)
        return problems + 1
    print(f"  bot token accepted: user {identity.get('user_id')} in team {identity.get('team')}", file=out)
    if mode == "socket":
        problems += await _check_app_token(settings, client, out)
    return problems


async def _check_app_token(settings: Settings, client: AsyncWebClient, out: TextIO) -> int:
    """Whether Slack would open a Socket Mode connection for SLACK_APP_TOKEN. The URL it hands out is
    not used: it only lets a connection be made, once, soon."""
    from slack_sdk.errors import SlackApiError

    from bot.slack.tokens import app_token_problem

    if settings.slack_app_token is None:
        print("  ! SLACK_APP_TOKEN is not set: Socket Mode needs it", file=out)
        return 1
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as error:
        code = str(error.response.get("error", ""))
        print(f"  ! {app_token_problem(code) or f'Slack did not open a Socket Mode connection ({code})'}", file=out)
        return 1
    except Exception as error:  # the network: unreachable, TLS, a timeout
        print(f"  ! Slack did not answer apps.connections.open ({type(error).__name__}: {error})", file=out)
        return 1
    print("  app token accepted: Socket Mode can connect", file=out)
    return 0


def _check_database(settings: Settings, out: TextIO) -> int:
    from bot.store import Database, migrate

    db = Database(settings.database_url)
    print(f"Database: {db.shown_url}", file=out)
    try:
        path = db.engine.url.database
        if db.engine.dialect.name == "sqlite" and path and path != ":memory:" and not Path(path).exists():
            print("  not created yet: `quaybot serve` creates it", file=out)
            return 0
        revision = db.revision()
    except DatabaseUnusable as error:
        print(f"  ! {error}", file=out)
        return 1
    finally:
        db.dispose()
    head = migrate.head()
    if revision == head:
        print(f"  reachable; schema at revision {head}", file=out)
    elif revision is None:
        print("  reachable; no tables yet: `quaybot serve` (or `quaybot db upgrade`) creates them", file=out)
    elif migrate.known(revision):
        print(f"  reachable; schema at revision {revision}: `quaybot serve` upgrades it to {head}", file=out)
    else:
        print(
            f"  ! the schema is at revision {revision}, which this quaybot does not know (a newer one wrote it?)",
            file=out,
        )
        return 1
    return 0


def _check_public_url(settings: Settings, out: TextIO) -> int:
    """Subscriptions: is there an address Quay can post to? (Whether Quay can reach it is only known
    from Quay's side: the failure watch says so when it cannot.)"""
    from bot.subscriptions.manager import NotConfigured, check_public_url

    print(f"Subscriptions: QUAYBOT_PUBLIC_URL={settings.public_url or '(not set)'}", file=out)
    if settings.public_url is None:
        print("  subscriptions are off: /quay subscribe says what is missing", file=out)
        return 0
    try:
        check_public_url(settings.public_url)
    except NotConfigured as problem:
        print(f"  ! {problem.reason.format(**problem.params)}", file=out)
        return 1
    print(f"  Quay posts events to {settings.public_url}/quay/events/<token>", file=out)
    return 0


async def _check_quay(settings: Settings, out: TextIO) -> int:
    problems = 0
    print(f"Quay: {settings.quay_url}", file=out)
    if settings.quay_token is None:
        print("  ! QUAY_TOKEN is not set: only public data can be read", file=out)
        problems += 1
    async with QuayClient(
        settings.quay_url,
        settings.quay_token,
        verify=settings.quay_verify_tls,
        timeout=settings.quay_timeout_seconds,
    ) as quay:
        try:
            version = await quay.discovery_version()
            print(f"  reachable; API version {version or 'unknown'}", file=out)
        except QuayTLSError as error:
            print(f"  ! TLS: {error}", file=out)
            return problems + 1
        except QuayUnavailable as error:
            print(f"  ! unreachable: {error}", file=out)
            return problems + 1
        except QuayError as error:
            print(f"  ? the discovery document did not answer ({error}); going on", file=out)
        try:
            user = await quay.whoami()
        except QuayUnauthorized:
            print(
                "  ! the token was not accepted by GET /api/v1/user/ (401). Either it is invalid or "
                "expired, or it lacks the user:read scope (a token with only repo:* scopes gets 401 "
                "there but still works for repositories).",
                file=out,
            )
            problems += 1
        except QuayError as error:
            print(f"  ! whoami failed: {error}", file=out)
            problems += 1
        else:
            orgs = ", ".join(o.name for o in user.organizations or []) or "none visible"
            print(f"  token user: {user.username}; organizations: {orgs}", file=out)
    return problems


def load_access(settings: Settings) -> AccessPolicy:
    """The access file as `quaybot serve` reads it: approvals and guardrails must name real commands."""
    return load_policy(settings.access_file, os.environ, settings.quay_token, commands=COMMAND_NAMES)


async def check(settings: Settings, out: TextIO) -> int:
    """Report what works and what does not; non-zero if anything needs fixing. Each part is checked
    even when an earlier one failed, so one run shows everything to fix."""
    problems = await _check_quay(settings, out)
    print(f"Access file: {settings.access_file}", file=out)
    try:
        policy = load_access(settings)
    except AccessFileError as error:
        for problem in error.problems:
            print(f"  ! {problem}", file=out)
        problems += len(error.problems)
        print(
            "  A bot already running keeps the policy it last loaded until the file is fixed; "
            "a bot starting now would refuse to start with it.",
            file=out,
        )
    else:
        channels = len(policy.channels)
        alerting = len(policy.alert_namespaces())
        print(
            f"  {channels} channel(s) mapped; {alerting} namespace(s) watched for failing notifications",
            file=out,
        )
        problems += _check_people_policy(settings, policy, out)
    problems += await _check_slack(settings, out)
    problems += _check_database(settings, out)
    problems += _check_public_url(settings, out)
    problems += await _check_linking(settings, out)
    print("OK" if problems == 0 else f"{problems} problem(s) found", file=out)
    return 0 if problems == 0 else 1


def _check_people_policy(settings: Settings, policy: AccessPolicy, out: TextIO) -> int:
    """Who acts as whom, what needs a second person, what no channel may do, and where it is all said."""
    problems = 0
    as_people = sorted(c.channel_id for c in policy.channels.values() if c.acts_as_person)
    if as_people:
        print(f"  acting as each person's own Quay account: {', '.join(as_people)}", file=out)
        if settings.linking_missing:
            print(
                f"  ! those channels run nothing until linking is set up: {', '.join(settings.linking_missing)} "
                "not set",
                file=out,
            )
            problems += 1
    for access in sorted(policy.channels.values(), key=lambda c: c.channel_id):
        if access.approval:
            print(f"  {access.channel_id} needs a second person for: {', '.join(sorted(access.approval))}", file=out)
    for rail in policy.guardrails.rails:
        print(f"  {rail.summary}", file=out)
    if policy.audit_channel:
        print(f"  audit channel: {policy.audit_channel} (the bot must be a member to post there)", file=out)
    return problems


async def _check_linking(settings: Settings, out: TextIO) -> int:
    """`/quay login`: the OAuth application exists in Quay, and its redirect URI and secret are this bot's."""
    print("Linking Quay accounts (/quay login):", file=out)
    if settings.quay_oauth_client_id is None and settings.quay_oauth_client_secret is None:
        print("  off: QUAY_OAUTH_CLIENT_ID is not set (channels act with the bot's tokens only)", file=out)
        return 0
    if settings.linking_missing:
        print(f"  ! {', '.join(settings.linking_missing)} not set: /quay login says so to whoever tries", file=out)
        return 1
    app = OAuthApplication.from_settings(settings)
    assert app is not None  # nothing is missing
    async with QuayClient(
        settings.quay_url, settings.quay_token, verify=settings.quay_verify_tls, timeout=settings.quay_timeout_seconds
    ) as quay:
        try:
            info = await app.information(quay)
        except QuayNotFound:
            print(f"  ! Quay has no OAuth application with the client id {app.client_id}", file=out)
            return 1
        except QuayError as error:
            print(f"  ! the OAuth application could not be read: {error}", file=out)
            return 1
        org = info.organization.name
        print(f"  application {info.name!r} of the organization {org}; scopes asked: {app.scopes}", file=out)
        try:
            registered = await app.registered(quay, org)
        except QuayError:
            print(
                f"  ? its redirect URI cannot be read with QUAY_TOKEN (that needs org:admin on {org}): it must be a "
                f"prefix of {app.redirect_uri}, with the same scheme and host",
                file=out,
            )
            return 0
    problems = 0
    if not app.redirect_accepted(registered.redirect_uri or ""):
        print(
            f"  ! the application's redirect URI is {registered.redirect_uri!r}; Quay would refuse this bot's "
            f"{app.redirect_uri}: set it there (Applications, {info.name}, OAuth Information) to {app.redirect_uri}",
            file=out,
        )
        problems += 1
    else:
        print(f"  redirect URI accepted: {app.redirect_uri}", file=out)
    if registered.client_secret is not None and not secrets.compare_digest(
        registered.client_secret, app.client_secret.get_secret_value()
    ):
        print("  ! QUAY_OAUTH_CLIENT_SECRET is not the application's client secret", file=out)
        problems += 1
    return problems
