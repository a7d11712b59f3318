"""The steps of the first run, shared by the page and the terminal: each checks live before the next
opens, keeps what it learnt in the `Plan`, and raises `Problem` (what happened, and the fix)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from bot.setup.plan import CHANNEL, ROLES, ChannelMapping, Exists, Plan, write_private
from bot.setup.probe import Problem, QuayFindings, SlackFindings, probe_quay, probe_slack
from bot.setup.slack_channels import resolve_channels

STEPS = ("quay", "access", "slack", "write")
CHANNEL_NAME = re.compile(r"#[a-z0-9][a-z0-9_-]{0,79}")


@dataclass(frozen=True)
class AccessRow:
    """One namespace's line of the access step, as typed."""

    namespace: str
    use: bool
    channel: str
    role: str
    alerts: bool


@dataclass
class Written:
    env: Path
    access: Path
    backups: list[Path] = field(default_factory=list)
    check_output: str = ""
    check_problems: int = 0


@dataclass
class Setup:
    directory: Path
    slack_api_url: str = "https://slack.com/api/"
    plan: Plan = field(default_factory=Plan)
    quay: QuayFindings | None = None
    slack: SlackFindings | None = None
    written: Written | None = None

    @property
    def env_path(self) -> Path:
        return self.directory / ".env"

    @property
    def access_path(self) -> Path:
        return self.directory / "access.yml"

    def reached(self) -> str:
        """The first step not done yet."""
        if self.quay is None:
            return "quay"
        if not self.plan.mappings:
            return "access"
        if self.slack is None:
            return "slack"
        return "write"

    async def check_quay(self, url: str, token: str) -> QuayFindings:
        url, token = url.strip().rstrip("/"), token.strip()
        if not token:
            raise Problem("No token was given.", "Paste the Quay OAuth token the bot should use.")
        self.quay = await probe_quay(url, SecretStr(token))
        self.plan.quay_url, self.plan.quay_token = url, SecretStr(token)
        self.plan.mappings, self.slack = [], None  # what followed was for another Quay
        return self.quay

    def set_access(self, rows: list[AccessRow]) -> list[ChannelMapping]:
        if self.quay is None:
            raise Problem("Quay is not checked yet.", "Do the Quay step first.")
        known = {n.name for n in self.quay.namespaces}
        chosen: dict[tuple[str, str, bool], list[str]] = {}
        for row in rows:
            if not row.use:
                continue
            if row.namespace not in known:
                raise Problem(f"`{row.namespace}` is not a namespace the token sees.", "Pick one from the list.")
            channel = row.channel.strip()
            if not (CHANNEL.fullmatch(channel) or CHANNEL_NAME.fullmatch(channel)):
                raise Problem(
                    f"`{channel or '(empty)'}` for {row.namespace} is neither a channel ID nor a #name.",
                    "Give the channel's ID (in Slack: the channel's name, then About, at the bottom: C0123ABCD) "
                    "or its name with a # (#team-a).",
                )
            if row.role not in ROLES:
                raise Problem(f"`{row.role}` is not a role.", "Choose read, write or admin.")
            chosen.setdefault((channel, row.role, row.alerts), []).append(row.namespace)
        if not chosen:
            raise Problem("No namespace was picked.", "Tick at least one namespace and give it a channel.")
        mappings = [
            ChannelMapping(channel, tuple(names), role, alerts)  # type: ignore[arg-type]
            for (channel, role, alerts), names in chosen.items()
        ]
        if len({m.channel for m in mappings}) != len(mappings):
            raise Problem(
                "One channel was given two different roles or alert settings.",
                "A channel has one role: give its namespaces the same role and alerts, or use another channel.",
            )
        self.plan.mappings = mappings
        problems = self.plan.access_problems() if not any(m.channel.startswith("#") for m in mappings) else []
        if problems:
            self.plan.mappings = []
            raise Problem("The access file would not load: " + "; ".join(problems), "Change the rows above.")
        return mappings

    def choose_mode(self, mode: str, public_url: str = "") -> None:
        if mode not in ("socket", "http"):
            raise Problem(f"`{mode}` is not a mode.", "Choose Socket Mode or HTTP.")
        self.plan.mode = "socket" if mode == "socket" else "http"
        if self.plan.mode == "http":
            url = public_url.strip().rstrip("/")
            if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#@]*)?", url):
                raise Problem(
                    f"`{url or '(empty)'}` is not a public https:// address.",
                    "Give the HTTPS address Slack will reach the bot at (a load balancer or ingress), "
                    "or choose Socket Mode, which needs none.",
                )
            self.plan.public_url = url
        else:
            self.plan.public_url = None
        self.slack = None

    async def check_slack(self, bot_token: str, app_token: str = "", signing_secret: str = "") -> SlackFindings:
        mode: Literal["socket", "http"] = self.plan.mode
        app = SecretStr(app_token.strip()) if mode == "socket" and app_token.strip() else None
        if mode == "socket" and app is None:
            raise Problem("Socket Mode needs the app-level token (xapp-…).", "Basic Information, App-Level Tokens.")
        secret = SecretStr(signing_secret.strip()) if mode == "http" else None
        bot = SecretStr(bot_token.strip())
        findings = await probe_slack(self.slack_api_url, bot, app, secret)
        named = [m.channel for m in self.plan.mappings if m.channel.startswith("#")]
        if named:
            ids = await resolve_channels(self.slack_api_url, bot, named)
            self.plan.mappings = [
                ChannelMapping(ids.get(m.channel, m.channel), m.namespaces, m.role, m.alerts)
                for m in self.plan.mappings
            ]
        self.plan.slack_bot_token, self.plan.slack_app_token, self.plan.slack_signing_secret = bot, app, secret
        if self.slack_api_url != "https://slack.com/api/":
            self.plan.slack_api_url = self.slack_api_url
        self.slack = findings
        return findings

    def existing(self) -> list[Path]:
        return [p for p in (self.env_path, self.access_path) if p.exists()]

    async def write(self, *, replace: bool = False) -> Written:
        """Write both files (0600), then run `quaybot check` on what was written."""
        if self.reached() != "write":
            raise Problem("Not every step is done.", f"Finish the {self.reached()} step first.")
        existing = self.existing()
        if not replace and existing:
            names = " and ".join(p.name for p in existing)
            raise Problem(
                f"{names} already exist{'s' if len(existing) == 1 else ''} here.",
                "Tick “replace” to write over them (the old ones are kept as .bak), or move them away.",
            )
        backups = []
        try:
            for path, text in ((self.access_path, self.plan.access_yaml()), (self.env_path, self.plan.env_text())):
                backup = write_private(path, text, replace=replace)
                if backup is not None:
                    backups.append(backup)
        except Exists as exists:  # created meanwhile by someone else
            raise Problem(f"{exists.path.name} appeared while writing.", "Look at it, then write again.") from None
        self.written = Written(self.env_path, self.access_path, backups)
        self.written.check_output, self.written.check_problems = await run_check(self.directory)
        return self.written


async def run_check(directory: Path) -> tuple[str, int]:
    """`quaybot check` on the files just written, as `quaybot serve` will read them."""
    from bot.checks import check
    from bot.settings import SettingsProblem, load_settings

    out = io.StringIO()
    try:
        settings = load_settings(directory / ".env")
    except SettingsProblem as problem:
        return f"configuration error: {problem}\n", 1
    if not settings.access_file.is_absolute():
        settings.access_file = directory / settings.access_file
    problems = await check(settings, out)
    return out.getvalue(), problems
