"""What every parsed `/quay` command is, whichever it is: a frozen value with its name as a class
attribute. The commands themselves, each with its own type, are in `bot/slices/`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

HelpTopic = Literal["repo", "notify", "tag", "subscribe", "people"]


class Command(Protocol):
    """A parsed command: plain, typed values with no Slack and no HTTP in them."""

    command_name: ClassVar[str]


@dataclass(frozen=True)
class UsageError:
    """The text could not be read as a command: what is wrong, and the right form(s)."""

    message: str
    usage: tuple[str, ...] = ()
    topic: HelpTopic | None = None
