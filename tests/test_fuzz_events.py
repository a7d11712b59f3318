"""Fuzzing the event receiver's payload handling: any body gives a payload or `InvalidEvent`, never
another exception; every payload accepted renders to a message within Slack's limits, alone or
merged with others of its group; Quay's text never becomes Slack markup."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.quay.events import MODELS, InvalidEvent, parse_event
from bot.store.subscriptions import Grouped
from bot.subscriptions.grouping import route
from tests.conftest import examples
from tests.fakes import blockkit
from tests.fakes.quay import payload_for

EVENTS = sorted(MODELS)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["<!channel>", "<https://evil.example|x>", "*bold*", "```", "&amp;", "a|b", "\n", "é" * 600]),
    st.text(min_size=600, max_size=9000),
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=8,
)
TAGS = st.lists(TEXT, max_size=60)


def base(namespace: str = "team-a", name: str = "api") -> dict[str, Any]:
    return payload_for(namespace, name)


FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "updated_tags": TAGS,
        "docker_tags": TAGS,
        "tags": TAGS,
        "build_id": TEXT,
        "build_name": TEXT,
        "trigger_kind": TEXT,
        "error_message": TEXT,
        "is_manual": st.booleans(),
        "trigger_metadata": st.fixed_dictionaries(
            {},
            optional={
                "ref": TEXT,
                "commit": TEXT,
                "commit_info": st.fixed_dictionaries({}, optional={"url": TEXT, "message": TEXT}),
            },
        ),
        "vulnerability": st.fixed_dictionaries(
            {"id": TEXT}, optional={"description": TEXT, "link": TEXT, "priority": TEXT}
        ),
        "expiring_in": TEXT,
        "message": TEXT,
        "homepage": TEXT,
        "docker_url": TEXT,
        "junk": JSON_VALUE,
    },
)


def rendered(event: str, body: bytes, at: float = 1000.0) -> list[dict[str, Any]]:
    try:
        payload = parse_event(event, body)
    except InvalidEvent:
        return []
    routed = route(event, payload, at)
    if not isinstance(routed, Grouped):
        return [routed]
    first = routed.merge(None)
    again = route(event, payload, at + 1)
    assert isinstance(again, Grouped) and again.key == routed.key
    return [routed.render(first), again.render(again.merge(first))]


def check(message: dict[str, Any]) -> None:
    assert blockkit.problems(message) == []
    assert len(message["text"]) <= 3000
    shown = json.dumps(message)
    assert "<!channel>" not in shown and "<https://evil.example|x>" not in shown


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.sampled_from(EVENTS), fields=FIELDS)
def test_any_payload_is_refused_or_renders_within_slacks_limits(event: str, fields: dict[str, Any]):
    for message in rendered(event, json.dumps(base() | fields).encode()):
        check(message)


@settings(max_examples=examples(200), deadline=None)
@given(
    event=st.sampled_from([*EVENTS, "", "quota_warning", "../x"]),
    body=st.binary(max_size=300) | JSON_VALUE.map(lambda v: json.dumps(v).encode()),
)
def test_any_body_is_a_payload_or_invalid_never_a_crash(event: str, body: bytes):
    for message in rendered(event, body):
        check(message)


def test_a_payload_naming_another_repository_than_its_parts_is_invalid():
    body = base() | {"name": "web", "updated_tags": ["v1"]}
    try:
        parse_event("repo_push", json.dumps(body).encode())
    except InvalidEvent as error:
        assert "does not match" in str(error)
    else:
        raise AssertionError("accepted a payload whose repository is not namespace/name")


def test_the_largest_accepted_push_still_fits_one_message():
    body = base() | {"updated_tags": [f"t{i}-" + "x" * 500 for i in range(1000)]}
    [message, merged] = rendered("repo_push", json.dumps(body).encode())
    check(message)
    check(merged)
    shown = json.dumps(message)
    assert re.search(r"and 99\d more", shown) and shown.count("```") == 2  # the pull commands stay whole
