"""Traces (OpenTelemetry), optional: `pip install 'quaybot[otel]'` and set
`OTEL_EXPORTER_OTLP_ENDPOINT`. Until a tracer provider is installed (`configure()` or `install()`),
every span here is a shared no-op context: nothing is built per command, not even OpenTelemetry's
non-recording spans.

One trace per command or button (the Slack request, the access decision, each Quay call with its
endpoint and status, the reply) and one per watch sweep. Attributes name channels, users, commands,
namespaces, endpoints and statuses: never a token, a secret or a notification target (commands are
recorded in their masked form).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

log = logging.getLogger(__name__)

try:
    from opentelemetry import trace as _trace
except ImportError:  # the extra is not installed
    _trace = None  # type: ignore[assignment]

TRACER_NAME = "quaybot"
Attributes = Mapping[str, str | int | float | bool]
_OFF: AbstractContextManager[None] = contextlib.nullcontext()
_tracer: Any = None  # OpenTelemetry's Tracer, once a provider is installed


def install(provider: Any) -> None:
    """Make `provider` (an OpenTelemetry TracerProvider) the process's, and record spans with it."""
    global _tracer
    assert _trace is not None
    if isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider):
        _trace.set_tracer_provider(provider)  # OpenTelemetry allows one per process
    _tracer = _trace.get_tracer(TRACER_NAME)


def configure(environ: Mapping[str, str] = os.environ) -> bool:
    """Export over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the extra is installed."""
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    if _trace is None:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is not installed: pip install 'quaybot[otel]'")
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", "quaybot")}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    install(provider)
    log.info("traces are exported over OTLP", extra={"endpoint": environ["OTEL_EXPORTER_OTLP_ENDPOINT"]})
    return True


def span(name: str, attributes: Attributes | None = None) -> AbstractContextManager[Any]:
    """A span, child of the current one; records an exception that escapes it."""
    if _tracer is None:
        return _OFF
    started: AbstractContextManager[Any] = _tracer.start_as_current_span(name, attributes=dict(attributes or {}))
    return started


def set_attributes(current: Any, attributes: Attributes) -> None:
    if current is not None:
        current.set_attributes(dict(attributes))


def quay_call(method: str, path: str, outcome: str, seconds: float) -> None:
    """A finished Quay call as a span of the current trace (the client reports calls after the fact)."""
    if _tracer is None or _trace is None:
        return
    end = time.time_ns()
    call = _tracer.start_span(
        "quay.request",
        start_time=end - int(seconds * 1e9),
        attributes={"http.request.method": method, "quay.endpoint": path, "quay.outcome": outcome},
    )
    if outcome.isdigit():
        call.set_attribute("http.response.status_code", int(outcome))
        if int(outcome) >= 400:
            call.set_status(_trace.Status(_trace.StatusCode.ERROR))
    elif outcome != "ok":
        call.set_status(_trace.Status(_trace.StatusCode.ERROR, outcome))
    call.end(end_time=end)
