"""Traces (OpenTelemetry), optional: `pip install 'quaybot[otel]'` and set
`OTEL_EXPORTER_OTLP_ENDPOINT`. Without both, every span here is a no-op that costs nothing.

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
from collections.abc import Iterator, Mapping
from typing import Any

log = logging.getLogger(__name__)

try:
    from opentelemetry import trace as _trace
except ImportError:  # the extra is not installed
    _trace = None  # type: ignore[assignment]

TRACER_NAME = "quaybot"
Attributes = Mapping[str, str | int | float | bool]


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
    _trace.set_tracer_provider(provider)
    log.info("traces are exported over OTLP", extra={"endpoint": environ["OTEL_EXPORTER_OTLP_ENDPOINT"]})
    return True


@contextlib.contextmanager
def span(name: str, attributes: Attributes | None = None) -> Iterator[Any]:
    """A span, child of the current one; records an exception that escapes it."""
    if _trace is None:
        yield None
        return
    with _trace.get_tracer(TRACER_NAME).start_as_current_span(name, attributes=dict(attributes or {})) as current:
        yield current


def set_attributes(current: Any, attributes: Attributes) -> None:
    if current is not None:
        current.set_attributes(dict(attributes))


def quay_call(method: str, path: str, outcome: str, seconds: float) -> None:
    """A finished Quay call as a span of the current trace (the client reports calls after the fact)."""
    if _trace is None:
        return
    end = time.time_ns()
    tracer = _trace.get_tracer(TRACER_NAME)
    call = tracer.start_span(
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
