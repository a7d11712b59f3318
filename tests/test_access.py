"""The access policy: the file's validation, every role x command, every denial reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.access import Allowed, Caller, Denied, Role
from bot.access_file import AccessFileError, load_policy, parse_policy
from bot.commands.grammar import ParseContext
from bot.commands.model import Command, UsageError
from bot.quay import QuayClient
from bot.service import CommandService
from bot.slices import REGISTRY, parse
from bot.slices.help import Help

DEFINITIONS = REGISTRY.definitions

POLICY = """
channels:
  C0READ:
    namespaces: [team-a]
    role: read
  C0WRITE:
    namespaces: [team-a, team-a-staging]
    role: write
    alerts: true
  C0ADMIN:
    namespaces: [team-a]
    role: admin
    users: [U0AAA, U0BBB]
  G0PRIVATE:
    namespaces: team-b
    role: admin
namespaces:
  team-a:
    token_env: QUAY_TOKEN_TEAM_A
"""
ENV = {"QUAY_TOKEN_TEAM_A": "team-a-token"}
DEFAULT = SecretStr("default-token")


@pytest.fixture
def policy():
    return parse_policy(POLICY, "access.yml", ENV, DEFAULT)


def caller(channel: str, user: str = "U0AAA") -> Caller:
    return Caller("T0TEAM", channel, user)


def test_parsed_policy(policy):
    assert set(policy.channels) == {"C0READ", "C0WRITE", "C0ADMIN", "G0PRIVATE"}
    assert policy.channels["C0WRITE"].namespaces == ("team-a", "team-a-staging")
    assert policy.channels["C0WRITE"].alerts and not policy.channels["C0READ"].alerts
    assert policy.channels["C0ADMIN"].users == frozenset({"U0AAA", "U0BBB"})
    assert policy.channels["G0PRIVATE"].namespaces == ("team-b",)
    assert policy.token_for("team-a", DEFAULT).get_secret_value() == "team-a-token"
    assert policy.token_for("team-b", DEFAULT) is DEFAULT
    assert policy.alert_channels("team-a") == ["C0WRITE"] and policy.alert_namespaces() == ["team-a", "team-a-staging"]
    assert "team-a-token" not in repr(policy)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: owner\n",
            "access.yml:4:11: role must be read, write or admin, not `owner`",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\n    colour: red\n",
            "access.yml:5:5: unknown key `colour`",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [Team_A]\n    role: read\n",
            "access.yml:3:18: 'Team_A' is not a valid Quay namespace",
        ),
        (
            "channels:\n  general:\n    namespaces: [a1]\n    role: read\n",
            "access.yml:2:3: `general` is not a Slack channel ID",
        ),
        (
            "channels:\n  D0DM:\n    namespaces: [a1]\n    role: read\n",
            "access.yml:2:3: D0DM looks like a direct message",
        ),
        ("channels:\n  C0X:\n    role: read\n", "access.yml:3:5: channel C0X needs `namespaces`"),
        ("channels:\n  C0X:\n    namespaces: [a1]\n", "access.yml:3:5: channel C0X needs `role`"),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\n    alerts: maybe\n",
            "access.yml:5:13: `alerts` must be true or false",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\n    users: [bob]\n",
            "access.yml:5:13: `bob` is not a Slack user ID",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\n  C0X:\n    namespaces: [a1]\n    role: read\n",
            "access.yml:5:3: `C0X` appears twice",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\nnamespaces:\n  a1:\n    token_env: MISSING_VAR\n",
            "access.yml:7:16: `token_env` MISSING_VAR is not set",
        ),
        (
            "channels:\n  C0X:\n    namespaces: [a1]\n    role: read\nnamespaces:\n  a1: {}\n",
            "access.yml:6:3: namespace `a1` needs `token_env`",
        ),
        ("chanels:\n  C0X: {}\n", "access.yml:1:1: unknown key `chanels`"),
        ("channels: [C0X]\n", "access.yml:1:11: `channels` must be a mapping"),
        ("channels:\n  C0X:\n    namespaces: [a1\n", "access.yml:4:1: not valid YAML"),
        ("", "access.yml: the access file is empty"),
    ],
)
def test_file_problems_are_line_precise(text, problem):
    with pytest.raises(AccessFileError) as info:
        parse_policy(text, "access.yml", {}, DEFAULT)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_all_problems_are_reported_at_once():
    text = "channels:\n  C0X:\n    namespaces: [a1]\n    role: owner\n  C0Y:\n    namespaces: [B!]\n    role: read\n"
    with pytest.raises(AccessFileError) as info:
        parse_policy(text, "access.yml", {}, DEFAULT)
    assert len(info.value.problems) == 2


def test_a_namespace_without_any_token_is_an_error():
    with pytest.raises(AccessFileError, match="has no Quay token: set QUAY_TOKEN or give it a token_env"):
        parse_policy("channels:\n  C0X:\n    namespaces: [a1]\n    role: read\n", "access.yml", {}, None)


def test_missing_file(tmp_path: Path):
    with pytest.raises(AccessFileError, match="does not exist"):
        load_policy(tmp_path / "nope.yml", {}, DEFAULT)


# Roles x commands ------------------------------------------------------------------------------

SAMPLES = {
    "repo list": "repo list team-a",
    "repo create": "repo create team-a/x",
    "repo info": "repo info team-a/x",
    "repo describe": 'repo describe team-a/x "d"',
    "repo visibility": "repo visibility team-a/x private",
    "repo delete": "repo delete team-a/x",
    "notify list": "notify list team-a/x",
    "notify create": "notify create team-a/x repo_push webhook url=https://h.example/x",
    "notify get": "notify get team-a/x 3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
    "notify test": "notify test team-a/x 3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
    "notify reset": "notify reset team-a/x 3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
    "notify delete": "notify delete team-a/x 3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
    "tag list": "tag list team-a/x",
    "tag info": "tag info team-a/x:prod",
    "tag restore": "tag restore team-a/x:prod sha256:" + "a" * 64,
    "tag move": "tag move team-a/x:prod latest",
    "tag expire": "tag expire team-a/x:prod 7d",
    "tag delete": "tag delete team-a/x:prod",
}
NEEDS = {
    "repo list": Role.READ,
    "repo info": Role.READ,
    "notify list": Role.READ,
    "notify get": Role.READ,
    "repo create": Role.WRITE,
    "repo describe": Role.WRITE,
    "notify create": Role.WRITE,
    "notify test": Role.WRITE,
    "notify reset": Role.WRITE,
    "repo visibility": Role.ADMIN,
    "repo delete": Role.ADMIN,
    "notify delete": Role.ADMIN,
    "tag list": Role.READ,
    "tag info": Role.READ,
    "tag restore": Role.WRITE,
    "tag move": Role.WRITE,
    "tag expire": Role.WRITE,
    "tag delete": Role.WRITE,
}


def test_every_command_has_a_sample_and_a_role():
    assert set(SAMPLES) == set(NEEDS) == {d.words for d in DEFINITIONS if d.group}


def command(text: str) -> Command:
    result = parse(text, ParseContext())
    assert not isinstance(result, UsageError), result
    return result


@pytest.fixture
def service(policy):
    return CommandService(policy, QuayClient("http://127.0.0.1:9"), DEFAULT)


@pytest.mark.parametrize("name", sorted(NEEDS))
@pytest.mark.parametrize(("channel", "role"), [("C0READ", Role.READ), ("C0WRITE", Role.WRITE), ("C0ADMIN", Role.ADMIN)])
def test_role_matrix(service, name, channel, role):
    decision = service.authorize(command(SAMPLES[name]), caller(channel))
    if role >= NEEDS[name]:
        assert isinstance(decision, Allowed)
    else:
        assert isinstance(decision, Denied)
        assert f"`{name}` needs the {NEEDS[name].label} role; this channel has {role.label}." == decision.reason
        assert f"give this channel the {NEEDS[name].label} role" in decision.remedy


@pytest.mark.parametrize(
    ("who", "text", "reason", "remedy"),
    [
        (caller("D0DIRECT"), "repo list team-a", "does not act from direct messages", "Run it in a channel"),
        (
            caller("C0UNKNOWN"),
            "repo list team-a",
            "This channel (C0UNKNOWN) is not mapped",
            "map it under `channels:` in the access file (`access.yml`)",
        ),
        (
            caller("C0ADMIN", "U0CCC"),
            "repo list team-a",
            "Only the users listed for this channel",
            "add your user ID (U0CCC)",
        ),
        (
            caller("C0WRITE"),
            "repo list team-b",
            "This channel may act on `team-a`, `team-a-staging`; `team-b` is not one of them.",
            "add `team-b` to this channel's namespaces",
        ),
    ],
)
def test_every_denial_says_why_and_what_would_allow_it(service, who, text, reason, remedy):
    decision = service.authorize(command(text), who)
    assert isinstance(decision, Denied)
    assert reason in decision.reason and remedy in decision.remedy
    # never another channel's mapping
    assert "G0PRIVATE" not in decision.reason + decision.remedy
    if "team-b" in text:
        assert "C0ADMIN" not in decision.remedy and "G0PRIVATE" not in decision.remedy


def test_users_list_allows_listed_users(service):
    assert isinstance(service.authorize(command("repo delete team-a/x"), caller("C0ADMIN", "U0BBB")), Allowed)


async def test_help_is_never_refused_and_shows_only_runnable_commands(service):
    outcome = await service.handle(Help(), caller("C0READ"))
    page = outcome.result
    assert {e.usage.split(" <")[0].split(" [")[0] for e in page.entries} == {
        "repo list",
        "repo info",
        "notify list",
        "notify get",
        "subscriptions",
        "login",
        "logout",
        "whoami",
        "tag list",
        "tag info",
    }
    assert page.hidden == 14 and page.access.role == Role.READ
    unmapped = (await service.handle(Help(), caller("C0UNKNOWN"))).result
    assert unmapped.entries == () and "not mapped" in unmapped.unavailable
