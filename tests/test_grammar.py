"""The /quay grammar: every form, alias, quoting, Slack escapes, and the usage errors people see."""

from __future__ import annotations

import re

import pytest

from bot.commands.grammar import ParseContext
from bot.commands.lexer import unescape_slack
from bot.commands.model import UsageError
from bot.quay.names import RepositoryRef
from bot.slices import REGISTRY, parse
from bot.slices.help import Help
from bot.slices.notify_create import NotifyCreate
from bot.slices.notify_delete import NotifyDelete
from bot.slices.notify_get import NotifyGet
from bot.slices.notify_list import NotifyList
from bot.slices.notify_reset import NotifyReset
from bot.slices.notify_test import NotifyTest
from bot.slices.repo_create import RepoCreate
from bot.slices.repo_delete import RepoDelete
from bot.slices.repo_describe import RepoDescribe
from bot.slices.repo_info import RepoInfo
from bot.slices.repo_list import RepoList
from bot.slices.repo_visibility import RepoVisibility
from bot.slices.subscriptions import Subscribe, Subscriptions, Unsubscribe
from bot.subscriptions.reports import SubscriptionTarget

DEFINITIONS = REGISTRY.definitions
is_destructive = REGISTRY.is_destructive

ONE = ParseContext(("team-a",))
TWO = ParseContext(("team-a", "team-b"))
U = "3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d"
API = RepositoryRef("team-a", "api")

# The grammar as the issue writes it; help and usage errors must show exactly these forms.
DOCUMENTED = """
help [repo|notify|tag|subscribe|people]
repo list [<namespace>] [--public] [--starred]
repo create <ns>/<name> [--private|--public] [--description "<text>"]
repo info <ns>/<name>
repo describe <ns>/<name> "<text>"
repo visibility <ns>/<name> public|private
repo delete <ns>/<name>
notify list <ns>/<name>
notify create <ns>/<name> <event> <method> [key=value ...] [--title "<t>"] [--event-config key=value ...]
notify get <ns>/<name> <uuid>
notify test <ns>/<name> <uuid>
notify reset <ns>/<name> <uuid>
notify delete <ns>/<name> <uuid>
tag list <ns>/<name> [--all] [--page N]
tag info <ns>/<name>:<tag>
tag restore <ns>/<name>:<tag> <digest>
tag move <ns>/<name>:<tag> <digest>|<tag>
tag expire <ns>/<name>:<tag> <2h|7d|YYYY-MM-DD|never>
tag delete <ns>/<name>:<tag>
subscribe <ns>[/<name>] [<event> ...]
unsubscribe <ns>[/<name>] [<event> ...]
subscriptions
login [<quay-username>]
logout
whoami
""".strip().splitlines()


def test_usage_lines_are_the_documented_grammar():
    assert [d.usage for d in DEFINITIONS] == DOCUMENTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("HELP repo", Help("repo")),
        ("help notify", Help("notify")),
        ("help notifications", Help("notify")),
        ("repo list team-b", RepoList("team-b")),
        ("repo list", RepoList("team-a")),
        ("repo list --public --starred", RepoList("team-a", public=True, starred=True)),
        ("repo list team-a --starred", RepoList("team-a", starred=True)),
        ("repo create team-a/api", RepoCreate(API, "private", "")),
        ("repo create api --public", RepoCreate(API, "public", "")),
        ("repo create api --private", RepoCreate(API, "private", "")),
        ('repo create api --description "the API image"', RepoCreate(API, "private", "the API image")),
        ('repo create api --description="the API image" --public', RepoCreate(API, "public", "the API image")),
        ("repo create team-a/svc/api", RepoCreate(RepositoryRef("team-a", "svc/api"))),
        ("repo info team-a/api", RepoInfo(API)),
        ("repo get api", RepoInfo(API)),
        ("repo show api", RepoInfo(API)),
        ('repo describe api "New text, with commas"', RepoDescribe(API, "New text, with commas")),
        ("repo describe api “curly quotes work”", RepoDescribe(API, "curly quotes work")),
        ("repo describe api ‘single curly’", RepoDescribe(API, "single curly")),
        ("repo describe api 'it''s'", RepoDescribe(API, "its")),
        ('repo describe api "a &amp; b &lt;c&gt;"', RepoDescribe(API, "a & b <c>")),
        ("repo visibility api public", RepoVisibility(API, "public")),
        ("repo visibility api Private", RepoVisibility(API, "private")),
        ("repo delete team-a/api", RepoDelete(API)),
        ("notify list api", NotifyList(API)),
        ("notification list api", NotifyList(API)),
        ("notifications list api", NotifyList(API)),
        (f"notify get api {U}", NotifyGet(API, U)),
        (f"notify test api {U.upper()}", NotifyTest(API, U)),
        (f"notify reset api {U}", NotifyReset(API, U)),
        (f"notify delete api {U}", NotifyDelete(API, U)),
        (
            "notify create api repo_push webhook url=<https://hooks.example.com/x?a=1&amp;b=2|hooks.example.com/x> "
            '--title "CI hook"',
            NotifyCreate(API, "repo_push", "webhook", {"url": "https://hooks.example.com/x?a=1&b=2"}, {}, "CI hook"),
        ),
        (
            "notify create api repo_push email email=<mailto:ops@example.com|ops@example.com>",
            NotifyCreate(API, "repo_push", "email", {"email": "ops@example.com"}),
        ),
        (
            "notify create api vulnerability_found slack url=https://hooks.slack.com/services/T/B/X "
            "--event-config level=High",
            NotifyCreate(
                API, "vulnerability_found", "slack", {"url": "https://hooks.slack.com/services/T/B/X"}, {"level": 1}
            ),
        ),
        (
            "notify create api build_failure quay_notification target=team:owners --event-config=ref-regex=heads/main",
            NotifyCreate(
                API,
                "build_failure",
                "quay_notification",
                {"target": {"kind": "team", "name": "owners"}},
                {"ref-regex": "heads/main"},
            ),
        ),
        (
            "notify create api repo_image_expiry webhook url=https://x.example/h --event-config days=7 --title=exp",
            NotifyCreate(API, "repo_image_expiry", "webhook", {"url": "https://x.example/h"}, {"days": 7}, "exp"),
        ),
        (
            "subscribe team-a/api",
            Subscribe(SubscriptionTarget("team-a", "api"), ("repo_push", "build_failure", "vulnerability_found")),
        ),
        (
            "subscribe team-a build_start BUILD_START repo_push",
            Subscribe(SubscriptionTarget("team-a"), ("build_start", "repo_push")),
        ),
        ("unsubscribe team-a/api", Unsubscribe(SubscriptionTarget("team-a", "api"))),
        ("unsubscribe team-a repo_push", Unsubscribe(SubscriptionTarget("team-a"), ("repo_push",))),
        ("subscriptions", Subscriptions()),
        ("help subscribe", Help("subscribe")),
    ],
)
def test_every_form(text, expected):
    assert parse(text, ONE) == expected


