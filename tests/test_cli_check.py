"""`quaybot check` against the fake Quay: what it reports and its exit code."""

from __future__ import annotations

import io
import socket

import pytest
from pydantic import SecretStr

from bot.cli import check
from bot.settings import Settings
from tests.conftest import BAD, RO, T
from tests.fakes.quay import FakeQuayServer

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
