"""Quay's name rules (quay-api.md §4), checked before anything is sent.

Validating here is what keeps user input from ever changing a request path: a name that passes
these patterns contains no `%`, `?`, `#`, `..` component or whitespace. Every pattern is applied with
`fullmatch`: `re.match` with `$` also accepts a name followed by a newline.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from bot.i18n import Translatable

# util/validation.py validate_username: 2-255 characters.
NAMESPACE_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
NAMESPACE_MIN, NAMESPACE_MAX = 2, 255
# util/names.py with FEATURE_EXTENDED_REPOSITORY_NAMES (on by default): nested names allowed.
REPOSITORY_PATTERN = re.compile(r"(?=.{0,255}\Z)[a-z0-9][\.a-z0-9_-]*(?:\/[a-z0-9][\.a-z0-9_-]*)*")


class InvalidName(Translatable):
    """A namespace, repository name or notification id that Quay would refuse or misroute."""


def check_namespace(namespace: str) -> str:
    if not (NAMESPACE_MIN <= len(namespace) <= NAMESPACE_MAX) or not NAMESPACE_PATTERN.fullmatch(namespace):
        raise InvalidName(
            "{value} is not a valid Quay namespace: use 2-255 lowercase letters and digits, separated by single "
            "'.', '_' or '-'",
            value=_show(namespace),
        )
    return namespace


def check_repository_name(name: str) -> str:
    if not REPOSITORY_PATTERN.fullmatch(name):
        raise InvalidName(
            "{value} is not a valid repository name: use lowercase letters, digits, '.', '_' and '-', each "
            "'/'-separated part starting with a letter or digit, 255 characters at most",
            value=_show(name),
        )
    return name


def check_notification_uuid(value: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidName("{value} is not a notification id (a UUID such as 3f2b…-…)", value=_show(value)) from None
    if str(parsed) != value.lower():
        raise InvalidName("{value} is not a notification id in its usual form (8-4-4-4-12 hex)", value=_show(value))
    return str(parsed)


@dataclass(frozen=True, order=True)
class RepositoryRef:
    """`namespace/name`, where the name may itself contain slashes (nested repositories)."""

    namespace: str
    name: str

    def __post_init__(self) -> None:
        check_namespace(self.namespace)
        check_repository_name(self.name)

    @classmethod
    def parse(cls, full_name: str) -> RepositoryRef:
        """Split at the first slash, as Quay's path converter does."""
        namespace, slash, name = full_name.partition("/")
        if not slash or not name:
            raise InvalidName("{value} is not a repository: write it as <namespace>/<name>", value=_show(full_name))
        return cls(check_namespace(namespace), check_repository_name(name))

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def path(self) -> str:
        """The URL path segment for `/api/v1/repository/{repository}`; every part is quoted."""
        return "/".join(quote(part, safe="") for part in [self.namespace, *self.name.split("/")])

    def __str__(self) -> str:
        return self.full_name


def _show(value: str, limit: int = 60) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)


# util/names.py TAG_REGEX.
TAG_PATTERN = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
DIGEST_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{6,64})")


def check_tag(name: str) -> str:
    if not TAG_PATTERN.fullmatch(name):
        raise InvalidName(
            "{value} is not a valid tag: use letters, digits, '_', '.' and '-', starting with a letter, digit or "
            "'_', 128 characters at most",
            value=_show(name),
        )
    return name


def digest_prefix(value: str) -> str | None:
    """The hex of a digest or a prefix of one (`sha256:6d89…` or `6d89a1`, six characters at least);
    None when it is neither."""
    found = DIGEST_PREFIX.fullmatch(value.lower())
    return found.group(1) if found else None


@dataclass(frozen=True, order=True)
class TagRef:
    """`namespace/name:tag`."""

    repo: RepositoryRef
    tag: str

    def __post_init__(self) -> None:
        check_tag(self.tag)

    @classmethod
    def parse(cls, text: str, repository: Callable[[str], RepositoryRef] = RepositoryRef.parse) -> TagRef:
        """Split at the last colon (a repository name has none); `repository` reads the part before."""
        name, colon, tag = text.rpartition(":")
        if not colon or not name or not tag:
            raise InvalidName("{value} is not a tag: write it as <namespace>/<name>:<tag>", value=_show(text))
        return cls(repository(name), check_tag(tag))

    @property
    def path(self) -> str:
        return quote(self.tag, safe="")

    def __str__(self) -> str:
        return f"{self.repo.full_name}:{self.tag}"
