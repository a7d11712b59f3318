"""`quaybot run` end to end: argv -> settings -> access file -> service -> fake Quay -> output, exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import T
from tests.fakes.quay import FakeQuay, FakeQuayServer, Fault

ACCESS = """
channels:
  C0READ:
    namespaces: [team-a]
    role: read
  C0WRITE:
    namespaces: [team-a]
    role: write
  C0ADMIN:
    namespaces: [team-a, team-b]
    role: admin
    users: [U0AAA]
namespaces:
  team-b:
    token_env: QUAY_TOKEN_TEAM_B
"""
TEAM_B_TOKEN = "team-b-token-0000000000000000000000000"


@pytest.fixture
def env(quay: FakeQuayServer, fake: FakeQuay, tmp_path, monkeypatch):
    fake.add_org("team-a", admins=["devtable"])
    fake.add_user("robot-b")
    fake.add_org("team-b", admins=["robot-b"])
    fake.add_token(TEAM_B_TOKEN, "robot-b")
    fake.add_repo("team-a/api", description="The API", tags=["latest", "v1", "v2"])
    fake.add_repo("team-b/web")
    access = tmp_path / "access.yml"
    access.write_text(ACCESS)
    values = {
        "QUAY_URL": quay.url,
        "QUAY_TOKEN": T,
        "QUAY_TIMEOUT_SECONDS": "3",
        "QUAYBOT_ACCESS_FILE": str(access),
        "QUAY_TOKEN_TEAM_B": TEAM_B_TOKEN,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return values


def run(capsys, channel: str, *words: str, user: str = "U0AAA", flags: tuple[str, ...] = ()) -> tuple[int, str]:
    code = main(["run", "--channel", channel, "--user", user, *flags, "--", *words])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_repo_list_and_info(env, capsys):
    code, out = run(capsys, "C0READ", "repo", "list")
    assert code == 0 and "Repositories in team-a, page 1 (1–1)" in out and "team-a/api" in out and "The API" in out
    code, out = run(capsys, "C0READ", "repo", "info", "api")
    assert code == 0 and "Tags: 3" in out and "Visibility: private" in out


def test_repo_create_describe_and_in_channel_text(env, capsys, fake: FakeQuay):
    code, out = run(capsys, "C0WRITE", "repo", "create", "svc", "--description", "a new service")
    assert code == 0 and "@U0AAA created team-a/svc" in out and "(private)" in out
    assert fake.repos[("team-a", "svc")].description == "a new service"
    code, out = run(capsys, "C0WRITE", "repo", "describe", "svc", "better words")
    assert code == 0 and fake.repos[("team-a", "svc")].description == "better words"


def test_visibility_private_runs_public_needs_confirmation(env, capsys, fake: FakeQuay):
    fake.repos[("team-a", "api")].is_public = True
    code, out = run(capsys, "C0ADMIN", "repo", "visibility", "team-a/api", "private")
    assert code == 0 and not fake.repos[("team-a", "api")].is_public
    code, out = run(capsys, "C0ADMIN", "repo", "visibility", "team-a/api", "public")
    assert code == 3 and "Make team-a/api public?" in out and "--yes" in out
    assert not fake.repos[("team-a", "api")].is_public
    code, out = run(capsys, "C0ADMIN", "repo", "visibility", "team-a/api", "public", flags=("--yes",))
    assert code == 0 and fake.repos[("team-a", "api")].is_public


def test_delete_needs_yes_and_shows_what_goes(env, capsys, fake: FakeQuay):
    fake.add_notification("team-a/api")
    code, out = run(capsys, "C0ADMIN", "repo", "delete", "team-a/api")
    assert code == 3 and "Delete team-a/api?" in out and "Tags: 3" in out and "Notifications: 1" in out
    assert ("team-a", "api") in fake.repos and fake.requests_to("DELETE") == []
    code, out = run(capsys, "C0ADMIN", "repo", "delete", "team-a/api", flags=("--yes",))
    assert code == 0 and ("team-a", "api") not in fake.repos and "deleted team-a/api" in out


def test_delete_of_missing_repository_fails_before_asking(env, capsys):
    code, out = run(capsys, "C0ADMIN", "repo", "delete", "team-a/ghost")
    assert code == 1 and "repo delete failed" in out and "Not found" in out


def test_notification_lifecycle(env, capsys, fake: FakeQuay):
    code, out = run(
        capsys,
        "C0WRITE",
        "notify",
        "create",
        "api",
        "repo_push",
        "slack",
        "url=https://hooks.slack.com/services/T0/B0/SECRET",
        "--title",
        "deploys",
    )
    assert code == 0 and "added a repo_push notification to team-a/api" in out
    assert "SECRET" not in out and "https://hooks.slack.com/••••••" in out
    [uuid] = list(fake.notifications)
    code, out = run(capsys, "C0READ", "notify", "list", "api")
    assert code == 0 and uuid in out and "SECRET" not in out
    code, out = run(capsys, "C0READ", "notify", "get", "api", uuid)
    assert code == 0 and "deploys" in out
    code, out = run(capsys, "C0WRITE", "notify", "test", "api", uuid)
    assert code == 0 and "Quay only queues it" in out and fake.queued_tests == [uuid]
    fake.set_failures(uuid, 3)
    code, out = run(capsys, "C0WRITE", "notify", "test", "api", uuid)
    assert code == 0 and "Not sent" in out and "[Reset failures]" in out and fake.queued_tests == [uuid]
    code, out = run(capsys, "C0WRITE", "notify", "reset", "api", uuid)
    assert code == 0 and fake.notifications[uuid].number_of_failures == 0
    code, out = run(capsys, "C0ADMIN", "notify", "delete", "team-a/api", uuid)
    assert code == 3 and uuid in fake.notifications
    code, out = run(capsys, "C0ADMIN", "notify", "delete", "team-a/api", uuid, flags=("--yes",))
    assert code == 0 and uuid not in fake.notifications


def test_denials_exit_2_and_make_no_quay_call(env, capsys, fake: FakeQuay):
    before = len(fake.requests)
    cases = [
        ("C0READ", ("repo", "create", "x"), "U0AAA", "needs the write role"),
        ("C0WRITE", ("repo", "delete", "team-a/api"), "U0AAA", "needs the admin role"),
        ("C0WRITE", ("repo", "info", "team-b/web"), "U0AAA", "team-b is not one of them"),
        ("C0ADMIN", ("repo", "info", "team-a/api"), "U0ZZZ", "Only the users listed"),
        ("C0NOPE", ("repo", "list", "team-a"), "U0AAA", "is not mapped"),
        ("C0NOPE", ("repo", "list"), "U0AAA", "is not mapped"),  # not "name the namespace", which leads here
        ("D0DM", ("repo", "list", "team-a"), "U0AAA", "direct messages"),
    ]
    for channel, words, user, reason in cases:
        code, out = run(capsys, channel, *words, user=user)
        assert (code, reason in out) == (2, True), out
    assert len(fake.requests) == before


def test_usage_and_quay_errors_exit_1(env, capsys):
    code, out = run(capsys, "C0WRITE", "repo", "create")
    assert code == 1 and "missing <ns>/<name>" in out
    code, out = run(capsys, "C0WRITE", "repo", "create", "api")
    assert code == 1 and "already exists" in out


def test_per_namespace_token_is_used(env, capsys, fake: FakeQuay):
    code, _out = run(capsys, "C0ADMIN", "repo", "info", "team-b/web")
    assert code == 0
    assert fake.requests_to("GET", "/team-b/web$")[-1].headers["authorization"] == f"Bearer {TEAM_B_TOKEN}"
    run(capsys, "C0ADMIN", "repo", "info", "team-a/api")
    assert fake.requests_to("GET", "/team-a/api$")[-1].headers["authorization"] == f"Bearer {T}"


def test_json_output_is_block_kit(env, capsys):
    code, out = run(capsys, "C0READ", "repo", "info", "api", flags=("--json",))
    message = json.loads(out)
    assert code == 0 and message["blocks"][0]["type"] == "header" and message["text"]


def test_quay_down_is_a_clear_error(env, capsys, fake: FakeQuay):
    fake.inject(Fault(status=503, times=20))
    code, out = run(capsys, "C0READ", "repo", "info", "api")
    assert code == 1 and "Quay is unavailable" in out and "Traceback" not in out


def test_bad_access_file_is_reported_with_lines(env, capsys, tmp_path):
    (tmp_path / "access.yml").write_text("channels:\n  C0X:\n    namespaces: [a1]\n    role: boss\n")
    code, out = run(capsys, "C0X", "repo", "list")
    assert code == 1 and "access.yml:4:11: role must be read, write or admin" in out


def test_argument_errors_exit_1_not_2(env, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--user", "U0AAA", "--", "help"])
    assert info.value.code == 1


def test_as_a_real_process(env):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--channel", "C0READ", "--user", "U0AAA", "--", "repo", "info", "api"],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 0 and "team-a/api" in result.stdout and T not in result.stdout + result.stderr


def test_changes_from_the_terminal_are_audited(env, capsys, fake: FakeQuay):
    run(capsys, "C0ADMIN", "repo", "delete", "team-a/api", flags=("--yes",))
    run(capsys, "C0READ", "repo", "create", "nope")  # refused: audited too
    run(capsys, "C0READ", "repo", "info", "api")  # a read: not audited
    assert main(["audit", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["command"], r["outcome"]) for r in rows] == [
        ("repo delete team-a/api", "confirmed_succeeded"),
        ("repo create team-a/nope --private", "refused"),
    ]
    assert {r["channel_id"] for r in rows} == {"C0ADMIN", "C0READ"} and rows[0]["team_id"] == "T0CLI"


def test_a_notification_made_from_the_terminal_is_watched_at_once(env, capsys, tmp_path):
    """A running watch (same database) reads the repository at once, as after a change from Slack."""
    import time

    from bot.store import Database
    from bot.store.inventory import InventoryStore

    code, out = run(
        capsys, "C0WRITE", "notify", "create", "team-a/api", "repo_push", "webhook", "url=https://ci.example.com/h"
    )
    assert code == 0, out
    db = Database(f"sqlite:///{tmp_path / 'quaybot.db'}")
    [due] = InventoryStore(db).due_checks("team-a", time.time())
    assert due.name == "api" and due.has_notifications
    db.dispose()


def test_subscriptions_from_the_terminal_are_the_same_as_from_slack(env, fake: FakeQuay, capsys, monkeypatch):
    code, out = run(capsys, "C0WRITE", "subscribe", "team-a/api", "repo_push")
    assert code == 1 and "QUAYBOT_PUBLIC_URL" in out  # not set: nothing made
    monkeypatch.setenv("QUAYBOT_PUBLIC_URL", "https://quaybot.internal.example.com/")
    code, out = run(capsys, "C0WRITE", "subscribe", "team-a/api", "repo_push")
    assert code == 0 and "1 Quay notification added" in out
    assert "No channel has alerts: true for team-a" in out  # so nobody would hear that Quay cannot reach it
    [hook] = [n for n in fake.notifications.values() if (n.title or "").startswith("quaybot")]
    assert hook.config["url"].startswith("https://quaybot.internal.example.com/quay/events/")
    code, out = run(capsys, "C0WRITE", "subscriptions")
    assert code == 0 and "team-a/api" in out and "repo_push" in out
    assert run(capsys, "C0READ", "unsubscribe", "team-a/api")[0] == 2  # read role: denied
    code, out = run(capsys, "C0WRITE", "unsubscribe", "team-a/api")
    assert code == 0 and "1 Quay notification deleted" in out and hook.uuid not in fake.notifications


def test_the_cli_applies_the_egress_policy_and_the_operators_allowance(env, capsys, fake: FakeQuay, monkeypatch):
    code, out = run(capsys, "C0WRITE", "notify", "create", "api", "repo_push", "webhook", "url=http://10.0.0.5/hook")
    assert code == 2 and "private or internal network" in out and "QUAYBOT_NOTIFY_ALLOWED_NETWORKS" in out
    assert fake.requests_to("POST") == []
    monkeypatch.setenv("QUAYBOT_NOTIFY_ALLOWED_NETWORKS", "10.0.0.0/24")
    code, out = run(capsys, "C0WRITE", "notify", "create", "api", "repo_push", "webhook", "url=http://10.0.0.5/hook")
    assert code == 0 and "added a repo_push notification" in out
