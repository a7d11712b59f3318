"""The login pages with an attacker's eye: whatever arrives in the address, the cookie or the body,
a page says what happened in plain words, never runs what it was given, links nothing, keeps every
protective header, and never answers 500."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import examples
from tests.e2e.test_people import ALICE, People, people  # noqa: F401 - the fixture

HOSTILE = [
    "",
    "a" * 3000,  # two of them stay under the HTTP server's 8 KiB request line
    "../../etc/passwd",
    "\x00",
    "状态",
    '"><script>alert(1)</script>',
    "%2e%2e%2f",
    "state with spaces",
    "A" * 32,
]


def protected(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    if response.headers.get("content-type", "").startswith("text/html"):
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "<script>alert(1)</script>" not in response.text


@pytest.fixture
def http(people: People):  # noqa: F811
    with httpx.Client(base_url=people.public_url, trust_env=False, timeout=10, follow_redirects=False) as client:
        yield client


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_addresses_and_cookies_are_answered_plainly(
    people: People,  # noqa: F811
    http: httpx.Client,
    value: str,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.WARNING)
    cookie = value if value.isascii() and value.isprintable() and value.strip() and ";" not in value else "x"
    for response in (
        http.get("/quay/oauth/start", params={"state": value}),
        http.get("/quay/oauth/start", params={"state": value, "assigned": value}),
        http.get("/quay/oauth/callback", params={"code": value, "state": value}),
        http.get("/quay/oauth/callback", params={"code": value}, cookies={"quaybot_login": cookie}),
        http.get("/quay/oauth/callback", params={"error": value}),
        http.get("/quay/oauth/callback", params={"state": value}),
        http.post("/quay/oauth/callback", data={"access_token": value, "state": value}),
        http.post(
            "/quay/oauth/callback", data={"access_token": value or "x", "state": value}, cookies={"quaybot_login": "c"}
        ),
    ):
        protected(response)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "not linked" in people.say("whoami", ALICE).text


def test_a_request_line_too_long_is_refused_without_a_traceback_per_request(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    for _ in range(20):
        assert http.get("/quay/oauth/start", params={"state": "a" * 9000}).status_code == 400
    assert http.get("/healthz").status_code == 200
    server = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(server) <= 1 and all(r.exc_info is None and r.levelno == logging.WARNING for r in server)


def test_a_state_echoed_into_the_page_is_escaped(http: httpx.Client):
    page = http.get("/quay/oauth/callback", params={"state": '"><script>alert(1)</script>'})
    assert page.status_code == 200 and "&quot;&gt;&lt;script&gt;" in page.text
    protected(page)


def test_bodies_too_large_or_without_a_length_are_refused(http: httpx.Client):
    huge = http.post("/quay/oauth/callback", data={"access_token": "x" * 10000}, cookies={"quaybot_login": "c"})
    assert huge.status_code == 400
    chunked = http.post(
        "/quay/oauth/callback",
        content=iter([b"access_token=", b"x" * 100]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        cookies={"quaybot_login": "c"},
    )
    assert chunked.status_code == 400


def test_an_error_from_quay_is_said_not_echoed(http: httpx.Client):
    page = http.get("/quay/oauth/callback", params={"error": "redirect_uri_mismatch"})
    assert page.status_code == 400 and "redirect URI" in page.text
    other = http.get("/quay/oauth/callback", params={"error": "<b>boom</b>"})
    assert "<b>boom</b>" not in other.text and "Nothing was linked" in other.text


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    state=st.text(max_size=80),
    code=st.text(max_size=80),
    token=st.text(max_size=80),
    cookie=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';,\\"'), max_size=40
    ),
)
def test_whatever_comes_back_links_nothing_without_a_login(
    people: People,  # noqa: F811
    http: httpx.Client,
    state: str,
    code: str,
    token: str,
    cookie: str,
):
    cookies = {"quaybot_login": cookie} if cookie else {}
    protected(http.get("/quay/oauth/callback", params={"code": code, "state": state}, cookies=cookies))
    protected(http.post("/quay/oauth/callback", data={"access_token": token, "state": state}, cookies=cookies))
    assert not people.fake.oauth.state.codes  # nothing was asked of Quay
    assert people.bot.run(people.bot.bot.db.run(people.bot.bot.identities.links.count)) == 0
