"""Guardrails: what no channel may do, whatever its mapping says (the access file's top-level
`guardrails:`, after AWS Chatbot's channel guardrail policies).

    guardrails:
      - namespaces: ["prod-*"]
        deny: [repo delete, "repo visibility public"]
      - name: no e-mail notifications
        namespaces: ["*"]
        deny: ["notify create * email"]

A rule is a command's words followed by patterns for the words written after them, the repository
left out: "repo visibility public" denies `repo visibility prod-api/web public` and nothing else,
"notify create * email" every e-mail notification whatever its event. Patterns are shell globs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Rule:
    command: str  # a command's words: "repo delete"
    patterns: tuple[str, ...]  # for the words after them, the repository left out

    @property
    def text(self) -> str:
        return " ".join((self.command, *self.patterns))

    def matches(self, command: str, words: Sequence[str]) -> bool:
        if command != self.command or len(words) < len(self.patterns):
            return False
        return all(fnmatchcase(word, pattern) for word, pattern in zip(words, self.patterns, strict=False))


@dataclass(frozen=True)
class Guardrail:
    position: int  # 1-based, in the file's order: how a refusal names an unnamed one
    namespaces: tuple[str, ...]  # globs
    deny: tuple[Rule, ...]
    name: str | None = None

    @property
    def label(self) -> str:
        return f"guardrail “{self.name}”" if self.name else f"guardrail {self.position}"

    @property
    def summary(self) -> str:
        """One line, as `quaybot check` and a refusal show it."""
        scope = ", ".join(self.namespaces)
        return f"{self.label}: in {scope}, deny " + "; ".join(rule.text for rule in self.deny)

    def covers(self, namespace: str) -> bool:
        return any(fnmatchcase(namespace, pattern) for pattern in self.namespaces)

    def denying(self, namespace: str, command: str, words: Sequence[str]) -> Rule | None:
        if not self.covers(namespace):
            return None
        return next((rule for rule in self.deny if rule.matches(command, words)), None)


@dataclass(frozen=True)
class Guardrails:
    rails: tuple[Guardrail, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rails)

    def denying(self, namespace: str, command: str, words: Sequence[str]) -> tuple[Guardrail, Rule] | None:
        """The first guardrail that denies `command words…` on `namespace`, and its rule."""
        for rail in self.rails:
            rule = rail.denying(namespace, command, words)
            if rule is not None:
                return rail, rule
        return None

    def denies_outright(self, command: str, namespaces: Collection[str]) -> bool:
        """Is `command` denied whatever its words, on every one of `namespaces`? (Help hides those.)"""
        return bool(namespaces) and all(
            any(
                rail.covers(ns) and any(r.command == command and not r.patterns for r in rail.deny)
                for rail in self.rails
            )
            for ns in namespaces
        )


def split_rule(text: str, commands: Collection[str] | None) -> Rule | str:
    """A rule from its text, or why it is not one. With `commands` known, the rule must start with one
    of them (the longest that fits)."""
    words = text.split()
    if not words:
        return "a rule must name a command"
    if commands is None:
        size = 2 if len(words) >= 2 else 1
    else:
        fits = [len(c.split()) for c in commands if words[: len(c.split())] == c.split()]
        if not fits:
            return f"`{text[:80]}` does not start with a command (like repo delete)"
        size = max(fits)
    return Rule(" ".join(words[:size]), tuple(words[size:]))
