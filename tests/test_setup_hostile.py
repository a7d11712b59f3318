"""The setup page under hostile input, without a browser: values that try to break out of their HTML,
bodies too large or not forms at all, and forms posted out of order. Never a 500, never a value
written back unescaped, never a secret echoed, nothing written to disk."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.setup.flow import Setup
from bot.setup.page import SetupPage
from tests.conftest import T, examples
from tests.fakes.quay import FakeQuayServer

HOSTILE = [
    '"><script>alert(1)</script>',
    "javascript:alert(1)",
    "</pre><img src=x onerror=alert(1)>",
    "\x00\x1b[31m",
    "a" * 5000,
    "#" + "x" * 300,
    "C0" + "A" * 2000,
    "' OR 1=1 --",
    "{{7*7}}",
    "\u202egnp.exe",
]


class Running:
    def __init__(self, setup: Setup) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.page = SetupPage(setup)
        self.run(self.page.start())
        base = f"http://127.0.0.1:{self.page.port}"
        self.client = httpx.Client(base_url=base, headers={"Origin": base}, timeout=30)
        assert self.client.get(self.page.url).status_code in (200, 303)

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def close(self) -> None:
        self.client.close()
        self.run(self.page.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    made = Running(Setup(tmp_path, slack_api_url="http://127.0.0.1:9/api/"))
    yield made
    made.close()


def assert_safe(answer: httpx.Response, *given: str) -> None:
    assert answer.status_code < 500, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    for value in given:
        if any(c in value for c in "<>\"'"):
            assert value not in answer.text  # written back, if at all, escaped
    assert "<script" not in answer.text.lower()


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_quay_fields_are_escaped_and_nothing_is_kept(running: Running, value: str, tmp_path: Path):
    answer = running.client.post("/quay", data={"url": value, "token": value})
    assert_safe(answer, value)
    assert running.page.setup.quay is None and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_access_rows_are_refused_in_words(running: Running, quay: FakeQuayServer, value: str):
    assert running.client.post("/quay", data={"url": quay.url, "token": T}).status_code == 303
    form = {"use-0": "on", "namespace-0": value, "channel-0": value, "role-0": value}
    answer = running.client.post("/access", data=form)
    assert_safe(answer, value)
    assert answer.status_code == 400 and 'id="problem"' in answer.text
    assert running.page.setup.plan.mappings == []


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(["mode", "public_url", "bot_token", "app_token", "signing_secret",
                                               "replace", "use-0", "channel-0"]), st.text(max_size=300), max_size=6),
       path=st.sampled_from(["/quay", "/access", "/slack/mode", "/slack", "/write", "/serve"]))  # fmt: skip
def test_any_form_to_any_step_is_answered_without_a_500(running: Running, fields: dict[str, str], path: str):
    answer = running.client.post(path, data=fields)
    assert_safe(answer, *fields.values())
    assert not running.page.serve.is_set() and running.page.setup.written is None


def test_bodies_that_are_not_forms_or_too_large(running: Running):
    assert (
        running.client.post("/quay", content=b"\xff\xfe" * 10, headers={"Content-Type": "text/plain"}).status_code < 500
    )
    too_large = running.client.post("/quay", content=b"url=" + b"a" * 200_000,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert too_large.status_code == 413
