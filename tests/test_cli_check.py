"""`quaybot check` against the fake Quay: what it reports and its exit code."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.checks import check
from bot.settings import Settings
from tests.conftest import BAD, RO, T
from tests.fakes.quay import FakeQuayServer
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack

ACCESS = """
channels:
  C0TEAMA:
    namespaces: [devtable]
    role: write
    alerts: true
"""


@pytest.fixture(autouse=True)
def access_file(tmp_path, monkeypatch):
    path = tmp_path / "access.yml"
    path.write_text(ACCESS)
    monkeypatch.setenv("QUAYBOT_ACCESS_FILE", str(path))
    return path


@pytest.fixture(autouse=True)
def slack(tmp_path, monkeypatch) -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "not-a-real-secret")
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'quaybot.db'}")
    yield fake
    fake.stop()


def settings(url: str, token: str | None) -> Settings:
    return Settings(
        QUAY_URL=url, QUAY_TOKEN=SecretStr(token) if token else None, QUAY_TIMEOUT_SECONDS=2, _env_file=None
    )  # type: ignore[call-arg]


async def run_check(url: str, token: str | None) -> tuple[int, str]:
    out = io.StringIO()
    code = await check(settings(url, token), out)
    return code, out.getvalue()


async def test_access_file_is_validated(quay: FakeQuayServer, access_file) -> None:
    code, text = await run_check(quay.url, T)
    assert "1 channel(s) mapped; 1 namespace(s) watched" in text and code == 0
    access_file.write_text("channels:\n  C0TEAMA:\n    namespaces: [devtable]\n    role: owner\n")
    code, text = await run_check(quay.url, T)
    assert code == 1
    assert f"{access_file}:4:11: role must be read, write or admin, not `owner`" in text
    # What this means for the bots: one running keeps its policy, one starting refuses.
    assert "keeps the policy it last loaded" in text and "would refuse to start" in text


async def test_good_token(quay: FakeQuayServer) -> None:
    code, text = await run_check(quay.url, T)
    assert code == 0
    assert "API version v1" in text and "token user: devtable; organizations: buynlarge" in text
    assert T not in text


@pytest.mark.parametrize("token", [RO, BAD])
async def test_whoami_401_is_explained(quay: FakeQuayServer, token: str) -> None:
    code, text = await run_check(quay.url, token)
    assert code == 1
    assert "lacks the user:read scope" in text and "invalid or expired" in text
    assert token not in text


async def test_missing_token(quay: FakeQuayServer) -> None:
    code, text = await run_check(quay.url, None)
    assert code == 1 and "QUAY_TOKEN is not set" in text


async def test_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, text = await run_check(f"http://127.0.0.1:{port}", T)
    assert code == 1 and "unreachable" in text and "Could not connect" in text
    # The rest is still checked: one run shows everything to fix.
    assert "1 channel(s) mapped" in text and "QUAYBOT_PUBLIC_URL" in text and "1 problem(s) found" in text


async def test_tls_failure(quay: FakeQuayServer) -> None:
    code, text = await run_check(quay.url.replace("http://", "https://"), T)
    assert code == 1 and "TLS" in text and "QUAY_VERIFY_TLS" in text and "Access file:" in text


async def test_the_public_url_for_subscriptions_is_checked(quay: FakeQuayServer, monkeypatch) -> None:
    code, text = await run_check(quay.url, T)
    assert code == 0 and "QUAYBOT_PUBLIC_URL=(not set)" in text and "subscriptions are off" in text
    monkeypatch.setenv("QUAYBOT_PUBLIC_URL", "https://quaybot.internal.example.com/")
    code, text = await run_check(quay.url, T)
    assert code == 0 and "Quay posts events to https://quaybot.internal.example.com/quay/events/<token>" in text
    monkeypatch.setenv("QUAYBOT_PUBLIC_URL", "http://localhost:3000")
    code, text = await run_check(quay.url, T)
    assert code == 1 and "Quay refuses webhook URLs on localhost or 127.0.0.1" in text


async def test_slack_and_the_database_are_checked(quay: FakeQuayServer, tmp_path, monkeypatch) -> None:
    code, text = await run_check(quay.url, T)
    assert code == 0 and "HTTP mode" in text and "bot token accepted: user U0QUAYBOT in team Fake" in text
    assert "Database:" in text and "not created yet: `quaybot serve` creates it" in text
    from bot.store import Database

    db = Database(f"sqlite:///{tmp_path / 'quaybot.db'}")
    db.create_tables()
    db.dispose()
    code, text = await run_check(quay.url, T)
    assert code == 0 and "reachable; schema at revision" in text
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, text = await run_check(quay.url, T)
    assert code == 1 and "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in text and "xoxb-revoked" not in text
    assert "SLACK_SIGNING_SECRET is not set" in text and "2 problem(s) found" in text


async def test_a_database_that_is_not_there_is_a_problem(quay: FakeQuayServer, monkeypatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", f"postgresql+psycopg://quaybot:pw@127.0.0.1:{port}/quaybot")
    code, text = await run_check(quay.url, T)
    assert code == 1 and "is not usable: OperationalError: connection failed" in text and ":pw@" not in text
    assert f"Database: postgresql+psycopg://quaybot:***@127.0.0.1:{port}/quaybot\n" in text


async def test_a_schema_from_a_newer_quaybot_is_a_problem(quay: FakeQuayServer, tmp_path) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'quaybot.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
    engine.dispose()
    code, text_out = await run_check(quay.url, T)
    assert code == 1 and "revision 9999_from_the_future, which this quaybot does not know" in text_out


@pytest.mark.parametrize(
    ("app_token", "said"),
    [
        (APP_TOKEN, "  app token accepted: Socket Mode can connect"),
        ("xapp-1-revoked", "  ! Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token"),
        (BOT_TOKEN, "  ! SLACK_APP_TOKEN is not an app-level token (not_allowed_token_type)"),
        (None, "  ! SLACK_APP_TOKEN is not set: Socket Mode needs it"),
    ],
)
async def test_socket_mode_checks_the_app_token(quay: FakeQuayServer, monkeypatch, app_token, said) -> None:
    monkeypatch.setenv("QUAYBOT_MODE", "socket")
    if app_token is not None:
        monkeypatch.setenv("SLACK_APP_TOKEN", app_token)
    code, text = await run_check(quay.url, T)
    assert "Slack: Socket Mode" in text and said in text, text
    assert code == (0 if app_token == APP_TOKEN else 1)
    assert "xapp-1-revoked" not in text


PEOPLE_ACCESS = """
channels:
  C0TEAMA:
    namespaces: [buynlarge]
    role: admin
    identity: user
    approval: [repo delete]
guardrails:
  - name: no public repositories
    namespaces: ["buyn*"]
    deny: ["repo visibility public"]
audit_channel: C0AUDIT
"""


def linking(monkeypatch, redirect: str = "https://bot.example.com") -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("QUAY_OAUTH_CLIENT_ID", "CLIENTID")
    monkeypatch.setenv("QUAY_OAUTH_CLIENT_SECRET", "the-secret")
    monkeypatch.setenv("QUAYBOT_PUBLIC_URL", redirect)
    monkeypatch.setenv("QUAYBOT_SECRET_KEY", Fernet.generate_key().decode())


async def test_people_settings_and_the_policy_above_the_channels_are_shown(quay, access_file, monkeypatch) -> None:
    access_file.write_text(PEOPLE_ACCESS)
    quay.fake.oauth.add_application("CLIENTID", "the-secret", "buynlarge", "https://bot.example.com/quay/oauth")
    linking(monkeypatch)
    code, text = await run_check(quay.url, T)
    assert "acting as each person's own Quay account: C0TEAMA" in text
    assert "C0TEAMA needs a second person for: repo delete" in text
    assert "guardrail “no public repositories”: in buyn*, deny repo visibility public" in text
    assert "audit channel: C0AUDIT" in text
    assert "application 'quaybot' of the organization buynlarge" in text
    assert "redirect URI accepted: https://bot.example.com/quay/oauth/callback" in text
    assert code == 0 and "the-secret" not in text


async def test_a_redirect_uri_quay_would_refuse_and_a_wrong_secret_are_problems(quay, access_file, monkeypatch) -> None:
    quay.fake.oauth.add_application("CLIENTID", "another-secret", "buynlarge", "https://elsewhere.example.com/cb")
    linking(monkeypatch)
    code, text = await run_check(quay.url, T)
    assert "Quay would refuse this bot's https://bot.example.com/quay/oauth/callback" in text
    assert "QUAY_OAUTH_CLIENT_SECRET is not the application's client secret" in text
    assert code == 1 and "another-secret" not in text


async def test_an_unknown_application_and_missing_settings_are_said(quay, access_file, monkeypatch) -> None:
    linking(monkeypatch)
    code, text = await run_check(quay.url, T)
    assert "Quay has no OAuth application with the client id CLIENTID" in text and code == 1
    monkeypatch.delenv("QUAYBOT_SECRET_KEY")
    access_file.write_text(PEOPLE_ACCESS)
    code, text = await run_check(quay.url, T)
    assert "QUAYBOT_SECRET_KEY not set" in text and "those channels run nothing until linking is set up" in text


async def test_approvals_and_guardrails_must_name_commands(quay, access_file) -> None:
    access_file.write_text(PEOPLE_ACCESS.replace("approval: [repo delete]", "approval: [repo delet]"))
    code, text = await run_check(quay.url, T)
    assert "`repo delet` is not a command" in text and code == 1