@pytest.mark.parametrize(
    ("text", "context", "message", "usage"),
    [
        ("frobnicate", ONE, "unknown command `frobnicate`", "help [repo|notify|tag|subscribe|people]"),
        ("repo", ONE, "`repo` needs a subcommand", "repo list [<namespace>] [--public] [--starred]"),
        ("repo erase api", ONE, "unknown subcommand `repo erase`", "repo delete <ns>/<name>"),
        ("repo create", ONE, "repo create: missing <ns>/<name>", DOCUMENTED[2]),
        ("repo create api --public --private", ONE, "use either `--private` or `--public`", DOCUMENTED[2]),
        ("repo create api --colour red", ONE, "unknown option `--colour`", DOCUMENTED[2]),
        ("repo create api --description", ONE, "`--description` needs a value", DOCUMENTED[2]),
        ("repo create api --public=yes", ONE, "`--public` takes no value", DOCUMENTED[2]),
        ("repo create api --description a --description b", ONE, "`--description` is given twice", DOCUMENTED[2]),
        ("repo create Api", ONE, "is not a valid repository name", DOCUMENTED[2]),
        ("repo create api", TWO, "this channel maps to several namespaces (team-a, team-b)", DOCUMENTED[2]),
        ("repo create api", ParseContext(), "write the repository as <namespace>/<name>", DOCUMENTED[2]),
        ("repo list", TWO, "name the namespace: this channel maps to team-a, team-b", DOCUMENTED[1]),
        ("repo list Team_A", ONE, "is not a valid Quay namespace", DOCUMENTED[1]),
        ("repo describe api new text", ONE, "unexpected `text` (put text with spaces inside quotes)", DOCUMENTED[4]),
        ('repo describe api "unclosed', ONE, "a quote is not closed", None),
        ("repo visibility api internal", ONE, "visibility must be public or private", DOCUMENTED[5]),
        ("repo delete team-a/../etc", ONE, "is not a valid repository name", DOCUMENTED[6]),
        ("notify get api 1234", ONE, "'1234' is not a notification id", DOCUMENTED[9]),
        ("notify get api", ONE, "missing <uuid>", DOCUMENTED[9]),
        ("notify create api url=https://x.example", ONE, "missing <event> <method>", DOCUMENTED[8]),
        ("notify create api push webhook url=https://x.example", ONE, "unknown event 'push'", DOCUMENTED[8]),
        ("notify create api repo_push pigeon", ONE, "unknown method 'pigeon'", DOCUMENTED[8]),
        (
            "notify create api webhook repo_push url=https://x.example",
            ONE,
            "the event comes before the method",
            DOCUMENTED[8],
        ),
        ("notify create api repo_push webhook", ONE, "webhook needs url=…", DOCUMENTED[8]),
        (
            "notify create api repo_push webhook url",
            ONE,
            "`webhook` takes its settings as key=value: `url=…`",
            DOCUMENTED[8],
        ),
        (
            "notify create api repo_push slack https://hooks.slack.com/services/T0/B0/secret",
            ONE,
            "`slack` takes its settings as key=value: `url=…`",
            DOCUMENTED[8],
        ),
        ("notify create api repo_push email ops@example.com", ONE, "`email` takes its settings as key=value", None),
        (
            "notify create api repo_push webhook url=https://x.example stray",
            ONE,
            "unexpected `stray` (put text with spaces inside quotes)",
            None,
        ),
        ("notify create api repo_push webhook url=ftp://x", ONE, "http(s) URL with a host", DOCUMENTED[8]),
        (
            "notify create api repo_push webhook url=https://x.example url=https://y.example",
            ONE,
            "`url` is given twice",
            DOCUMENTED[8],
        ),
        (
            "notify create api repo_push quay_notification target=owners",
            ONE,
            "target is written <kind>:<name>",
            DOCUMENTED[8],
        ),
        (
            "notify create api repo_push webhook url=https://x.example --event-config level",
            ONE,
            "takes key=value entries",
            DOCUMENTED[8],
        ),
        (
            "notify create api repo_push webhook url=https://x.example --event-config level=1",
            ONE,
            "does not take event config level",
            DOCUMENTED[8],
        ),
        (
            "notify create api repo_push webhook url=https://x.example --title " + "t" * 256,
            ONE,
            "the title is 256 characters long; 255 at most",
            DOCUMENTED[8],
        ),
        ("subscribe", ONE, "missing <ns>[/<name>]", DOCUMENTED[19]),
        ("subscribe team-a/api pushes", ONE, "unknown event `pushes`", DOCUMENTED[19]),
        ("subscribe Team_A!", ONE, "namespace", DOCUMENTED[19]),
        ("unsubscribe team-a/api quota_warning", ONE, "unknown event `quota_warning`", DOCUMENTED[20]),
        ("subscriptions team-a", ONE, "unexpected `team-a`", DOCUMENTED[21]),
        ("help everything", ONE, "there is no help on `everything`", DOCUMENTED[0]),
    ],
)
def test_usage_errors_name_the_problem_and_show_the_form(text, context, message, usage):
    result = parse(text, context)
    assert isinstance(result, UsageError), result
    assert message in result.message
    if usage is not None:
        assert usage in result.usage
    assert "secret" not in result.message  # a webhook URL typed without its key is not echoed back


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("rpo info api", "`repo`"),
        ("subscibe team-a", "`subscribe`"),
        ("repo infp api", "`repo info`"),
        ("notify lst api", "`notify list`"),
        ("repo create api --descripton hi", "`--description`"),
        ("repo list --publik", "`--public`"),
        ("subscribe team-a/api repo_psh", "`repo_push`"),
        ("notify create api push webhook url=https://x.example", "repo_push"),
        ("notify create api repo_push webhok url=https://x.example", "webhook"),
        # Nothing near enough: no guess.
        ("frobnicate", None),
        ("repo frob api", None),
        ("repo create api --colour red", None),
        ("subscribe team-a " + "x" * 200, None),
    ],
)
def test_a_near_miss_is_answered_with_what_was_meant(text, meant):
    result = parse(text, ONE)
    assert isinstance(result, UsageError), result
    if meant is None:
        assert "did you mean" not in result.message
    else:
        assert f"did you mean {meant}?" in result.message


