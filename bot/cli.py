"""The `quaybot` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from bot import __version__
from bot.quay import QuayClient, QuayError, QuayTLSError, QuayUnauthorized, QuayUnavailable
from bot.settings import Settings, SettingsProblem, load_settings

EXIT_OK, EXIT_ERROR = 0, 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        settings = load_settings()
    except SettingsProblem as problem:
        print(f"quaybot: configuration error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    handler = {"check": _check}[args.command]
    return handler(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quaybot", description="Chat-ops for Red Hat Quay in Slack.")
    parser.add_argument("--version", action="version", version=f"quaybot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("check", help="check the settings and that Quay answers with this token")
    return parser


def _check(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(check(settings, sys.stdout))


async def check(settings: Settings, out: TextIO) -> int:
    """Report what works and what does not; non-zero if anything needs fixing."""
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
            return EXIT_ERROR
        except QuayUnavailable as error:
            print(f"  ! unreachable: {error}", file=out)
            return EXIT_ERROR
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
    print("OK" if problems == 0 else f"{problems} problem(s) found", file=out)
    return EXIT_OK if problems == 0 else EXIT_ERROR
