"""What running a command came to, whichever command it was. A command's own result (a card, a list,
a change) is its slice's type (`bot/slices/`), which renders it; these wrap it, or say why there
is none."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.model import Command, UsageError
from bot.quay.errors import QuayError
from bot.quay.models import Notification, Repository

# Outcomes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Succeeded:
    command: Command
    result: object  # of the command's own result type
    acting_as: str | None = None  # the Quay account it ran as, when not the bot's token


@dataclass(frozen=True)
class Failed:
    command: Command
    error: QuayError
    acting_as: str | None = None


@dataclass(frozen=True)
class Refused:
    """Access policy said no."""

    command: Command
    reason: str
    remedy: str
    acting_as: str | None = None  # set when it is Quay that refused the person's own account


@dataclass(frozen=True)
class Unparsed:
    """The text is not a command. `refusal` is set when no command may run from where it was typed
    (a channel not mapped, a direct message, a user not listed): the reason and remedy the policy
    gave, shown instead of the usage, since fixing the spelling would only lead to them."""

    problem: UsageError
    refusal: tuple[str, str] | None = None  # (reason, remedy)


@dataclass(frozen=True)
class ConfirmationNeeded:
    """A destructive command, not run: what it would do, read from Quay just now."""

    command: Command
    repository: Repository | None = None
    notification_count: int | None = None
    notification: Notification | None = None
    new_notifications: int | None = None  # a namespace-wide subscription: how many it would create
    details: object | None = None  # what else a command's preview read (a tag's versions), for its own question


@dataclass(frozen=True)
class NotAvailable:
    """The bot is not set up for this command (a setting is missing): nothing was done."""

    command: Command
    reason: str
    remedy: str


@dataclass(frozen=True)
class NotLinked:
    """The channel acts as each person, and this one has no linked Quay account (or Quay no longer
    takes its token): nothing was done. `login_url` starts linking one."""

    command: Command
    reason: str
    login_url: str


Outcome = Succeeded | Failed | Refused | Unparsed | ConfirmationNeeded | NotAvailable | NotLinked
