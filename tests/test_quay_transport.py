"""The Quay client's own transport (httpx over aiohttp): what the rest of the client suite cannot
reach through the fake Quay: TLS with a real certificate, compressed answers, an oversized answer,
cookies a server sets, and that connections are reused."""

from __future__ import annotations

import gzip
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from aiohttp import web
from pydantic import SecretStr

from bot.quay import QuayClient, QuayTLSError, RepositoryRef
from bot.quay.transport import MAX_BODY, AiohttpTransport
from tests.conftest import FAST_RETRY, T, seed
from tests.fakes.quay import FakeQuay, FakeQuayServer

SIMPLE = RepositoryRef("devtable", "simple")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_quay(ca: trustme.CA) -> Iterator[FakeQuayServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeQuayServer(seed(FakeQuay()), tls=context) as server:
        yield server


async def test_an_untrusted_certificate_is_a_tls_error_that_names_the_setting(https_quay: FakeQuayServer) -> None:
    async with QuayClient(https_quay.url, SecretStr(T), retry=FAST_RETRY) as client:
        with pytest.raises(QuayTLSError, match=r"(?s)certificate verify failed.*QUAY_VERIFY_TLS"):
            await client.get_repository(SIMPLE)
    assert https_quay.fake.requests_to("GET") == []


async def test_the_ca_bundle_of_quay_verify_tls_is_trusted(
    https_quay: FakeQuayServer, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "quay-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with QuayClient(https_quay.url, SecretStr(T), verify=bundle, retry=FAST_RETRY) as client:
        assert (await client.get_repository(SIMPLE)).name == "simple"
    async with QuayClient(https_quay.url, SecretStr(T), verify=False, retry=FAST_RETRY) as client:
        assert (await client.get_repository(SIMPLE)).name == "simple"


@dataclass
class OddServer:
    url: str
    cookies_seen: list[str | None]
    accepted_encodings: list[str | None]


@pytest.fixture
async def odd_server() -> AsyncIterator[OddServer]:
    """A server answering what a proxy in front of Quay may: gzip, far too much, or a cookie."""

    async def gzipped(request: web.Request) -> web.Response:
        body = json.dumps({"namespace": "devtable", "name": "simple", "description": "zipped"}).encode()
        return web.Response(
            body=gzip.compress(body), headers={"Content-Encoding": "gzip"}, content_type="application/json"
        )

    async def repository_gzipped(request: web.Request) -> web.Response:
        # What nginx in front of Quay does with `gzip on`: compress JSON for a client that asks.
        accepted.append(request.headers.get("Accept-Encoding"))
        body = {"namespace": "zipped", "name": "simple", "kind": "image", "is_public": False, "description": "zipped"}
        body |= {"can_write": True, "can_admin": True, "is_starred": False, "state": "NORMAL"}
        raw = json.dumps(body).encode()
        if "gzip" not in request.headers.get("Accept-Encoding", ""):
            return web.Response(body=raw, content_type="application/json")
        return web.Response(
            body=gzip.compress(raw), headers={"Content-Encoding": "gzip"}, content_type="application/json"
        )

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b" " * 65536
        for _ in range(MAX_BODY // len(chunk) + 2):
            await response.write(chunk)
        return response

    async def repository(request: web.Request) -> web.Response:
        # Quay behind a load balancer may set a session or affinity cookie on any answer.
        cookies_seen.append(request.headers.get("Cookie"))
        body = {"namespace": "devtable", "name": "simple", "kind": "image", "is_public": False, "description": None}
        body |= {"can_write": True, "can_admin": True, "is_starred": False, "state": "NORMAL"}
        return web.json_response(body, headers={"Set-Cookie": "session=for-the-first-token; Path=/"})

    cookies_seen: list[str | None] = []  # the Cookie header of each request for a repository
    accepted: list[str | None] = []  # the Accept-Encoding of each request for zipped/simple
    app = web.Application()
    app.add_routes(
        [
            web.get("/gzip", gzipped),
            web.get("/huge", huge),
            web.get("/api/v1/repository/zipped/simple", repository_gzipped),
            web.get("/api/v1/repository/{ns}/{name}", repository),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield OddServer(f"http://127.0.0.1:{runner.addresses[0][1]}", cookies_seen, accepted)
    await runner.cleanup()


def transport() -> AiohttpTransport:
    return AiohttpTransport(ssl_context=ssl.create_default_context(), max_connections=2)


async def test_a_compressed_answer_is_decoded(odd_server: OddServer) -> None:
    async with httpx.AsyncClient(base_url=odd_server.url, transport=transport()) as http:
        response = await http.get("/gzip")
    assert response.json()["description"] == "zipped"


async def test_the_client_asks_for_and_reads_a_compressed_answer(odd_server: OddServer) -> None:
    async with QuayClient(odd_server.url, SecretStr(T), retry=FAST_RETRY) as client:
        repository = await client.get_repository(RepositoryRef("zipped", "simple"), include_tags=False)
    assert repository.description == "zipped"
    assert odd_server.accepted_encodings == ["gzip, deflate"]


async def test_an_oversized_answer_is_refused_not_buffered(odd_server: OddServer) -> None:
    async with httpx.AsyncClient(base_url=odd_server.url, transport=transport()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="larger than"):
            await http.get("/huge")


async def test_connections_are_reused(quay: FakeQuayServer) -> None:
    before = quay.fake.connections
    async with QuayClient(quay.url, SecretStr(T), retry=FAST_RETRY, max_connections=2) as client:
        for _ in range(20):
            await client.get_repository(SIMPLE)
    assert len(quay.fake.requests_to("GET")) == 20 and quay.fake.connections - before == 1


async def test_no_cookie_set_in_answer_to_one_token_rides_along_with_another(odd_server: OddServer) -> None:
    async with QuayClient(odd_server.url, SecretStr("token-of-team-a"), retry=FAST_RETRY) as first:
        await first.get_repository(SIMPLE, include_tags=False)
        await first.with_token(SecretStr("token-of-team-b")).get_repository(SIMPLE, include_tags=False)
        await first.get_repository(SIMPLE, include_tags=False)
    assert odd_server.cookies_seen == [None, None, None]
