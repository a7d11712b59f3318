"""Refused Slack requests: counted every time, told to the operator at most once a minute per kind."""

from __future__ import annotations

import logging

import pytest

from bot.metrics import Metrics
from bot.slack.refusals import Refusals


def test_each_kind_is_told_once_a_minute_with_how_many_came_since(caplog: pytest.LogCaptureFixture):
    now = [1000.0]
    refusals = Refusals(Metrics(), every=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.slack.refusals"):
        for _ in range(3):
            refusals.refused("signature_mismatch")
        refusals.refused("signature_stale")  # another kind is told at once
        now[0] += 59.0
        refusals.refused("signature_mismatch")
        now[0] += 1.0
        refusals.refused("signature_mismatch")
        refusals.refused("malformed")  # counted only: a bug or a probe, not a setting to fix
        for _ in range(2):
            refusals.refused("unsupported")  # Slack sending what the manifest does not declare: told
    told = [(r.reason, r.refused) for r in caplog.records]  # type: ignore[attr-defined]
    assert told == [("signature_mismatch", 1), ("signature_stale", 1), ("signature_mismatch", 4), ("unsupported", 1)]
    assert "manifest.yml" in caplog.records[-1].getMessage()
    metrics = refusals.metrics.render().decode()
    assert 'quaybot_slack_requests_refused_total{reason="signature_mismatch"} 5.0' in metrics
    assert 'quaybot_slack_requests_refused_total{reason="malformed"} 1.0' in metrics
