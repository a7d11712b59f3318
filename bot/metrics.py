"""Prometheus metrics, in a registry of their own (one per bot instance, so tests do not collide)."""

from __future__ import annotations

import functools
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Quay paths carry names and UUIDs; labels must not, or every repository becomes a time series.
_ENDPOINTS = [
    (
        re.compile(r"^/api/v1/repository/.+/notification/[^/]+/test$"),
        "/api/v1/repository/{repo}/notification/{uuid}/test",
    ),
    (re.compile(r"^/api/v1/repository/.+/notification/[^/]+$"), "/api/v1/repository/{repo}/notification/{uuid}"),
    (re.compile(r"^/api/v1/repository/.+/notification/$"), "/api/v1/repository/{repo}/notification/"),
    (re.compile(r"^/api/v1/repository/.+/changevisibility$"), "/api/v1/repository/{repo}/changevisibility"),
    (re.compile(r"^/api/v1/repository/.+$"), "/api/v1/repository/{repo}"),
    (re.compile(r"^/api/v1/organization/[^/]+$"), "/api/v1/organization/{org}"),
]


@functools.lru_cache(maxsize=4096)  # a few endpoints per repository: matched once each
def endpoint_template(method: str, path: str) -> str:
    for pattern, template in _ENDPOINTS:
        if pattern.match(path):
            return f"{method} {template}"
    return f"{method} {path}"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "quaybot_commands", "/quay commands handled", ["command", "outcome"], registry=self.registry
        )
        self.denials = Counter(
            "quaybot_denials", "commands refused by the access policy", ["command"], registry=self.registry
        )
        self.slack_refused = Counter(
            "quaybot_slack_requests_refused",
            "Slack requests refused before Bolt ran, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.confirmations = Counter(
            "quaybot_confirmations", "confirmation prompts and clicks", ["result"], registry=self.registry
        )
        self.quay_requests = Counter(
            "quaybot_quay_requests", "HTTP exchanges with Quay", ["endpoint", "status"], registry=self.registry
        )
        self.quay_seconds = Histogram(
            "quaybot_quay_request_seconds",
            "latency of Quay requests",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.slack_failures = Counter(
            "quaybot_slack_failures", "replies or posts Slack did not accept", ["kind"], registry=self.registry
        )
        self.up = Gauge("quaybot_up", "1 while the bot serves", registry=self.registry)
        self.socket_connected = Gauge(
            "quaybot_socket_mode_connected",
            "1 while the Socket Mode connection to Slack is up (0 in HTTP mode)",
            registry=self.registry,
        )
        self.sweep_seconds = Histogram(
            "quaybot_watch_sweep_seconds",
            "duration of a notification sweep",
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800),
        )
        self.watch_requests = Counter(
            "quaybot_watch_quay_requests", "HTTP requests the watcher sent to Quay", ["status"], registry=self.registry
        )
        self.alerts = Counter("quaybot_alerts", "alert messages queued, by kind", ["kind"], registry=self.registry)
        self.outbox_depth = Gauge("quaybot_outbox_depth", "Slack messages waiting to be sent", registry=self.registry)
        self.outbox_sent = Counter("quaybot_outbox_sent", "outbox messages delivered", ["kind"], registry=self.registry)
        self.leader = Gauge("quaybot_watch_leader", "1 while this instance leads the watcher", registry=self.registry)
        self.commands_in_flight = Gauge(
            "quaybot_commands_in_flight", "commands doing their work now", registry=self.registry
        )
        self.commands_queued = Gauge(
            "quaybot_commands_queued", "commands acked and waiting for a free slot", registry=self.registry
        )
        self.commands_busy = Counter(
            "quaybot_commands_busy", "commands turned away because the queue was full", registry=self.registry
        )
        self.access_reloads = Counter(
            "quaybot_access_reloads",
            "access file reloads: ok, or invalid (the policy in force stayed)",
            ["result"],
            registry=self.registry,
        )
        self.outbox_dead = Gauge(
            "quaybot_outbox_dead_rows",
            "messages Slack refused for good, set aside (quaybot outbox)",
            registry=self.registry,
        )
        self.outbox_dead_total = Counter(
            "quaybot_outbox_dead", "messages set aside as dead since start", registry=self.registry
        )
        self.first_pass_checked = Gauge(
            "quaybot_watch_first_pass_checked",
            "repositories read at least once since the namespace was first watched",
            ["namespace"],
            registry=self.registry,
        )
        self.watch_source = Gauge(
            "quaybot_watch_source",
            "1 for the source the watch sees a namespace's changes with: its usage logs, or the listing",
            ["namespace", "source"],
            registry=self.registry,
        )
        self.feed_requests = Counter(
            "quaybot_watch_log_requests",
            "requests for a namespace's usage logs (what the feed costs)",
            ["namespace"],
            registry=self.registry,
        )
        self.inventory_size = Gauge(
            "quaybot_watch_repositories", "repositories in a watched namespace", ["namespace"], registry=self.registry
        )
        self.watch_reads = Counter(
            "quaybot_watch_reads",
            "notification lists read, by why: push (a push hint), follow (a scheduled re-read), rotation",
            ["reason"],
            registry=self.registry,
        )
        self.events_received = Counter(
            "quaybot_quay_events",
            "Quay webhook deliveries to /quay/events, by verdict: posted, dropped, unknown, too_large, invalid, "
            "unreadable (a body cut off or too slow)",
            ["verdict"],
            registry=self.registry,
        )
        self.subscription_hooks = Counter(
            "quaybot_subscription_hooks",
            "Quay notifications the bot created or deleted for subscriptions",
            ["change"],
            registry=self.registry,
        )

    def observe_quay(self, method: str, path: str, outcome: str, seconds: float) -> None:
        endpoint = endpoint_template(method, path)
        self.quay_requests.labels(endpoint, outcome).inc()
        self.quay_seconds.labels(endpoint).observe(seconds)

    def observe_watch(self, method: str, path: str, outcome: str, seconds: float) -> None:
        self.observe_quay(method, path, outcome, seconds)
        self.watch_requests.labels(outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
