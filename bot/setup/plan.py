"""What the setup writes: `.env` (the settings, secrets included) and `access.yml` (channels to
namespaces), both mode 0600, and neither written over an existing file unless the user said so (the
old one is kept beside it as `<name>.bak`). The access file is parsed by the bot's own loader before
it is written, so setup never leaves a file `quaybot serve` would refuse."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import SecretStr

from bot.access_file import AccessFileError, parse_policy

CHANNEL = re.compile(r"[CG][A-Z0-9]{8,}")
ROLES = ("read", "write", "admin")
MASK = "••••••"  # a secret, as the page shows the file before writing it


@dataclass(frozen=True)
class ChannelMapping:
    channel: str  # a channel ID (names are resolved before this)
    namespaces: tuple[str, ...]
    role: Literal["read", "write", "admin"]
    alerts: bool


@dataclass
class Plan:
    """Everything the steps gathered; the files are made from it."""

    quay_url: str = ""
    quay_token: SecretStr | None = None
    mappings: list[ChannelMapping] = field(default_factory=list)
    mode: Literal["socket", "http"] = "socket"
    public_url: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None  # only when not Slack's own (tests, a proxy)

    def access_yaml(self) -> str:
        channels: dict[str, dict[str, object]] = {}
        for m in self.mappings:
            channels[m.channel] = {"namespaces": list(m.namespaces), "role": m.role, "alerts": m.alerts}
        text = "# Written by `quaybot setup`. Which Slack channel may do what in which Quay namespace.\n"
        return text + yaml.safe_dump({"channels": channels}, sort_keys=False)

    def access_problems(self) -> list[str]:
        """What the bot's own loader says of the access file this plan writes ([] when it is fine)."""
        try:
            parse_policy(self.access_yaml(), "access.yml", environ={}, default_token=SecretStr("QUAY_TOKEN"))
        except AccessFileError as error:
            return error.problems
        return []

    def env_text(self, access_file: str = "access.yml", *, masked: bool = False) -> str:
        """The `.env` file; `masked`: each secret as •••••• (what the page shows before writing)."""

        def secret(value: SecretStr | None) -> str | None:
            if value is None or not value.get_secret_value():
                return None
            return MASK if masked else value.get_secret_value()

        values: list[tuple[str, str | None]] = [
            ("QUAY_URL", self.quay_url),
            ("QUAY_TOKEN", secret(self.quay_token)),
            ("QUAYBOT_MODE", self.mode),
            ("SLACK_BOT_TOKEN", secret(self.slack_bot_token)),
            ("SLACK_APP_TOKEN", secret(self.slack_app_token) if self.mode == "socket" else None),
            ("SLACK_SIGNING_SECRET", secret(self.slack_signing_secret) if self.mode == "http" else None),
            ("QUAYBOT_PUBLIC_URL", self.public_url if self.mode == "http" else None),
            ("SLACK_API_URL", self.slack_api_url),
            ("QUAYBOT_ACCESS_FILE", access_file),
        ]
        lines = ["# Written by `quaybot setup`. Secrets: keep this file to yourself (mode 0600)."]
        lines += [f"{name}={value if masked and value == MASK else _quoted(value)}" for name, value in values if value]
        return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    """A value python-dotenv reads back as written."""
    if re.fullmatch(r"[A-Za-z0-9_./:@%+=,-]*", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Exists(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists")
        self.path = path


def write_private(path: Path, text: str, *, replace: bool = False) -> Path | None:
    """Write `text` to `path`, readable by its owner only; the backup's path when one was replaced.
    Created 0600 from the start (never world-readable for a moment)."""
    backup = None
    if path.exists():
        if not replace:
            raise Exists(path)
        backup = path.with_name(path.name + ".bak")
        os.replace(path, backup)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    return backup
