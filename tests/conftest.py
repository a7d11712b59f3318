"""Shared fixtures: a fake Quay on 127.0.0.1 seeded like the live server in quay-api-observed.md."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from bot import egress
from bot.quay import QuayClient, RetryPolicy
from tests.fakes.dns import documentation_names
from tests.fakes.postgres import PostgresServer
from tests.fakes.quay import FakeQuay, FakeQuayServer

# Tokens named as in quay-api-observed.md: T (devtable, full scopes), RO (devtable, repo:read only),
# FU (freshuser), plus BAD, a token Quay does not know.
T = "t-devtable-full-0000000000000000000000000"
RO = "ro-devtable-readonly-00000000000000000000"
FU = "fu-freshuser-full-0000000000000000000000"
BAD = "bad-random-0000000000000000000000000000"


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or real credential from the machine may leak into a test."""
    for name in list(os.environ):
        if name.upper().endswith("_PROXY") or name.startswith(("QUAY", "SLACK_", "QUAYBOT_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS here: the names tests give webhooks resolve as `tests/fakes/dns.py` says."""
    monkeypatch.setattr(egress, "system_resolver", documentation_names)


def seed(fake: FakeQuay) -> FakeQuay:
    fake.add_user("devtable")
    fake.add_user("freshuser")
    fake.add_org("buynlarge", admins=["devtable"])
    fake.add_team("buynlarge", "readers", ["freshuser"])
    fake.add_token(T, "devtable")
    fake.add_token(RO, "devtable", "repo:read")
    fake.add_token(FU, "freshuser")
    fake.add_repo("devtable/simple", description="Simple repository.", tags=["latest", "prod"], owner="devtable")
    fake.add_repo("buynlarge/orgrepo", description=None, owner="devtable")
    fake.add_repo("buynlarge/public-repo", public=True, description="Public.")
    return fake


@pytest.fixture
def quay() -> Iterator[FakeQuayServer]:
    with FakeQuayServer(seed(FakeQuay())) as server:
        yield server


@pytest.fixture
def fake(quay: FakeQuayServer) -> FakeQuay:
    return quay.fake


def examples(count: int) -> int:
    """A fuzzer's number of examples: `count` in CI, `count` × QUAYBOT_FUZZ_SCALE under `make fuzz`
    (15), which hunts longer with the same properties."""
    return count * int(os.environ.get("QUAYBOT_FUZZ_SCALE", "1"))


FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, total_seconds=2.0)


@pytest.fixture
async def client(quay: FakeQuayServer) -> AsyncIterator[QuayClient]:
    async with QuayClient(quay.url, SecretStr(T), timeout=2.0, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session; tests create their own databases in it."""
    server = PostgresServer().start()
    yield server
    server.stop()
