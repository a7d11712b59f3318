"""The `/quay` grammar: one table of command definitions that both the parser and the help read.

Parsing never raises: any text gives a `Command` or a `UsageError` that names the problem and shows
the right form of the subcommand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.access import Role
from bot.commands.lexer import LexError, split_words, unescape_slack
from bot.commands.model import (
    Command,
    Help,
    HelpTopic,
    NotifyCreate,
    NotifyDelete,
    NotifyGet,
    NotifyList,
    NotifyReset,
    NotifyTest,
    RepoCreate,
    RepoDelete,
    RepoDescribe,
    RepoInfo,
    RepoList,
    RepoVisibility,
    Subscribe,
    Subscriptions,
    SubscriptionTarget,
    Unsubscribe,
    UsageError,
)
from bot.i18n import t
from bot.quay.catalogue import EVENTS, METHODS, InvalidNotification, validate_event, validate_method
from bot.quay.names import InvalidName, RepositoryRef, check_namespace, check_notification_uuid
from bot.spelling import closest

ArgKind = Literal["repo", "namespace", "text", "visibility", "uuid", "event", "method", "topic", "target"]
_PLACEHOLDERS: dict[ArgKind, str] = {
    "repo": "<ns>/<name>",
    "namespace": "<namespace>",
    "text": '"<text>"',
    "visibility": "public|private",
    "uuid": "<uuid>",
    "event": "<event>",
    "method": "<method>",
    "topic": "repo|notify|subscribe",
    "target": "<ns>[/<name>]",
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


class _Usage(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The channel's language while a text is parsed: usage errors are raised deep in the builders, and
# the language is the same for all of them, so it is not passed through each one.
_LOCALE: ContextVar[str] = ContextVar("quaybot_parse_locale", default="en")


def _usage(message: str, /, **params: object) -> _Usage:
    return _Usage(t(_LOCALE.get(), message, **params))


def _meant(problem: str, word: str, known: Iterable[str], prefix: str = "") -> str:
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


# Builders: bound words to typed commands -------------------------------------------------------


def _repo(word: str, context: ParseContext) -> RepositoryRef:
    if "/" not in word:
        if context.default_namespace is None:
            if context.namespaces:
                raise _usage(
                    "write the repository as <namespace>/<name>, e.g. team-a/{word}; this channel maps to several "
                    "namespaces ({namespaces})",
                    word=word,
                    namespaces=", ".join(context.namespaces),
                )
            raise _usage("write the repository as <namespace>/<name>, e.g. team-a/{word}", word=word)
        word = f"{context.default_namespace}/{word}"
    try:
        return RepositoryRef.parse(word)
    except InvalidName as error:
        raise _Usage(error.said(_LOCALE.get())) from None


def _text(word: str, too_long: str, limit: int = MAX_TEXT) -> str:
    """`too_long`: the message when it is, with {count} and {limit}."""
    if len(word) > limit:
        raise _usage(too_long, count=len(word), limit=limit)
    return word


def _uuid(word: str) -> str:
    try:
        return check_notification_uuid(word)
    except InvalidName as error:
        raise _Usage(error.said(_LOCALE.get())) from None


def _build_help(bound: Bound, context: ParseContext) -> Command:
    topic = bound.args[0].lower() if bound.args else None
    topics: dict[str, HelpTopic] = {"repo": "repo", "notify": "notify", "notification": "notify"}
    topics |= {"notifications": "notify", "subscribe": "subscribe", "subscriptions": "subscribe"}
    if topic is not None and topic not in topics:
        raise _usage("there is no help on `{topic}`; try `help repo`, `help notify` or `help subscribe`", topic=topic)
    return Help(topics[topic] if topic else None)


def _build_repo_list(bound: Bound, context: ParseContext) -> Command:
    if bound.args:
        namespace = bound.args[0]
    elif context.default_namespace:
        namespace = context.default_namespace
    elif context.namespaces:
        raise _usage("name the namespace: this channel maps to {namespaces}", namespaces=", ".join(context.namespaces))
    else:
        raise _usage("name the namespace to list")
    try:
        check_namespace(namespace)
    except InvalidName as error:
        raise _Usage(error.said(_LOCALE.get())) from None
    return RepoList(namespace, public=bool(bound.flags.get("--public")), starred=bool(bound.flags.get("--starred")))


def _build_repo_create(bound: Bound, context: ParseContext) -> Command:
    visibility: Literal["public", "private"] = "public" if bound.flags.get("--public") else "private"
    description = str(bound.flags.get("--description", ""))
    return RepoCreate(_repo(bound.args[0], context), visibility, _text(description, DESCRIPTION_TOO_LONG))


def _build_repo_info(bound: Bound, context: ParseContext) -> Command:
    return RepoInfo(_repo(bound.args[0], context))


def _build_repo_describe(bound: Bound, context: ParseContext) -> Command:
    return RepoDescribe(_repo(bound.args[0], context), _text(bound.args[1], DESCRIPTION_TOO_LONG))


def _build_repo_visibility(bound: Bound, context: ParseContext) -> Command:
    visibility = bound.args[1].lower()
    if visibility == "public":
        return RepoVisibility(_repo(bound.args[0], context), "public")
    if visibility == "private":
        return RepoVisibility(_repo(bound.args[0], context), "private")
    raise _usage("visibility must be public or private, not `{word}`", word=bound.args[1])


def _build_repo_delete(bound: Bound, context: ParseContext) -> Command:
    return RepoDelete(_repo(bound.args[0], context))


def _build_notify_list(bound: Bound, context: ParseContext) -> Command:
    return NotifyList(_repo(bound.args[0], context))


def _pairs(words: Sequence[str], not_a_pair: str) -> dict[str, str]:
    """`not_a_pair`: the message for a word that is not key=value, with {word}."""
    result: dict[str, str] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not key:
            raise _usage(not_a_pair, word=word)
        if key in result:
            raise _usage("`{key}` is given twice", key=key)
        result[key] = value
    return result


def _build_notify_create(bound: Bound, context: ParseContext) -> Command:
    repo = _repo(bound.args[0], context)
    event, method = bound.args[1], bound.args[2]
    if event not in EVENTS and event in METHODS and method in EVENTS:
        raise _usage("the event comes before the method: `{method} {event}`", method=method, event=event)
    config: dict[str, Any] = dict(_pairs(bound.pairs, "settings are written key=value; `{word}` is not"))
    if method == "quay_notification" and "target" in config:
        kind, colon, name = str(config["target"]).partition(":")
        if not colon:
            raise _usage("target is written <kind>:<name>, e.g. target=team:owners or target=user:alice")
        config["target"] = {"kind": kind, "name": name}
    title = bound.flags.get("--title")
    try:
        event_config = validate_event(
            event, _pairs(bound.flag_pairs, "event config entries are written key=value; `{word}` is not")
        )
        config = validate_method(method, config, repo.namespace)
    except InvalidNotification as error:
        raise _Usage(error.said(_LOCALE.get())) from None
    return NotifyCreate(
        repo,
        event,
        method,
        config,
        event_config,
        _text(str(title), "the title is {count} characters long; {limit} at most", MAX_TITLE)
        if title is not None
        else None,
    )


def _uuid_command(
    kind: type[NotifyGet | NotifyTest | NotifyReset | NotifyDelete],
) -> Callable[[Bound, ParseContext], Command]:
    def build(bound: Bound, context: ParseContext) -> Command:
        return kind(_repo(bound.args[0], context), _uuid(bound.args[1]))

    return build


def _target(word: str) -> SubscriptionTarget:
    namespace, slash, _ = word.partition("/")
    try:
        if slash:
            ref = RepositoryRef.parse(word)
            return SubscriptionTarget(ref.namespace, ref.name)
        return SubscriptionTarget(check_namespace(namespace))
    except InvalidName as error:
        raise _Usage(error.said(_LOCALE.get())) from None


def _events(words: Sequence[str]) -> tuple[str, ...]:
    events: list[str] = []
    for word in words:
        event = word.lower()
        if event not in EVENTS:
            problem = t(
                _LOCALE.get(), "unknown event `{word}`; events: {events}", word=_short(word), events=", ".join(EVENTS)
            )
            raise _Usage(_meant(problem, event, EVENTS))
        if event not in events:
            events.append(event)
    return tuple(events)


def _build_subscribe(bound: Bound, context: ParseContext) -> Command:
    events = _events(bound.args[1:])
    target = _target(bound.args[0])
    return Subscribe(target, events) if events else Subscribe(target)


def _build_unsubscribe(bound: Bound, context: ParseContext) -> Command:
    return Unsubscribe(_target(bound.args[0]), _events(bound.args[1:]))


def _build_subscriptions(bound: Bound, context: ParseContext) -> Command:
    return Subscriptions()


REPO, UUID = Arg("repo"), Arg("uuid")
EVENTS_ARG = Arg("event", optional=True, many=True)
DEFINITIONS: tuple[Definition, ...] = (
    Definition(None, "help", "show what you can run here", Role.READ, _build_help, (Arg("topic", optional=True),)),
    Definition(
        "repo",
        "list",
        "list the repositories of a namespace",
        Role.READ,
        _build_repo_list,
        (Arg("namespace", optional=True),),
        (Flag("--public"), Flag("--starred")),
    ),
    Definition(
        "repo",
        "create",
        "create a repository",
        Role.WRITE,
        _build_repo_create,
        (REPO,),
        (
            Flag("--private", exclusive_with=("--public",)),
            Flag("--public", exclusive_with=("--private",)),
            Flag("--description", '"<text>"'),
        ),
        note="private unless --public",
    ),
    Definition("repo", "info", "show a repository", Role.READ, _build_repo_info, (REPO,), aliases=("get", "show")),
    Definition(
        "repo",
        "describe",
        "set a repository's description",
        Role.WRITE,
        _build_repo_describe,
        (REPO, Arg("text")),
    ),
    Definition(
        "repo",
        "visibility",
        "make a repository public or private",
        Role.ADMIN,
        _build_repo_visibility,
        (REPO, Arg("visibility")),
        note="public asks for confirmation",
    ),
    Definition(
        "repo",
        "delete",
        "delete a repository",
        Role.ADMIN,
        _build_repo_delete,
        (REPO,),
        note="asks for confirmation",
    ),
    Definition("notify", "list", "list a repository's notifications", Role.READ, _build_notify_list, (REPO,)),
    Definition(
        "notify",
        "create",
        "add a notification",
        Role.WRITE,
        _build_notify_create,
        (REPO, Arg("event"), Arg("method")),
        (Pairs(), Flag("--title", '"<t>"'), Flag("--event-config", pairs=True)),
    ),
    Definition("notify", "get", "show one notification", Role.READ, _uuid_command(NotifyGet), (REPO, UUID)),
    Definition("notify", "test", "queue a test delivery", Role.WRITE, _uuid_command(NotifyTest), (REPO, UUID)),
    Definition(
        "notify",
        "reset",
        "reset the failure count (re-enables it)",
        Role.WRITE,
        _uuid_command(NotifyReset),
        (REPO, UUID),
    ),
    Definition(
        "notify",
        "delete",
        "delete a notification",
        Role.ADMIN,
        _uuid_command(NotifyDelete),
        (REPO, UUID),
        note="asks for confirmation",
    ),
    Definition(
        None,
        "subscribe",
        "post a repository's Quay events here",
        Role.WRITE,
        _build_subscribe,
        (Arg("target"), EVENTS_ARG),
        note="a namespace alone: all of its repositories, now and later; "
        "default events: repo_push build_failure vulnerability_found",
    ),
    Definition(
        None,
        "unsubscribe",
        "stop posting events here",
        Role.WRITE,
        _build_unsubscribe,
        (Arg("target"), EVENTS_ARG),
        note="every event when none is named",
    ),
    Definition(None, "subscriptions", "this channel's subscriptions", Role.READ, _build_subscriptions),
)
TOP_LEVEL = {d.verb: d for d in DEFINITIONS if d.group is None}
GROUP_ALIASES = {"repo": "repo", "notify": "notify", "notification": "notify", "notifications": "notify"}
BY_COMMAND_NAME = {d.words: d for d in DEFINITIONS}


def definition_for(command: Command) -> Definition:
    return BY_COMMAND_NAME[command.command_name]


# Parsing ---------------------------------------------------------------------------------------


def parse(text: str, context: ParseContext | None = None) -> Command | UsageError:
    """Read the text after `/quay`."""
    context = context or ParseContext()
    token = _LOCALE.set(context.locale)
    try:
        return _parse(text, context)
    finally:
        _LOCALE.reset(token)


def _parse(text: str, context: ParseContext) -> Command | UsageError:
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
        return Help()
    head = words[0].lower()
    if head in TOP_LEVEL:
        return _parse_with(TOP_LEVEL[head], words[1:], context)
    group = GROUP_ALIASES.get(head)
    if group is None:
        meant = closest(head, [*TOP_LEVEL, *GROUP_ALIASES])
        # A guess goes first, not after the list of command words (the usage lines show those).
        problem = (
            t(
                loc,
                "unknown command `{word}`; did you mean {suggestion}?",
                word=_short(words[0]),
                suggestion=f"`{meant}`",
            )
            if meant is not None
            else t(
                loc,
                "unknown command `{word}`; commands start with `repo`, `notify`, `subscribe`, `unsubscribe`, "
                "`subscriptions` or `help`",
                word=_short(words[0]),
            )
        )
        return UsageError(
            problem, ("repo …", "notify …", "subscribe <ns>[/<name>] [<event> ...]", "help [repo|notify|subscribe]")
        )
    topic: HelpTopic = "repo" if group == "repo" else "notify"
    group_usage = _group_usage(group)
    if len(words) < 2:
        return UsageError(t(loc, "`{group}` needs a subcommand", group=group), group_usage, topic)
    verb = words[1].lower()
    for definition in DEFINITIONS:
        if definition.group == group and verb in (definition.verb, *definition.aliases):
            return _parse_with(definition, words[2:], context)
    problem = t(loc, "unknown subcommand `{words}`", words=f"{group} {_short(words[1])}")
    verbs = [word for d in DEFINITIONS if d.group == group for word in (d.verb, *d.aliases)]
    return UsageError(_meant(problem, verb, verbs, prefix=f"{group} "), group_usage, topic)


@functools.cache
def _group_usage(group: str) -> tuple[str, ...]:
    """The usage lines of a group, shown with its usage errors (built once: parsing is per command)."""
    return tuple(d.usage for d in DEFINITIONS if d.group == group)


def _topic(definition: Definition) -> HelpTopic | None:
    if definition.group == "repo":
        return "repo"
    if definition.group == "notify":
        return "notify"
    return "subscribe" if definition.verb in ("subscribe", "unsubscribe", "subscriptions") else None


def _parse_with(definition: Definition, words: list[str], context: ParseContext) -> Command | UsageError:
    topic = _topic(definition)
    try:
        bound = _bind(definition, words)
        return definition.build(bound, context)
    except _Usage as problem:
        return UsageError(f"{definition.words}: {problem.message}", (definition.usage,), topic)


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
                problem = t(_LOCALE.get(), "unknown option `{name}` (it takes {known})", name=_short(name), known=known)
                raise _Usage(_meant(problem, name, flags))
            in_flag_pairs = flag.pairs
            if flag.pairs:
                if equals:
                    bound.flag_pairs.append(inline)
                continue
            if name in bound.flags:
                raise _usage("`{key}` is given twice", key=name)
            clash = [other for other in flag.exclusive_with if other in bound.flags]
            if clash:
                raise _usage("use either `{name}` or `{other}`, not both", name=name, other=clash[0])
            if flag.value is None:
                if equals:
                    raise _usage("`{name}` takes no value", name=name)
                bound.flags[name] = True
            elif equals:
                bound.flags[name] = inline
            elif index < len(words):
                bound.flags[name] = words[index]
                index += 1
            else:
                raise _usage("`{name}` needs a value: {form}", name=name, form=f"{name} {flag.value}")
            continue
        if in_flag_pairs:
            if "=" not in word:
                raise _usage("--event-config takes key=value entries; `{word}` is not one", word=word)
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
        raise _usage("missing {what}", what=" ".join(missing))
    return bound


def _unexpected(word: str, definition: Definition, bound: Bound) -> _Usage:
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
            return _usage("`{method}` takes its settings as key=value: {keys}", method=spec.name, keys=keys)
    if _quote_hint(definition):
        return _usage("unexpected `{word}` (put text with spaces inside quotes)", word=_short(word))
    return _usage("unexpected `{word}`", word=_short(word))


def _quote_hint(definition: Definition) -> bool:
    """Does the definition take text, which is easy to forget to quote?"""
    return any(arg.kind == "text" for arg in definition.args) or any(
        isinstance(o, Flag) and o.value for o in definition.options
    )


def _short(word: str, limit: int = 40) -> str:
    return word if len(word) <= limit else word[:limit] + "…"