def test_an_unknown_command_with_a_guess_says_the_guess_first():
    result = parse("rpo info api", ONE)
    assert isinstance(result, UsageError)
    assert result.message == "unknown command `rpo`; did you mean `repo`?"
    assert "repo …" in result.usage


def test_the_guess_is_said_in_the_channels_language():
    result = parse("repo infp api", ParseContext(("team-a",), "zh-CN"))
    assert isinstance(result, UsageError)
    assert result.message == "未知子命令 `repo infp`；你是不是想输入 `repo info`？"


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("<https://example.com/a|example.com/a>", "https://example.com/a"),
        ("<https://example.com/a>", "https://example.com/a"),
        ("<mailto:a@b.example|a@b.example>", "a@b.example"),
        ("a &amp;&amp; b &lt;x&gt;", "a && b <x>"),
        ("&amp;lt;", "&lt;"),
        ("<@U0AAA> and <#C0123|general>", "<@U0AAA> and <#C0123|general>"),
    ],
)
def test_slack_escapes(raw, plain):
    assert unescape_slack(raw) == plain


def test_destructive_commands():
    assert is_destructive(RepoDelete(API)) and is_destructive(NotifyDelete(API, U))
    assert is_destructive(RepoVisibility(API, "public"))
    assert not is_destructive(RepoVisibility(API, "private"))
    assert not any(is_destructive(c) for c in (RepoInfo(API), NotifyReset(API, U), RepoCreate(API)))


def test_no_definition_is_maintained_twice():
    """Each usage line names only words the parser accepts."""
    for definition in DEFINITIONS:
        flags = set(re.findall(r"--[a-z-]+", definition.usage))
        assert flags == set(definition.flags), definition.usage
