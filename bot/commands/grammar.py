"""The `/quay` grammar engine: a `Grammar` reads text against the commands' definitions, which the
commands themselves declare (`bot/slices/`); the help reads the same definitions.

Parsing never raises: any text gives a command or a `UsageError` that names the problem and shows
the right form of the subcommand. The helpers below (`repository`, `limited`, `notification_uuid`,
`key_values`, `usage`) are what a command's builder uses to read its words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

from bot.access import Role
from bot.commands.lexer import LexError, split_words, unescape_slack
from bot.commands.model import Command, HelpTopic, UsageError
from bot.i18n import Translatable, t
from bot.quay.catalogue import METHODS
from bot.quay.names import InvalidName, RepositoryRef, TagRef, check_notification_uuid, check_tag
from bot.spelling import closest

ArgKind = Literal[
    "repo",
    "namespace",
    "text",
    "visibility",
    "uuid",
    "event",
    "method",
    "topic",
    "target",
    "quay-username",
    "tag",
    "digest",
    "manifest",
    "when",
]
_PLACEHOLDERS: dict[ArgKind, str] = {
    "repo": "<ns>/<name>",
    "namespace": "<namespace>",
    "text": '"<text>"',
    "visibility": "public|private",
    "uuid": "<uuid>",
    "event": "<event>",
    "method": "<method>",
    "topic": "repo|notify|tag|subscribe|people",
    "target": "<ns>[/<name>]",
    "quay-username": "<quay-username>",
    "tag": "<ns>/<name>:<tag>",
    "digest": "<digest>",
    "manifest": "<digest>|<tag>",
    "when": "<2h|7d|YYYY-MM-DD|never>",
}
MAX_TEXT = 2000
MAX_COMMAND_TEXT = 4000  # a description of MAX_TEXT and the rest of its command fit well inside
DESCRIPTION_TOO_LONG = "the description is {count} characters long; {limit} at most"
MAX_TITLE = 255


@dataclass(frozen=True)
class Arg:
    kind: ArgKind
    optional: bool = False
    many: bool = False  # the last argument only: takes every remaining word

    @property
    def usage(self) -> str:
        text = _PLACEHOLDERS[self.kind] + (" ..." if self.many else "")
        return f"[{text}]" if self.optional else text


@dataclass(frozen=True)
class Flag:
    """`--name`, `--name value` / `--name=value`, or `--name key=value ...` (`pairs`)."""

    name: str
    value: str | None = None
    pairs: bool = False
    exclusive_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pairs:
    """Trailing `key=value` words (a notification's config)."""


Option = Flag | Pairs


@dataclass
class Bound:
    """Words sorted onto a definition: positionals, flags, and key=value pairs."""

    args: list[str] = field(default_factory=list)
    flags: dict[str, str | bool] = field(default_factory=dict)
    pairs: list[str] = field(default_factory=list)
    flag_pairs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParseContext:
    """What the channel knows: its namespaces fill in a bare repository name."""

    namespaces: tuple[str, ...] = ()
    locale: str = "en"  # of the channel: usage errors are said in it

    @property
    def default_namespace(self) -> str | None:
        return self.namespaces[0] if len(self.namespaces) == 1 else None


class UsageProblem(Exception):
    """Raised by a builder: the words do not make the command (the message is already translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The channel's language while a text is parsed: usage errors are raised deep in the builders, and
# the language is the same for all of them, so it is not passed through each one.
_LOCALE: ContextVar[str] = ContextVar("quaybot_parse_locale", default="en")


def usage(message: str, /, **params: object) -> UsageProblem:
    """A problem with the words, said in the channel's language (`raise usage("…{x}…", x=…)`)."""
    return UsageProblem(t(_LOCALE.get(), message, **params))


def said(error: Translatable) -> UsageProblem:
    """A validation error of a lower layer (a name, a notification setting) as a usage problem."""
    return UsageProblem(error.said(_LOCALE.get()))


def meant(problem: str, word: str, known: Iterable[str], prefix: str = "") -> str:
    """`problem`, said with the known word that `word` is nearest to, when one is near enough."""
    suggestion = closest(word, known)
    if suggestion is None:
        return problem
    return t(
        _LOCALE.get(), "{problem}; did you mean {suggestion}?", problem=problem, suggestion=f"`{prefix}{suggestion}`"
    )


@dataclass(frozen=True)
class Definition:
    group: str | None
    verb: str
    summary: str
    role: Role
    build: Callable[[Bound, ParseContext], Command]
    args: tuple[Arg, ...] = ()
    options: tuple[Option, ...] = ()
    aliases: tuple[str, ...] = ()
    note: str = ""
    topic: HelpTopic | None = None  # the help page it is listed on besides the main one

    @property
    def words(self) -> str:
        return f"{self.group} {self.verb}" if self.group else self.verb

    @property
    def usage(self) -> str:
        parts = [self.words, *(arg.usage for arg in self.args)]
        done: set[str] = set()
        for option in self.options:
            if isinstance(option, Pairs):
                parts.append("[key=value ...]")
            elif option.name not in done:
                names = [option.name, *option.exclusive_with]
                done.update(names)
                if option.pairs:
                    parts.append(f"[{option.name} key=value ...]")
                elif option.value:
                    parts.append(f"[{option.name} {option.value}]")
                else:
                    parts.append(f"[{'|'.join(names)}]")
        return " ".join(parts)

    @property
    def flags(self) -> dict[str, Flag]:
        return {o.name: o for o in self.options if isinstance(o, Flag)}

    @property
    def takes_pairs(self) -> bool:
        return any(isinstance(o, Pairs) for o in self.options)


# Reading words: what builders use -----------------------------------------------------------


def repository(word: str, context: ParseContext) -> RepositoryRef:
    """`<ns>/<name>`, or a bare `<name>` in a channel mapped to one namespace."""
    if "/" not in word:
        if context.default_namespace is None:
            if context.namespaces:
                raise usage(
                    "write the repository as <namespace>/<name>, e.g. team-a/{word}; this channel maps to several "
                    "namespaces ({namespaces})",
                    word=word,
                    namespaces=", ".join(context.namespaces),
                )
            raise usage("write the repository as <namespace>/<name>, e.g. team-a/{word}", word=word)
        word = f"{context.default_namespace}/{word}"
    try:
        return RepositoryRef.parse(word)
    except InvalidName as error:
        raise said(error) from None


def tag_reference(word: str, context: ParseContext) -> TagRef:
    """`<ns>/<name>:<tag>`, or `<name>:<tag>` in a channel mapped to one namespace."""
    name, colon, tag = word.rpartition(":")
    if not colon or not name or not tag:
        raise usage("write the tag as <namespace>/<name>:<tag>, e.g. team-a/api:prod")
    repo = repository(name, context)
    try:
        return TagRef(repo, check_tag(tag))
    except InvalidName as error:
        raise said(error) from None


def limited(word: str, too_long: str, limit: int = MAX_TEXT) -> str:
    """`word` when it is at most `limit` long; `too_long` is the message when not, with {count} and {limit}."""
    if len(word) > limit:
        raise usage(too_long, count=len(word), limit=limit)
    return word


def notification_uuid(word: str) -> str:
    try:
        return check_notification_uuid(word)
    except InvalidName as error:
        raise said(error) from None


def key_values(words: Sequence[str], not_a_pair: str) -> dict[str, str]:
    """`not_a_pair`: the message for a word that is not key=value, with {word}."""
    result: dict[str, str] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not key:
            raise usage(not_a_pair, word=word)
        if key in result:
            raise usage("`{key}` is given twice", key=key)
        result[key] = value
    return result


# Parsing ---------------------------------------------------------------------------------------


class Grammar:
    """The parser over a set of definitions. `groups` maps each word that starts a group of
    subcommands (`repo`, `notify`, and aliases such as `notifications`) to the group's name."""

    def __init__(self, definitions: Iterable[Definition], groups: Mapping[str, str]) -> None:
        self.definitions = tuple(definitions)
        self.groups = dict(groups)
        self.top_level = {d.verb: d for d in self.definitions if d.group is None}
        if len({d.words for d in self.definitions}) != len(self.definitions):
            raise ValueError("two definitions have the same words")
        self._group_usage = {
            group: tuple(d.usage for d in self.definitions if d.group == group) for group in set(self.groups.values())
        }

    def parse(self, text: str, context: ParseContext | None = None) -> Command | UsageError:
        """Read the text after `/quay`."""
        context = context or ParseContext()
        token = _LOCALE.set(context.locale)
        try:
            return self._parse(text, context)
        finally:
            _LOCALE.reset(token)

    def _parse(self, text: str, context: ParseContext) -> Command | UsageError:
        loc = context.locale
        if len(text) > MAX_COMMAND_TEXT:
            # Before the lexer: a text of hundreds of KB would hold the event loop for seconds.
            return UsageError(
                t(
                    loc,
                    "the command is {count} characters long; a command takes {limit} at most",
                    count=len(text),
                    limit=MAX_COMMAND_TEXT,
                ),
                ("help",),
            )
        try:
            words = split_words(unescape_slack(text))
        except LexError as error:
            return UsageError(error.said(loc))
        if not words:
            words = ["help"]  # `/quay` alone
        head = words[0].lower()
        if head in self.top_level:
            return _parse_with(self.top_level[head], words[1:], context)
        group = self.groups.get(head)
        if group is None:
            return self._unknown(words[0], head, loc)
        group_usage = self._group_usage[group]
        topic = next((d.topic for d in self.definitions if d.group == group), None)
        if len(words) < 2:
            return UsageError(t(loc, "`{group}` needs a subcommand", group=group), group_usage, topic)
        verb = words[1].lower()
        for definition in self.definitions:
            if definition.group == group and verb in (definition.verb, *definition.aliases):
                return _parse_with(definition, words[2:], context)
        problem = t(loc, "unknown subcommand `{words}`", words=f"{group} {short(words[1])}")
        verbs = [word for d in self.definitions if d.group == group for word in (d.verb, *d.aliases)]
        return UsageError(meant(problem, verb, verbs, prefix=f"{group} "), group_usage, topic)

    def _unknown(self, word: str, head: str, loc: str) -> UsageError:
        starts = [*dict.fromkeys(self.groups.values()), *(v for v in self.top_level if v != "help")]
        guess = closest(head, [*self.top_level, *self.groups])
        # A guess goes first, not after the list of command words (the usage lines show those).
        problem = (
            t(loc, "unknown command `{word}`; did you mean {suggestion}?", word=short(word), suggestion=f"`{guess}`")
            if guess is not None
            else t(
                loc,
                "unknown command `{word}`; commands start with {words} or `help`",
                word=short(word),
                words=", ".join(f"`{start}`" for start in starts),
            )
        )
        lines = [f"{group} …" for group in dict.fromkeys(self.groups.values())]
        lines += sorted((d.usage for d in self.top_level.values()), key=lambda line: line.startswith("help"))
        return UsageError(problem, tuple(lines))


def _parse_with(definition: Definition, words: list[str], context: ParseContext) -> Command | UsageError:
    try:
        bound = _bind(definition, words)
        return definition.build(bound, context)
    except UsageProblem as problem:
        return UsageError(f"{definition.words}: {problem.message}", (definition.usage,), definition.topic)


def _bind(definition: Definition, words: list[str]) -> Bound:
    bound = Bound()
    flags = definition.flags
    in_flag_pairs = False
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--") and len(word) > 2:
            name, equals, inline = word.partition("=")
            flag = flags.get(name)
            if flag is None:
                known = ", ".join(flags) or "no options"
                problem = t(_LOCALE.get(), "unknown option `{name}` (it takes {known})", name=short(name), known=known)
                raise UsageProblem(meant(problem, name, flags))
            in_flag_pairs = flag.pairs
            if flag.pairs:
                if equals:
                    bound.flag_pairs.append(inline)
                continue
            if name in bound.flags:
                raise usage("`{key}` is given twice", key=name)
            clash = [other for other in flag.exclusive_with if other in bound.flags]
            if clash:
                raise usage("use either `{name}` or `{other}`, not both", name=name, other=clash[0])
            if flag.value is None:
                if equals:
                    raise usage("`{name}` takes no value", name=name)
                bound.flags[name] = True
            elif equals:
                bound.flags[name] = inline
            elif index < len(words):
                bound.flags[name] = words[index]
                index += 1
            else:
                raise usage("`{name}` needs a value: {form}", name=name, form=f"{name} {flag.value}")
            continue
        if in_flag_pairs:
            if "=" not in word:
                raise usage("--event-config takes key=value entries; `{word}` is not one", word=word)
            bound.flag_pairs.append(word)
            continue
        if len(bound.args) < len(definition.args):
            next_arg: Arg | None = definition.args[len(bound.args)]
        else:
            next_arg = definition.args[-1] if definition.args and definition.args[-1].many else None
        looks_like_pair = "=" in word and definition.takes_pairs
        if next_arg is not None and not (looks_like_pair and next_arg.kind in ("event", "method")):
            bound.args.append(word)
        elif looks_like_pair:
            bound.pairs.append(word)
        else:
            raise _unexpected(word, definition, bound)
    missing = [arg.usage for arg in definition.args[len(bound.args) :] if not arg.optional]
    if missing:
        raise usage("missing {what}", what=" ".join(missing))
    return bound


def _unexpected(word: str, definition: Definition, bound: Bound) -> UsageProblem:
    """A word with no place. After a notification's method it is most likely a setting typed
    without its key (`webhook https://…`): say which keys, without echoing the value (a webhook
    URL is a secret)."""
    method = next(
        (value for arg, value in zip(definition.args, bound.args, strict=False) if arg.kind == "method"), None
    )
    spec = METHODS.get(method.lower()) if method is not None else None
    if spec is not None and "=" not in word:
        given = {pair.partition("=")[0] for pair in bound.pairs}
        if missing := [key for key in spec.required if key not in given]:
            keys = ", ".join(f"`{key}=…`" for key in missing)
            return usage("`{method}` takes its settings as key=value: {keys}", method=spec.name, keys=keys)
    if _quote_hint(definition):
        return usage("unexpected `{word}` (put text with spaces inside quotes)", word=short(word))
    return usage("unexpected `{word}`", word=short(word))


def _quote_hint(definition: Definition) -> bool:
    """Does the definition take text, which is easy to forget to quote?"""
    return any(arg.kind == "text" for arg in definition.args) or any(
        isinstance(o, Flag) and o.value for o in definition.options
    )


def short(word: str, limit: int = 40) -> str:
    """A word as a usage error quotes it: cut at `limit`."""
    return word if len(word) <= limit else word[:limit] + "…"
