"""The `quaybot` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot import __version__, tracing
from bot.access import AccessPolicy, Caller
from bot.access_file import AccessFileError, load_policy
from bot.blocks.context import RenderContext
from bot.blocks.text import to_text
from bot.checks import check, load_access
from bot.commands.model import UsageError
from bot.egress import egress_policy
from bot.outcomes import ConfirmationNeeded, Failed, NotAvailable, NotLinked, Outcome, Refused, Succeeded, Unparsed
from bot.quay import QuayClient
from bot.service import CommandService
from bot.settings import Settings, SettingsProblem, load_settings
from bot.slices import REGISTRY, render
from bot.store.db import DatabaseUnusable
from bot.subscriptions import tokens

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
# `quaybot run` exit codes, part of its interface for scripts.
EXIT_OK, EXIT_ERROR, EXIT_DENIED, EXIT_CONFIRM = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own exit code 2 would read as "access denied" to scripts.
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    if args.command == "setup":
        return _setup(args)
    try:
        settings = load_settings()
    except SettingsProblem as problem:
        if args.command == "serve" and args.setup_if_unconfigured:
            from bot.setup.run import may_offer_setup

            if may_offer_setup(Path.cwd()) is None:
                print(f"quaybot: {problem}: nothing is configured here yet, so setup starts.", file=sys.stderr)
                return _setup(args)
        print(f"quaybot: configuration error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    handler = {
        "check": _check,
        "run": _run,
        "serve": _serve,
        "watch": _watch,
        "audit": _audit,
        "db": _db,
        "outbox": _outbox,
        "rotate-key": _rotate_key,
    }[args.command]
    try:
        return handler(settings, args)
    except DatabaseUnusable as error:  # unreachable, or a schema it cannot upgrade: one line, no traceback
        print(f"quaybot: {error}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="quaybot", description="Chat-ops for Red Hat Quay in Slack.")
    parser.add_argument("--version", action="version", version=f"quaybot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("check", help="check the settings, the access file, and that Quay answers")
    run = commands.add_parser(
        "run",
        help="run one /quay command as a channel and user would, e.g. run --channel C0123 --user U0AAA -- repo list",
        description="Run one /quay command through the same access check, Quay call and rendering as Slack. "
        "Exit codes: 0 success, 1 Quay or input error, 2 access denied, 3 confirmation needed.",
    )
    run.add_argument("--channel", required=True, help="Slack channel ID whose access applies")
    run.add_argument("--user", required=True, help="Slack user ID acting")
    run.add_argument("--team", default="T0CLI", help="Slack team ID (for the record)")
    run.add_argument("--json", action="store_true", help="print the Block Kit JSON instead of text")
    run.add_argument("--yes", action="store_true", help="confirm a destructive command")
    run.add_argument("words", nargs="*", help="the command, after --, e.g. -- repo info team-a/api")
    serve = commands.add_parser(
        "serve", help="run the Slack app (QUAYBOT_MODE: socket or http), with the failure watch"
    )
    serve.add_argument(
        "--setup-if-unconfigured",
        action="store_true",
        help="with nothing configured, on a terminal, outside CI and containers: start `quaybot setup` (make run)",
    )
    setup = commands.add_parser(
        "setup",
        help="the first run: a page on 127.0.0.1 that checks Quay and Slack and writes .env and access.yml",
        description="Starts a local page (127.0.0.1 only, opened with a one-time token printed here) whose steps "
        "check Quay, map channels to namespaces, create the Slack app from its manifest and check its tokens, "
        "then write .env and access.yml (mode 0600, never over existing files unless asked) and start serving.",
    )
    setup.add_argument("--no-browser", action="store_true", help="the same steps as questions in this terminal")
    setup.add_argument("--port", type=int, default=0, help="the page's port on 127.0.0.1 (default: any free one)")
    commands.add_parser("watch", help="run only the notification-failure watch (alerts), for split deployments")
    db = commands.add_parser(
        "db",
        help="the database schema: `db upgrade` (serve and watch also upgrade at start) or `db current`",
    )
    db.add_argument("action", choices=["upgrade", "current"])
    commands.add_parser(
        "rotate-key",
        help="re-encrypt every linked Quay token with the first key of QUAYBOT_SECRET_KEY",
        description="After putting a new key first in QUAYBOT_SECRET_KEY (keeping the old one after it): every "
        "stored token is re-encrypted with the new key; then the old key can be removed.",
    )
    outbox = commands.add_parser(
        "outbox",
        help="Slack messages waiting or set aside: `outbox list`, `outbox retry ID`, `outbox drop ID`",
        description="List pending and dead outbox rows; retry a dead one (it goes back to its place in its "
        "channel's queue) or drop one (its edits and thread lines are dropped with it).",
    )
    outbox.add_argument("action", choices=["list", "retry", "drop"])
    outbox.add_argument("id", nargs="?", type=int, help="the row, for retry and drop")
    audit = commands.add_parser("audit", help="print the audit log of changes attempted through the bot")
    audit.add_argument("--since", default="24h", help="how far back: 30m, 24h, 7d (default 24h)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _setup(args: argparse.Namespace) -> int:
    """The first run, then `serve` when the user asks for it (with the settings just written)."""
    from bot.setup.run import run_setup

    browser = not getattr(args, "no_browser", False)
    try:
        serve_now = asyncio.run(run_setup(Path.cwd(), sys.stdout, browser=browser, port=getattr(args, "port", 0)))
    except KeyboardInterrupt:
        print("\nquaybot setup: stopped.", file=sys.stderr)
        return EXIT_ERROR
    if not serve_now:
        return 0
    try:
        settings = load_settings()
    except SettingsProblem as problem:
        print(f"quaybot: configuration error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    return _serve(settings, args)


def _watch(settings: Settings, args: argparse.Namespace) -> int:
    return _serve(settings, args, slack=False)


def _serve(settings: Settings, args: argparse.Namespace, *, slack: bool = True) -> int:
    from bot.app import SlackSettingsMissing, build_bot, check_slack_settings, secret_values
    from bot.logs import configure
    from bot.slack.server import CannotListen, serve

    configure(secret_values(settings))
    # Both checks run before either is said, so that one start lists every mistake of both kinds.
    slack_ready = True
    try:
        check_slack_settings(settings, watch_only=not slack)
    except SlackSettingsMissing as error:
        slack_ready = False
        print(f"quaybot: configuration error: {error}", file=sys.stderr)
    try:
        policy = load_policy(settings.access_file, os.environ, settings.quay_token)
    except AccessFileError as error:
        print("quaybot: the access file has problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERROR
    if not slack_ready:
        return EXIT_ERROR
    configure(secret_values(settings, policy))
    # Settings and the access file are checked first: a mistake there is said at once, not after
    # the wait for the database.
    if not _database_answers(settings):
        return EXIT_OK
    bot = build_bot(settings, policy, watch_only=not slack)
    configure(bot.secrets)
    tracing.configure()
    # What start-up made (modules, models, the policy) lives as long as the process: full
    # collections need not walk it again (they took about a tenth of a millisecond per command).
    gc.collect()
    gc.freeze()
    try:
        asyncio.run(serve(bot, slack=slack))
    except CannotListen as error:
        print(f"quaybot: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _database_answers(settings: Settings) -> bool:
    """Wait up to QUAYBOT_DATABASE_WAIT_SECONDS for the database; False when SIGTERM or SIGINT came
    first (the bot had taken no work: it stops at once). `DatabaseUnusable` when it never answered."""
    from bot.store.db import wait_until_it_answers

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        answered = wait_until_it_answers(settings.database_url, settings.database_wait_seconds, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not answered:
        log.info("stopped while waiting for the database")
    return answered


def _rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sealing import Sealer, Unsealable
    from bot.store import Database
    from bot.store.links import LinkStore

    if settings.secret_key is None:
        print("quaybot: QUAYBOT_SECRET_KEY is not set: there is nothing to rotate to", file=sys.stderr)
        return EXIT_ERROR
    db = Database(settings.database_url)
    try:
        db.create_tables()
        count = LinkStore(db, Sealer(settings.secret_key)).reseal_all()
    except Unsealable as error:
        print(f"quaybot: {error}: keep the old key in QUAYBOT_SECRET_KEY, after the new one", file=sys.stderr)
        return EXIT_ERROR
    finally:
        db.dispose()
    print(f"re-encrypted {count} linked token(s) with the first key of QUAYBOT_SECRET_KEY")
    return EXIT_OK


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import Database, migrate

    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            db.create_tables()
        revision = db.revision()
    finally:
        db.dispose()
    print(f"database {db!r}: revision {revision or 'none'} (this quaybot expects {migrate.head()})")
    return EXIT_OK


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import Database
    from bot.store.outbox import OutboxStore

    if args.action != "list" and args.id is None:
        print(f"quaybot: outbox {args.action} needs the row's ID (see `quaybot outbox list`)", file=sys.stderr)
        return EXIT_ERROR
    db = Database(settings.database_url)
    try:
        db.create_tables()
        store = OutboxStore(db)
        if args.action == "list":
            rows = store.outbox_rows(["pending", "sending", "dead"])
            for row in rows:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row.created_at))
                error = f" last error: {_printable(row.last_error)}" if row.last_error else ""
                print(
                    f"{row.id:>6} {row.state:<8} {row.channel_id} {row.kind:<9} {when}Z "
                    f"tries {row.attempts}{error} | {_printable(row.text[:80])}"
                )
            if not rows:
                print("The outbox is empty: nothing pending, nothing set aside.")
            return EXIT_OK
        done = store.retry_item(args.id, time.time()) if args.action == "retry" else store.drop_item(args.id)
    finally:
        db.dispose()
    if not done:
        allowed = "dead" if args.action == "retry" else "pending or dead"
        print(f"quaybot: no {allowed} outbox row {args.id}", file=sys.stderr)
        return EXIT_ERROR
    print(f"outbox row {args.id}: {'queued again' if args.action == 'retry' else 'dropped'}")
    return EXIT_OK


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import AuditLog, Database

    try:
        seconds = parse_duration(args.since)
    except ValueError as error:
        print(f"quaybot: {error}", file=sys.stderr)
        return EXIT_ERROR
    db = Database(settings.database_url)
    db.create_tables()
    records = AuditLog(db).since(time.time() - seconds)
    for record in records:
        if args.json:
            print(json.dumps(record.as_dict(), ensure_ascii=False))
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.at))
            status = f" (Quay {record.quay_status})" if record.quay_status else ""
            command = _printable(record.command)
            print(f"{when}Z {record.channel_id} {record.user_id} {record.outcome}{status}: /quay {command}")
            if record.detail:  # why it failed or was refused, on a line of its own
                print(f"    {_printable(record.detail)}")
    if not records and not args.json:
        print(f"No changes in the last {args.since}.")
    db.dispose()
    return EXIT_OK


def _printable(text: str) -> str:
    """Text typed in Slack or sent by Quay, safe for an operator's terminal: control characters (an
    escape sequence, a newline that would fake another row) are shown escaped, not obeyed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def parse_duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = text[:-1], text[-1:]
    if unit not in units or not value.isdigit():
        raise ValueError(f"--since takes a number and a unit (s, m, h, d), like 24h; not {text!r}")
    return int(value) * units[unit]


