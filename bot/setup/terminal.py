"""`quaybot setup --no-browser`: the page's steps as questions in the terminal, with the same checks;
a step that fails says what happened and the fix, and asks again."""

from __future__ import annotations

import getpass
import json
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

from bot.setup.flow import AccessRow, Setup
from bot.setup.probe import Problem
from bot.slack.manifest import create_app_link, manifest

T = TypeVar("T")
Ask = Callable[[str, bool], str]  # (prompt, secret) -> the answer; EOFError when there is none


def ask_in_terminal(prompt: str, secret: bool) -> str:
    return getpass.getpass(prompt) if secret else input(prompt)


class Stopped(Exception):
    """The user chose to end setup (their files stay as they are)."""


class Terminal:
    def __init__(self, setup: Setup, out: TextIO, ask: Ask = ask_in_terminal) -> None:
        self.setup, self.out, self.ask = setup, out, ask

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def run(self) -> bool:
        """True when the user asked to start serving. `Stopped` when they chose to end it; EOFError
        when the answers ran out."""
        self.say(
            "quaybot setup: four steps, each checked before the next. Ctrl-C stops; nothing is written until step 4."
        )
        await self._again(self._quay)
        await self._again(self._access)
        await self._again(self._slack)
        await self._again(self._write)
        return _yes(self.ask("Start serving now? [Y/n] ", False), default=True)

    async def _again(self, step: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                return await step()
            except Problem as problem:
                self.say(f"  ! {problem.what}")
                self.say(f"    {problem.fix}")

    async def _quay(self) -> None:
        self.say("\n1. Quay")
        url = self.ask("  Quay URL (https://quay.example.com): ", False)
        token = self.ask("  Token (not shown): ", True)
        found = await self.setup.check_quay(url, token)
        self.say(
            f"  ok: API {found.version or '?'}; the token is {found.username}; "
            f"it may: {', '.join(found.scopes) or 'read'}"
        )
        for n in found.namespaces:
            notes = [
                "can create repositories" if n.can_create else "cannot create repositories",
                {
                    True: "reads notifications",
                    False: "cannot read notifications (no alerts)",
                    None: "no repository yet",
                }[n.notifications],
            ]
            self.say(f"    {n.name}: {'; '.join(notes)}")

    async def _access(self) -> None:
        assert self.setup.quay is not None
        self.say("\n2. Access: for each namespace, a channel (C0123ABCD or #name; empty: not mapped)")
        rows = []
        for n in self.setup.quay.namespaces:
            channel = self.ask(f"  {n.name}: channel: ", False).strip()
            if not channel:
                rows.append(AccessRow(n.name, False, "", "read", False))
                continue
            role = self.ask("    role (read/write/admin) [read]: ", False).strip() or "read"
            alerts = _yes(self.ask("    alerts for failing notifications here? [Y/n] ", False), default=True)
            rows.append(AccessRow(n.name, True, channel, role, alerts))
        self.setup.set_access(rows)
        self.say("  The access file:\n" + _indent(self.setup.plan.access_yaml()))

    async def _slack(self) -> None:
        self.say("\n3. Slack")
        mode = self.ask("  Socket Mode (no public URL) or HTTP? [socket/http] ", False).strip().lower() or "socket"
        public_url = self.ask("  The public https:// URL Slack will call: ", False) if mode == "http" else ""
        self.setup.choose_mode(mode, public_url)
        public = self.setup.plan.public_url
        self.say("  Create the app from this manifest (Slack fills it in when you open the link):")
        self.say(f"  {create_app_link(public)}")
        self.say(_indent(json.dumps(manifest(public), indent=2)))
        bot = self.ask("  Bot User OAuth Token (xoxb-…, not shown): ", True)
        if self.setup.plan.mode == "socket":
            found = await self.setup.check_slack(
                bot, app_token=self.ask("  App-level token (xapp-…, not shown): ", True)
            )
        else:
            found = await self.setup.check_slack(bot, signing_secret=self.ask("  Signing secret (not shown): ", True))
        self.say(
            f"  ok: bot user {found.bot_user} in {found.team}{'; Socket Mode connected' if found.socket_mode else ''}"
        )

    async def _write(self) -> None:
        self.say("\n4. Write")
        replace = False
        existing = self.setup.existing()
        if existing:
            names = " and ".join(p.name for p in existing)
            replace = _yes(
                self.ask(f"  {names} already here. Replace (the old kept as .bak)? [y/N] ", False), default=False
            )
            if not replace:
                raise Stopped(f"Nothing was written: {names} stay as they are.")
        written = await self.setup.write(replace=replace)
        self.say(f"  wrote {written.env} and {written.access} (mode 0600)")
        self.say("  quaybot check:\n" + _indent(written.check_output))


def _yes(answer: str, *, default: bool) -> bool:
    """y or yes (any case); an empty answer is the prompt's capital letter."""
    answer = answer.strip().lower()
    return default if not answer else answer in ("y", "yes")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
