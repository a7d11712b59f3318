"""Settings: exact variable names, defaults, and one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsProblem, load_settings


def test_defaults_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com/")
    monkeypatch.setenv("QUAY_TOKEN", "quay-secret-token")
    s = load_settings(env_file=None)
    assert s.quay_url == "https://quay.example.com"
    assert s.quay_verify_tls is True and s.quay_timeout_seconds == 10
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.access_file == Path("access.yml") and s.database_url == "sqlite:///quaybot.db"
    assert (s.mode, s.http_port, s.alert_interval_seconds, s.confirm_ttl_seconds) == ("http", 3000, 60, 600)
    assert "quay-secret-token" not in repr(s) and "quay-secret-token" not in str(s.model_dump())


def test_every_reserved_name_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = {
        "QUAY_URL": "http://quay.local",
        "QUAY_TIMEOUT_SECONDS": "2.5",
        "QUAY_VERIFY_TLS": "false",
        "SLACK_BOT_TOKEN": "xoxb-fake",
        "SLACK_SIGNING_SECRET": "fake-secret",
        "SLACK_APP_TOKEN": "xapp-fake",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "QUAYBOT_ACCESS_FILE": str(tmp_path / "a.yml"),
        "QUAYBOT_DATABASE_URL": "sqlite:///x.db",
        "QUAYBOT_HTTP_HOST": "0.0.0.0",
        "QUAYBOT_HTTP_PORT": "0",
        "QUAYBOT_ALERT_INTERVAL_SECONDS": "5",
        "QUAYBOT_CONFIRM_TTL_SECONDS": "30",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    s = load_settings(env_file=None)
    assert s.quay_timeout_seconds == 2.5 and s.quay_verify_tls is False
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
    assert s.mode == "socket"  # the default once SLACK_APP_TOKEN is set
    assert (s.http_host, s.http_port, s.alert_interval_seconds, s.confirm_ttl_seconds) == (
        "0.0.0.0",
        0,
        5,
        30,
    )
    assert s.slack_bot_token is not None and s.slack_bot_token.get_secret_value() == "xoxb-fake"
    monkeypatch.setenv("QUAYBOT_MODE", "http")
    assert load_settings(env_file=None).mode == "http"


def test_ca_bundle_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com")
    monkeypatch.setenv("QUAY_VERIFY_TLS", str(bundle))
    assert load_settings(env_file=None).quay_verify_tls == bundle
    monkeypatch.setenv("QUAY_VERIFY_TLS", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsProblem, match=r"^QUAY_VERIFY_TLS: must be true, false or the path"):
        load_settings(env_file=None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "QUAY_URL is not set"),
        ({"QUAY_URL": "quay.example.com"}, "QUAY_URL: must be an http(s) URL"),
        ({"QUAY_URL": "https://q.example.com/api/v1"}, "QUAY_URL: must be the Quay base URL"),
        ({"QUAY_URL": "https://q", "QUAY_TIMEOUT_SECONDS": "soon"}, "QUAY_TIMEOUT_SECONDS: "),
        ({"QUAY_URL": "https://q", "QUAYBOT_HTTP_PORT": "70000"}, "QUAYBOT_HTTP_PORT: "),
        ({"QUAY_URL": "https://q", "QUAYBOT_MODE": "carrier"}, "QUAYBOT_MODE: "),
    ],
)
def test_problems_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsProblem) as info:
        load_settings(env_file=None)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value) and "pydantic" not in str(info.value)


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("QUAY_URL=https://from-dotenv.example.com\nQUAYBOT_HTTP_PORT=4000\n")
    s = load_settings(env_file=env_file)
    assert (s.quay_url, s.http_port) == ("https://from-dotenv.example.com", 4000)
    assert isinstance(s, Settings)


def quaybot_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`quaybot check` as a new operator runs it: in an empty directory, with only `env` set."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin", **env},
    )


def test_cli_reports_a_missing_setting_in_one_line(tmp_path: Path) -> None:
    result = quaybot_check(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "quaybot: configuration error: QUAY_URL is not set"
    assert "Traceback" not in result.stderr


def test_public_url_is_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com")
    assert load_settings(env_file=None).public_url is None
    monkeypatch.setenv("QUAYBOT_PUBLIC_URL", " https://quaybot.internal.example.com/ ")
    assert load_settings(env_file=None).public_url == "https://quaybot.internal.example.com"
    for bad in ("quaybot.internal", "https://quaybot.internal/?x=1", "ftp://quaybot.internal"):
        monkeypatch.setenv("QUAYBOT_PUBLIC_URL", bad)
        with pytest.raises(SettingsProblem) as problem:
            load_settings(env_file=None)
        assert "QUAYBOT_PUBLIC_URL" in str(problem.value)


@pytest.mark.parametrize("variable", ["QUAY_URL", "QUAYBOT_PUBLIC_URL", "SLACK_API_URL"])
@pytest.mark.parametrize("userinfo", ["bob:hunter2@", "bob@", ":hunter2@", "bob:hunter2%40x@"])
def test_a_url_setting_with_a_user_or_password_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, userinfo: str
) -> None:
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com")
    monkeypatch.setenv(variable, f"https://{userinfo}host.example.com/")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(env_file=None)
    said = str(problem.value)
    assert said.startswith(f"{variable}: must not contain a user name or password")
    assert "hunter2" not in said and "bob" not in said


def test_quaybot_check_with_a_password_in_quay_url_says_one_line(tmp_path: Path) -> None:
    result = quaybot_check(tmp_path, QUAY_URL="https://bob:hunter2@127.0.0.1:9/", QUAY_TOKEN="x")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "quaybot: configuration error: QUAY_URL: must not contain a user name or password (user:password@); "
        "the tokens carry the credentials"
    )
    assert "hunter2" not in result.stdout + result.stderr


def test_notify_allowances_are_comma_separated_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUAY_URL", "https://quay.example.com")
    monkeypatch.setenv("QUAYBOT_NOTIFY_ALLOWED_NETWORKS", " 10.20.0.0/16, fd00::/8 ,10.9.8.7")
    monkeypatch.setenv("QUAYBOT_NOTIFY_ALLOWED_HOSTS", "CI.Internal.Example., jenkins.corp.example")
    s = load_settings(env_file=None)
    assert s.notify_allowed_networks == ("10.20.0.0/16", "fd00::/8", "10.9.8.7")
    assert s.notify_allowed_hosts == ("ci.internal.example", "jenkins.corp.example")
    for variable, bad, said in [
        ("QUAYBOT_NOTIFY_ALLOWED_NETWORKS", "10.20.0.0/33", "is not a network"),
        ("QUAYBOT_NOTIFY_ALLOWED_HOSTS", "10.0.0.0/8", "networks go in QUAYBOT_NOTIFY_ALLOWED_NETWORKS"),
    ]:
        monkeypatch.setenv(variable, bad)
        with pytest.raises(SettingsProblem) as problem:
            load_settings(env_file=None)
        assert str(problem.value).startswith(variable) and said in str(problem.value)
        monkeypatch.delenv(variable)
