"""Traces: one per command (the Slack request, the access decision, each Quay call with its endpoint
and status, the reply) and one per watch sweep; no token, secret or notification target in them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot import tracing
from tests.conftest import T
from tests.e2e.conftest import ALICE, SIGNING_SECRET
from tests.fakes.slack_api import BOT_TOKEN


class _WhileTesting(InMemorySpanExporter):
    """Keeps spans only during these tests: the provider, once set, stays for the whole session."""

    active = False

    def export(self, spans):
        return super().export(spans) if self.active else SpanExportResult.SUCCESS


EXPORTER = _WhileTesting()


@pytest.fixture(autouse=True)
def spans():
    # The provider is process-wide and can be set once: the first test sets it, all share it.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        tracing.install(provider)
    EXPORTER.clear()
    EXPORTER.active = True
    yield EXPORTER
    EXPORTER.active = False
    EXPORTER.clear()


def finished_after(spans, name: str) -> list:
    """The spans, once one named `name` has ended (it ends just after the reply it covers is sent)."""
    import time

    deadline = time.monotonic() + 5
    while not [s for s in spans.get_finished_spans() if s.name == name] and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(spans.get_finished_spans())


def no_secrets(finished) -> None:
    text = json.dumps([dict(s.attributes or {}) for s in finished]) + " ".join(s.name for s in finished)
    for secret in (T, BOT_TOKEN, SIGNING_SECRET, "secret-path", "SECRETHOOK"):
        assert secret not in text


def test_a_command_is_one_trace(driver, slack, spans):
    sent = driver.slash(
        "notify create team-a/api repo_push webhook url=https://hooks.example.com/SECRETHOOK",
        user=ALICE,
        channel="C0WRITE",
    )
    slack.wait_for(sent.response_id)
    finished = finished_after(spans, "slack.command")
    [root] = [s for s in finished if s.name == "slack.command"]
    in_trace = [s for s in finished if s.context.trace_id == root.context.trace_id]
    names = [s.name for s in in_trace]
    assert {"slack.command", "access.check", "quay.request", "slack.reply"} <= set(names)
    [check] = [s for s in in_trace if s.name == "access.check"]
    assert check.attributes["access.allowed"] is True and check.parent.span_id == root.context.span_id
    assert (
        check.attributes["quay.command"]
        == "notify create team-a/api repo_push webhook 'url=https://hooks.example.com/••••••'"
    )
    calls = [s for s in in_trace if s.name == "quay.request"]
    assert ("POST", "/api/v1/repository/team-a/api/notification/", 201) in [
        (c.attributes["http.request.method"], c.attributes["quay.endpoint"], c.attributes["http.response.status_code"])
        for c in calls
    ]
    assert root.attributes["slack.channel"] == "C0WRITE" and root.attributes["slack.user"] == ALICE
    no_secrets(finished)


def test_a_denial_is_traced_without_any_quay_call(driver, slack, spans):
    sent = driver.slash("repo delete team-a/api", user=ALICE, channel="C0READ")
    slack.wait_for(sent.response_id)
    finished = finished_after(spans, "slack.command")
    [check] = [s for s in finished if s.name == "access.check"]
    assert check.attributes["access.allowed"] is False
    assert not [s for s in finished if s.name == "quay.request"]


def test_a_watch_sweep_is_one_trace(quay, world, slack, tmp_path, spans):
    from tests.e2e.conftest import start, watch_settings

    access = tmp_path / "watch.yml"
    from tests.e2e.conftest import WATCH_ACCESS

    access.write_text(WATCH_ACCESS)
    world.add_notification("team-a/api", failures=1)
    bot = start(watch_settings(quay, slack, tmp_path, access))
    try:
        bot.run(bot.bot.watch.watcher.sweep())
    finally:
        bot.stop()
    finished = spans.get_finished_spans()
    [sweep] = [s for s in finished if s.name == "watch.sweep"]
    reads = [s for s in finished if s.name == "quay.request" and s.context.trace_id == sweep.context.trace_id]
    endpoints = {r.attributes["quay.endpoint"] for r in reads}
    assert "/api/v1/repository" in endpoints and "/api/v1/repository/team-a/api/notification/" in endpoints
    assert sweep.attributes["watch.repositories_read"] == 2
    no_secrets(finished)


def test_tracing_is_off_without_an_endpoint_and_on_with_one():
    assert tracing.configure({}) is False
    code = "from bot import tracing; print(tracing.configure({'OTEL_EXPORTER_OTLP_ENDPOINT': 'http://127.0.0.1:9'}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr
