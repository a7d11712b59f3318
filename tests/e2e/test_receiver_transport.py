"""Quay's deliveries to `POST /quay/events/<token>` as a network brings them: in several TCP writes,
slowly, chunked, near the size limit, or never finished. Each is written to the bot's socket by hand
(no HTTP client would split a body on purpose)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bot.slack import web
from bot.subscriptions.receiver import MAX_BODY
from tests.e2e.test_subscriptions import Subscriptions, parents, subs  # noqa: F401 - the fixture
from tests.e2e.test_watch import flush
from tests.fakes.quay import payload_for


@pytest.fixture
def hook(subs: Subscriptions) -> Iterator[tuple[Subscriptions, str]]:  # noqa: F811 - the imported fixture
    subs.command("subscribe team-a/api")
    url = urlsplit(subs.url_of("repo_push"))
    yield subs, f"{url.path}?{url.query}"


def push_body(tags: list[str], pad: int = 0) -> bytes:
    body = payload_for("team-a", "api", updated_tags=tags)
    if pad:
        body["padding"] = "x" * pad  # Quay's payloads carry fields the bot does not read
    return json.dumps(body).encode()


def exchange(port: int, pieces: list[bytes], pause: float = 0.0, timeout: float = 30.0) -> int:
    """Write `pieces` one `send` each, `pause` seconds apart; the status the bot answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece its own segment
        for piece in pieces:
            conn.sendall(piece)
            if pause:
                time.sleep(pause)
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def head(path: str, length: int | None, port: int, chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json", "Connection: close"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunks(body: bytes, size: int) -> list[bytes]:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in parts] + [b"0\r\n\r\n"]


def posted(suite: Subscriptions, tag: str) -> bool:
    flush(suite.bot)
    return any(f"`{tag}`" in p.text for p in parents(suite.slack, "C0WRITE"))


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("headers and body in two writes", lambda h, b: [h, b]),
        ("body in two writes, no pause", lambda h, b: [h + b[:40], b[40:]]),
        ("one byte at a time", lambda h, b: [h, *[b[i : i + 1] for i in range(len(b))]]),
    ],
)
def test_a_body_in_pieces_is_read_whole(hook, name, split):
    suite, path = hook
    port = suite.bot.server.port
    body = push_body(["split"])
    assert exchange(port, split(head(path, len(body), port), body)) == 200, name
    assert posted(suite, "split")


def test_a_slow_body_is_read_whole(hook):
    suite, path = hook
    port = suite.bot.server.port
    body = push_body(["slow"])
    pieces = [head(path, len(body), port)] + [body[i : i + 50] for i in range(0, len(body), 50)]
    assert exchange(port, pieces, pause=0.05) == 200
    assert posted(suite, "slow")


def test_a_chunked_body_is_read_whole(hook):
    suite, path = hook
    port = suite.bot.server.port
    body = push_body(["chunked"])
    assert exchange(port, [head(path, None, port, chunked=True), *chunks(body, 37)], pause=0.01) == 200
    assert posted(suite, "chunked")


def test_bodies_at_the_limit_are_read_and_beyond_it_refused(hook):
    suite, path = hook
    port = suite.bot.server.port
    pad = 1 + MAX_BODY - len(push_body(["edge"], pad=1))
    at_limit = push_body(["edge"], pad=pad)
    assert len(at_limit) == MAX_BODY
    assert exchange(port, [head(path, len(at_limit), port), at_limit[:30_000], at_limit[30_000:]]) == 200
    assert posted(suite, "edge")
    over = push_body(["over"], pad=pad + 1)
    assert exchange(port, [head(path, len(over), port), over]) == 413
    # Chunked, so no Content-Length says so in advance: refused once the limit is passed.
    assert exchange(port, [head(path, None, port, chunked=True), *chunks(over, 8192)]) == 413
    assert not posted(suite, "over")


def test_a_body_that_never_finishes_is_refused_in_time(hook, monkeypatch):
    suite, path = hook
    port = suite.bot.server.port
    monkeypatch.setattr(web, "BODY_TIMEOUT", 0.5)
    body = push_body(["never"])
    # The client waits 10 s at most: the bot must answer, not leave the connection hanging.
    assert exchange(port, [head(path, len(body), port), body[:-10]], timeout=10) == 408
    metrics = suite.driver.http.get(f"{suite.bot.url}/metrics").text
    assert 'quaybot_quay_events_total{verdict="unreadable"} 1.0' in metrics
    assert not posted(suite, "never")
