"""The parts of people acting as themselves that need no Slack: the access file's new keys, guardrail
rules, sealed tokens and their rotation, logins' single use and expiry, and Quay's redirect rule."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.access import Caller
from bot.access_file import AccessFileError, parse_policy
from bot.cli import main
from bot.guardrails import split_rule
from bot.quay.oauth import OAuthApplication
from bot.sealing import Sealer, Unsealable, key_problem
from bot.slices import COMMAND_NAMES
from bot.store.db import Database
from bot.store.links import LOGIN_SECONDS, LinkStore, Person

TOKEN = SecretStr("t")


def policy(text: str):
    return parse_policy(text, "access.yml", {}, TOKEN, commands=COMMAND_NAMES)


def problems(text: str) -> list[str]:
    with pytest.raises(AccessFileError) as raised:
        policy(text)
    return raised.value.problems


BASE = """
channels:
  C0A:
    namespaces: [team-a]
    role: admin
"""


def test_the_new_keys_are_read():
    read = policy(
        BASE
        + """    identity: user
    approval: [repo delete, "notify   delete"]
guardrails:
  - namespaces: ["prod-*", team-a]
    deny: [repo delete, "notify create * email"]
audit_channel: C0AUDIT
"""
    )
    access = read.channels["C0A"]
    assert access.acts_as_person and access.approval == {"repo delete", "notify delete"}
    assert read.audit_channel == "C0AUDIT"
    [rail] = read.guardrails.rails
    assert [r.text for r in rail.deny] == ["repo delete", "notify create * email"]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("    identity: person\n", "identity must be bot or user, not `person`"),
        ("    approval: [repo remove]\n", "`repo remove` is not a command"),
        ("    approval: {a: b}\n", "`approval` must be a list"),
        ("guardrails: {namespaces: [x]}\n", "`guardrails` must be a list"),
        ("guardrails:\n  - deny: [repo delete]\n", "guardrail 1 needs `namespaces`"),
        ("guardrails:\n  - namespaces: ['*']\n", "guardrail 1 needs `deny`"),
        (
            "guardrails:\n  - namespaces: ['*']\n    deny: [image delete]\n",
            "`image delete` does not start with a command",
        ),
        ("guardrails:\n  - namespaces: ['*']\n    deny: [repo delete]\n    why: x\n", "unknown key `why`"),
        ("audit_channel: general\n", "`audit_channel` must be a Slack channel ID"),
    ],
)
def test_each_mistake_is_said_with_its_line(extra: str, said: str):
    found = problems(BASE + extra)
    assert any(said in p and p.startswith("access.yml:") for p in found), found


def test_a_rule_is_a_command_and_patterns_for_the_words_after_the_repository():
    rule = split_rule("notify create * email", COMMAND_NAMES)
    assert not isinstance(rule, str)
    assert rule.matches("notify create", ["repo_push", "email", "target=a@example.com"])
    assert not rule.matches("notify create", ["repo_push", "webhook", "url=https://x.example"])
    assert not rule.matches("notify delete", ["repo_push", "email"])
    whole = split_rule("repo delete", COMMAND_NAMES)
    assert not isinstance(whole, str) and whole.matches("repo delete", [])


def test_a_guardrail_covers_only_its_namespaces():
    read = policy(BASE + 'guardrails:\n  - namespaces: ["prod-*"]\n    deny: [repo delete]\n')
    caller = Caller("T", "C0A", "U0A")
    assert read.check_guardrails(caller, "prod-api", "repo delete", []) is not None
    assert read.check_guardrails(caller, "team-a", "repo delete", []) is None
    assert read.guardrails.denies_outright("repo delete", ["prod-a", "prod-b"])
    assert not read.guardrails.denies_outright("repo delete", ["prod-a", "team-a"])


@given(st.lists(st.sampled_from(["public", "private", "*", "email", "x?"]), max_size=3))
def test_no_rule_denies_a_command_other_than_its_own(patterns: list[str]):
    rule = split_rule(" ".join(["repo visibility", *patterns]), COMMAND_NAMES)
    assert not isinstance(rule, str)
    for other in COMMAND_NAMES - {"repo visibility"}:
        assert not rule.matches(other, ["public", "private", "email"])


def test_a_sealed_token_opens_with_its_key_only_and_survives_a_rotation(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Sealer(SecretStr(old)).seal(SecretStr("the-token"))
    assert b"the-token" not in sealed
    with pytest.raises(Unsealable):
        Sealer(SecretStr(new)).open(sealed)
    both = Sealer(SecretStr(f"{new}, {old}"))
    assert both.open(sealed).get_secret_value() == "the-token"
    resealed = both.reseal(sealed)
    assert Sealer(SecretStr(new)).open(resealed).get_secret_value() == "the-token"


def test_quaybot_rotate_key_reencrypts_every_stored_token(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    db = Database(url)
    db.create_tables()
    LinkStore(db, Sealer(SecretStr(old))).save(Person("T", "U0A"), "owner", SecretStr("tok"), ("repo:read",), 1.0)
    db.dispose()
    for name, value in {"QUAY_URL": "http://127.0.0.1:9", "QUAYBOT_DATABASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QUAYBOT_SECRET_KEY", new)
    assert main(["rotate-key"]) == 1 and "keep the old key" in capsys.readouterr().err
    monkeypatch.setenv("QUAYBOT_SECRET_KEY", f"{new},{old}")
    assert main(["rotate-key"]) == 0 and "re-encrypted 1 linked token" in capsys.readouterr().out
    db = Database(url)
    link = LinkStore(db, Sealer(SecretStr(new))).get("T", "U0A")
    db.dispose()
    assert link is not None and link.token.get_secret_value() == "tok"


def test_a_key_that_is_not_a_fernet_key_is_refused_without_being_quoted():
    said = key_problem("not-a-key-but-a-secret")
    assert said is not None and "not-a-key-but-a-secret" not in said and "Fernet.generate_key" in said
    assert key_problem(Fernet.generate_key().decode()) is None


def test_a_login_is_bound_to_one_browser_used_once_and_expires(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    db.create_tables()
    links = LinkStore(db, Sealer(SecretStr(Fernet.generate_key().decode())))
    state = links.begin("T", "U0A", 1000.0)
    cookie = links.bind_browser(state, 1001.0)
    assert cookie is not None and links.bind_browser(state, 1002.0) is None  # a second browser: no
    assert links.take(cookie, "another-state", 1003.0) is None
    assert links.take(cookie, state, 1003.0) == Person("T", "U0A")
    assert links.take(cookie, state, 1004.0) is None  # used up
    late = links.begin("T", "U0B", 2000.0)
    late_cookie = links.bind_browser(late, 2001.0)
    assert late_cookie is not None and links.take(late_cookie, None, 2000.0 + LOGIN_SECONDS + 1) is None
    assert links.bind_browser(links.begin("T", "U0C", 3000.0), 3000.0 + LOGIN_SECONDS + 1) is None
    db.dispose()


@pytest.mark.parametrize(
    ("registered", "accepted"),
    [
        ("https://bot.example.com/quay/oauth/callback", True),
        ("https://bot.example.com/", True),
        ("https://bot.example.com", True),
        ("https://BOT.example.com/quay", True),
        ("http://bot.example.com/quay/oauth/callback", False),  # another scheme
        ("https://bot.example.com:8443/quay/oauth/callback", False),  # another port
        ("https://evil.example.com/quay/oauth/callback", False),
        ("https://bot.example.com/other", False),
        ("", False),
    ],
)
def test_quays_redirect_rule(registered: str, accepted: bool):
    app = OAuthApplication("https://quay.example.com", "C", SecretStr("s"), "https://bot.example.com", "user:read")
    assert app.redirect_accepted(registered) is accepted
