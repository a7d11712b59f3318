"""The buttons that stand for commands (an alert's Test, Reset, Delete and Mute, a card's menu, a
listing's pages): each is the same command as typed, with the clicker's access checked again."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from bot.access import Caller, Denied, Role
from bot.blocks.ids import parse_reset_value
from bot.blocks.message import plain
from bot.blocks.render import render_refusal
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.i18n import t
from bot.interactions.commands import CommandReplies
from bot.interactions.replies import Reply, Shared, malformed
from bot.outcomes import Succeeded
from bot.quay.names import InvalidName, RepositoryRef, TagRef, check_notification_uuid
from bot.slices import render
from bot.slices.repo_list import parse_list_value
from bot.slices.spec import Run
from bot.slices.tags import previous_digest
from bot.store.alerts import AlertStore

MUTE_SECONDS = 24 * 3600
# A card's menu entries, and the typed command each stands for.
MENU = {"notifications": "notify list", "visibility": "repo visibility", "delete": "repo delete"}


class ButtonReplies:
    def __init__(self, shared: Shared, commands: CommandReplies, alerts: AlertStore | None) -> None:
        self.shared = shared
        self.commands = commands
        self.alerts = alerts

    async def reset(self, value: str, caller: Caller) -> list[Reply]:
        """The "Reset failures" button: the same command, with the clicker's access checked."""
        return await self._notification_command("notify reset", value, caller)

    async def alert_test(self, value: str, caller: Caller) -> list[Reply]:
        return await self._notification_command("notify test", value, caller)

    async def alert_delete(self, value: str, caller: Caller) -> list[Reply]:
        """Delete goes through the same confirmation as `/quay notify delete`."""
        return await self._notification_command("notify delete", value, caller)

    async def _notification_command(self, words: str, value: str, caller: Caller) -> list[Reply]:
        """A notification's button: the command `words <repo> <uuid>` stands for, as if typed."""
        target = notification_button(value)
        command = None if target is None else self._parse(f"{words} {target[0]} {target[1]}")
        if command is None:
            return [malformed(self.shared.locale_of(caller))]
        return await self.commands.run(command, caller)

    def _parse(self, text: str) -> Command | None:
        command = self.shared.service.registry.parse(text, ParseContext())
        return None if isinstance(command, UsageError) else command

    async def typed(self, value: str, caller: Caller) -> list[Reply]:
        """A button that stands for a typed command (a tag's Restore, a card's tag): its text, parsed and
        run as if the clicker had typed it, access and confirmation included."""
        command = self._parse(value)
        if command is None:
            return [malformed(self.shared.locale_of(caller))]
        return await self.commands.run(command, caller)

    async def typed_page(self, value: str, caller: Caller) -> list[Reply]:
        """The same for a page of a listing: the message it is on is replaced."""
        return [dataclasses.replace(reply, replace_original=True) for reply in await self.typed(value, caller)]

    async def restore_previous(self, value: str, caller: Caller) -> list[Reply]:
        """A push message's "Restore previous": the version the push replaced, through `tag restore`'s
        confirmation (read now: the push message may be old)."""
        locale = self.shared.locale_of(caller)
        try:
            ref = TagRef.parse(value)
        except InvalidName:
            return [malformed(locale)]
        info = self._parse(f"tag info {ref}")
        if info is None:
            return [malformed(locale)]
        read = await self.shared.service.run_step(info, caller, _previous_version)
        if not isinstance(read, Succeeded):
            return [Reply(render(read, self.shared.ctx(caller)))]
        if read.result is None:
            text = t(locale, "{tag} has no earlier version Quay can restore.", tag=f"`{ref}`")
            return [Reply(plain(text))]
        return await self.typed(f"tag restore {ref} {read.result}", caller)

    async def list_page(self, value: str, caller: Caller) -> list[Reply]:
        """Previous/Next of a listing: access checked again, that page fetched, the message replaced."""
        try:
            command = parse_list_value(value)
        except ValueError:
            return [malformed(self.shared.locale_of(caller))]
        return [dataclasses.replace(reply, replace_original=True) for reply in await self.commands.run(command, caller)]

    async def repo_menu(self, value: str, caller: Caller) -> list[Reply]:
        """A repository card's menu: the typed command it stands for, through the same checks (delete
        and making public still ask for confirmation). "describe" opens a form instead (`FormReplies`)."""
        verb, _, rest = value.partition(" ")
        command = self._parse(f"{MENU[verb]} {rest}") if verb in MENU else None
        if command is None:
            return [malformed(self.shared.locale_of(caller))]
        return await self.commands.run(command, caller)

    async def alert_mute(self, value: str, caller: Caller) -> list[Reply]:
        target = notification_button(value)
        locale = self.shared.locale_of(caller)
        if target is None or self.alerts is None:
            return [malformed(locale)]
        repo, uuid = target
        decision = self.shared.service.policy.check(caller, repo.namespace, Role.WRITE, "mute")
        if isinstance(decision, Denied):
            return [Reply(render_refusal(decision.reason, decision.remedy, locale))]
        until = time.time() + MUTE_SECONDS
        alerts = self.alerts
        await alerts.db.run(lambda: alerts.mute(caller.channel_id, uuid, until, caller.user_id))
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until))
        text = t(
            locale,
            ":zzz: {who} muted new alerts for notification {uuid} on {repo} here until {when}.",
            who=f"<@{caller.user_id}>",
            uuid=f"`{uuid}`",
            repo=f"`{repo}`",
            when=when,
        )
        return [Reply(plain(text, in_channel=True))]


def notification_button(value: str) -> tuple[RepositoryRef, str] | None:
    try:
        repo, uuid = parse_reset_value(value)
        return repo, check_notification_uuid(uuid)
    except (InvalidName, ValueError):
        return None


async def _previous_version(command: Any, run: Run) -> str | None:
    """`tag info`'s tag: the version its last push replaced (`bot/slices/tags.py`)."""
    return await previous_digest(run.quay, command.ref)