def _check(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(check(settings, sys.stdout))


def _load_policy(settings: Settings) -> AccessPolicy:
    return load_access(settings)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        policy = _load_policy(settings)
    except AccessFileError as error:
        print("quaybot: the access file has problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERROR
    caller = Caller(team_id=args.team, channel_id=args.channel, user_id=args.user)
    return asyncio.run(run_command(settings, policy, caller, shlex.join(args.words), args.yes, args.json, sys.stdout))


async def run_command(
    settings: Settings,
    policy: AccessPolicy,
    caller: Caller,
    text: str,
    confirmed: bool,
    as_json: bool,
    out: TextIO,
) -> int:
    async with QuayClient(
        settings.quay_url, verify=settings.quay_verify_tls, timeout=settings.quay_timeout_seconds
    ) as quay:
        service = CommandService(
            policy,
            quay,
            settings.quay_token,
            egress=egress_policy(settings, tokens.receiver_prefix(settings.public_url)),
        )
        parsed = service.parse(text, caller)
        access = policy.channel(caller.channel_id)
        as_person = access is not None and access.acts_as_person
        db = None
        if not isinstance(parsed, UsageError) and (REGISTRY.spec_for(parsed).needs_database or as_person):
            # Subscriptions and linked accounts live in the database the serving bot reads.
            from bot.app import build_identities
            from bot.store import Database
            from bot.store.subscriptions import SubscriptionStore
            from bot.subscriptions.manager import SubscriptionManager

            db = Database(settings.database_url)
            db.create_tables()
            service.subscriptions = SubscriptionManager(db, SubscriptionStore(db), settings.public_url)
            service.identities = build_identities(settings, db, quay)
        try:
            outcome = await service.handle_text(text, caller, confirmed=confirmed)
        finally:
            if db is not None:
                db.dispose()
    if isinstance(outcome, Succeeded | Failed | Refused):
        await _audit_from_cli(settings, policy, caller, outcome, confirmed and REGISTRY.is_destructive(outcome.command))
    ctx = RenderContext(
        quay_url=settings.quay_url,
        user_id=caller.user_id,
        confirm_hint="Nothing was done. Run it again with --yes to do it.",
        role=access.role if access is not None else None,
        locale=policy.locale_of(caller.channel_id),
    )
    message = render(outcome, ctx)
    if as_json:
        json.dump(message.to_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(to_text(message))
    return exit_code(outcome)


async def _audit_from_cli(
    settings: Settings, policy: AccessPolicy, caller: Caller, outcome: Succeeded | Failed | Refused, confirmed: bool
) -> None:
    """Changes made from the terminal are audited like those made from Slack (the audit channel's
    lines go through the outbox, which the serving bot sends)."""
    from bot.auditing import AuditChannel, CommandAudit
    from bot.store import AuditLog, Database
    from bot.store.inventory import InventoryStore
    from bot.store.outbox import OutboxStore

    try:
        db = Database(settings.database_url)
        db.create_tables()
    except DatabaseUnusable as error:
        print(f"quaybot: warning: the audit log is unavailable: {error}", file=sys.stderr)
        return
    try:
        channel = AuditChannel(lambda: policy, OutboxStore(db))
        await CommandAudit(AuditLog(db), REGISTRY, channel).outcome(
            caller, outcome.command, outcome, confirmed=confirmed
        )
        watch = REGISTRY.spec_for(outcome.command).watch
        soon = watch(outcome.result, time.time()) if isinstance(outcome, Succeeded) else None
        if soon is not None:  # a running watch reads it at once, as after a change made from Slack
            InventoryStore(db).watch_soon(soon.namespace, soon.repository, soon.at, time.time(), event_at=soon.event_at)
    finally:
        db.dispose()


def exit_code(outcome: Outcome) -> int:
    match outcome:
        case Succeeded():
            return EXIT_OK
        case Refused() | Unparsed(refusal=(_, _)) | NotLinked():
            return EXIT_DENIED
        case ConfirmationNeeded():
            return EXIT_CONFIRM
        case Failed() | Unparsed() | NotAvailable():
            return EXIT_ERROR
    raise AssertionError(f"unhandled outcome {outcome!r}")
