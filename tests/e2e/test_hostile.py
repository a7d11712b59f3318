"""Hostile input through the whole request path: fuzzed bodies and payloads, names built to escape,
and secrets that must never come out anywhere."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.blocks import forms, ids
from bot.blocks.forms import EVENT_SELECT, METHOD_SELECT
from bot.logs import JsonFormatter, SecretFilter
from tests.conftest import T, examples, seed
from tests.e2e.conftest import (
    ACCESS,
    ALICE,
    SIGNING_SECRET,
    BotThread,
    make_settings,
    seed_teams,
    start_in_socket_mode,
)
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_socket import FakeSocketMode

CHANNELS = ["C0READ", "C0WRITE", "C0ADMIN", "C0NOPE", "D0DM", "", "C0READ\u0000", "x" * 300]
USERS = [ALICE, "U0BOB", "U0MALLORY", "", "<@U0ALICE>"]
# Every Quay path the bot may reach: the one mapped namespace, and nothing that escapes it.
ALLOWED_PATH = re.compile(
    r"^/api/v1/repository(/team-a/[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*"
    r"(/changevisibility|/notification/([0-9a-f-]{36}(/test)?)?)?)?$"
)


class Tracebacks(logging.Handler):
    """Errors logged with a traceback: a listener that crashed after its request was acked shows
    nowhere else (the HTTP answer had already gone)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


class World:
    """Fakes and a running bot shared by all examples of a property (hypothesis needs it module-wide)."""

    def __init__(self, tmp: Path, *, socket_mode: bool = False) -> None:
        self.tracebacks = Tracebacks()
        logging.getLogger().addHandler(self.tracebacks)
        self.quay = FakeQuayServer(seed(FakeQuay())).start()
        seed_teams(self.quay.fake)
        self.slack = FakeSlack().start()
        access = tmp / "access.yml"
        access.write_text(ACCESS)
        self.socket: FakeSocketMode | None = None
        if socket_mode:
            self.bot, self.socket = start_in_socket_mode(self.quay.url, self.slack, tmp, access)
        else:
            self.bot = BotThread(make_settings(self.quay.url, self.slack, tmp, access))
        self.driver = SlackDriver(self.bot.url, SIGNING_SECRET, self.slack)

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.tracebacks)
        self.driver.close()
        self.bot.stop()
        if self.socket is not None:
            self.socket.stop()
        self.slack.stop()
        self.quay.stop()

    def quay_paths(self) -> list[str]:
        with self.quay.fake.lock:
            return [r.path for r in self.quay.fake.requests]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("hostile"))
    yield w
    w.stop()


@pytest.fixture(scope="module")
def socket_world(tmp_path_factory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("hostile-socket"), socket_mode=True)
    yield w
    w.stop()


def assert_contained(world: World) -> None:
    deadline = time.monotonic() + 20
    while world.bot.bot.background.tasks and time.monotonic() < deadline:  # work after the ack
        time.sleep(0.01)
    crashed = [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in world.tracebacks.records if r.exc_info]
    world.tracebacks.records.clear()
    assert not crashed, crashed
    for path in world.quay_paths():
        assert ALLOWED_PATH.match(path), f"a request escaped to {path!r}"
    for call in world.slack.calls:
        assert "Traceback" not in json.dumps(call.body), call.body


FIELD_VALUES = st.one_of(st.text(max_size=200), st.sampled_from(CHANNELS + USERS + ["/quay", "/other"]))
# With `view`, which no command carries but Bolt reads as an object when no listener takes a request.
SLASH_FIELDS = ["token", "team_id", "channel_id", "user_id", "command", "text", "response_url", "trigger_id", "view"]


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(st.sampled_from(SLASH_FIELDS), FIELD_VALUES, max_size=8),
    text=st.one_of(
        st.text(max_size=5000),
        st.sampled_from(["repo list", "repo info api", "repo delete api", "help", "notify list api"]),
    ),
    channel=st.sampled_from(CHANNELS),
    user=st.sampled_from(USERS),
    keep_response_url=st.booleans(),
)
def test_fuzzed_slash_commands(world: World, fields, text, channel, user, keep_response_url):
    response_url = world.slack.new_response_url()
    body = {"command": "/quay", "team_id": "T0TEAM", "channel_id": channel, "user_id": user, "text": text, **fields}
    if keep_response_url:
        body["response_url"] = response_url
    if "trigger_id" in body:
        # Slack gives every command a new trigger_id; one seen before is a retry, not run twice
        # (test_corpus.py). The fuzzed value stays, made unique.
        body["trigger_id"] += f".{uuid.uuid4().hex}"
    raw = urlencode(body).encode()
    before = len(world.slack.calls)  # recorded before the request, so that the check below can fail
    status = world.driver.post(raw).status_code
    assert status in (200, 404), status  # 404: a command Bolt has no listener for
    if status == 200 and keep_response_url and body["command"] == "/quay":
        [reply] = world.slack.wait_for(response_url.rsplit("/", 1)[-1], timeout=20)[:1]
        assert reply.body.get("text")  # a clear reply, whatever came in
    if channel not in ("C0READ", "C0WRITE", "C0ADMIN"):
        assert not any(c.kind == "api" and c.name.startswith("chat.") for c in world.slack.calls[before:])
    assert_contained(world)


ACTION_IDS = sorted(
    {value for name, value in vars(ids).items() if name.endswith("_ACTION") or name.startswith("OPEN_")}
    | {EVENT_SELECT, METHOD_SELECT}
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


INTERACTIONS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["block_actions", "view_submission", "shortcut", "nonsense"]),
            "user": st.one_of(st.just({"id": ALICE}), JSON_VALUES),
            "channel": st.one_of(st.just({"id": "C0ADMIN"}), JSON_VALUES),
            "team": st.just({"id": "T0TEAM"}),
            "actions": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "action_id": st.sampled_from([*ACTION_IDS, "other"]),
                            "value": st.one_of(
                                st.text(max_size=100),
                                st.sampled_from(["team-a/api ../../x", "../x y", "team-a/api 0000"]),
                            ),
                        },
                        optional={"selected_option": JSON_VALUES},
                    ),
                    max_size=2,
                ),
                JSON_VALUES,
            ),
        },
        optional={
            "view": st.one_of(
                JSON_VALUES,
                st.fixed_dictionaries(
                    {"id": st.just("V0FUZZ"), "type": st.sampled_from(["modal", "home"])},
                    optional={"state": JSON_VALUES, "private_metadata": JSON_VALUES, "hash": JSON_VALUES},
                ),
            ),
            "container": st.one_of(st.just({"type": "view", "view_id": "V0FUZZ"}), JSON_VALUES),
            "trigger_id": JSON_VALUES,
        },
    ),
)


@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=INTERACTIONS)
@example(  # a form's select with no form: it once crashed the listener after the ack
    payload={"type": "block_actions", "user": {"id": ALICE}, "actions": [{"action_id": METHOD_SELECT, "value": ""}]}
)
@example(payload={"view": None})  # no type at all: it once reached Bolt, whose log line for it crashed
@example(  # a click no listener takes, with a null view: Bolt's log line for it once crashed
    payload={
        "type": "block_actions",
        "user": {"id": ALICE},
        "channel": {"id": "C0ADMIN"},
        "team": {"id": "T0TEAM"},
        "actions": [{"action_id": "other", "value": ""}],
        "view": None,
    }
)
def test_fuzzed_interaction_payloads(world: World, payload):
    if isinstance(payload, dict) and payload.get("type") == "block_actions":
        payload["response_url"] = world.slack.new_response_url()
    raw = urlencode({"payload": json.dumps(payload)}).encode()
    response = world.driver.post(raw)
    assert response.status_code in (200, 400, 404), response.status_code
    deletes = [p for p in world.quay_paths() if p.endswith("/api")]
    assert ("team-a", "api") in world.quay.fake.repos, deletes  # no random click ever deletes anything
    assert_contained(world)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
)
def test_garbage_bodies(world: World, raw, content_type):
    status = world.driver.post(raw, content_type=content_type).status_code
    assert status in (200, 400, 401, 404), status
    assert_contained(world)


EVENTS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {
            "type": st.one_of(st.just("app_home_opened"), JSON_VALUES),
            "user": st.one_of(st.just(ALICE), JSON_VALUES),
        },
        optional={"tab": st.one_of(st.just("home"), JSON_VALUES)},
    ),
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=EVENTS)
@example(event={"type": [], "user": ALICE})  # an event type that is not a string once gave a 500
def test_fuzzed_events(world: World, event):
    body = json.dumps({"type": "event_callback", "team_id": "T0TEAM", "event": event}).encode()
    status = world.driver.post(body, content_type="application/json").status_code
    assert status in (200, 400, 404), status
    assert_contained(world)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    envelope=st.one_of(
        st.tuples(st.just("interactive"), INTERACTIONS.filter(lambda payload: isinstance(payload, dict))),
        st.tuples(st.just("events_api"), EVENTS.map(lambda e: {"type": "event_callback", "team_id": "T0", "event": e})),
        st.tuples(st.just("slash_commands"), st.dictionaries(st.sampled_from(SLASH_FIELDS), JSON_VALUES, max_size=8)),
    )
)
def test_fuzzed_socket_mode_envelopes(socket_world: World, envelope):
    """Over Socket Mode, every envelope is acked (Slack resends one that is not), and nothing Bolt
    cannot read crashes a listener or reaches Quay. (Slack's payloads are always objects.)"""
    kind, payload = envelope
    if payload.get("type") == "block_actions" or kind == "slash_commands":
        payload["response_url"] = socket_world.slack.new_response_url()
    assert socket_world.socket is not None
    assert socket_world.socket.push(kind, payload).get("envelope_id")
    assert ("team-a", "api") in socket_world.quay.fake.repos
    assert_contained(socket_world)


FORM_ELEMENT = st.dictionaries(st.sampled_from(["type", "value", "selected_option"]), JSON_VALUES, max_size=3)
FORM_BLOCKS = [forms.NAMESPACE, forms.NAME, forms.VISIBILITY, forms.DESCRIPTION, forms.EVENT, forms.METHOD]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    callback_id=st.sampled_from([forms.REPO_CREATE, forms.NOTIFY_CREATE, forms.REPO_DESCRIBE]),
    values=st.dictionaries(
        st.sampled_from([*FORM_BLOCKS, "config:url", "event_config:ref-regex"]),
        st.dictionaries(st.sampled_from(["input", "select"]), FORM_ELEMENT, min_size=1, max_size=1),
        max_size=6,
    ),
)
@example(callback_id=forms.REPO_CREATE, values={forms.NAMESPACE: {"select": {"selected_option": [None]}}})
def test_fuzzed_form_submissions(world: World, callback_id, values):
    view = {
        "id": "V0FUZZ",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"channel": "C0ADMIN", "repo": "team-a/api"}),
    }
    response = world.driver.submit_view(view, values, user=ALICE)
    assert response.status_code == 200, response.status_code  # the form closes, or says what to fix
    assert ("team-a", "api") in world.quay.fake.repos
    assert_contained(world)


@pytest.mark.parametrize(
    "raw",
    [
        b"command=%2Fother&view=x&text=help&user_id=U0ALICE&channel_id=C0ADMIN&team_id=T0TEAM",
        b"view=x&user_id=U0ALICE&channel_id=C0ADMIN",
        b"payload=%7B%22view%22%3A+null%7D",
    ],
    ids=["another-command", "untyped-form", "untyped-payload"],
)
def test_only_quay_and_slacks_ssl_check_come_untyped(world: World, raw: bytes):
    """A body with no `type` is /quay or Slack's ssl_check; anything else is refused before Bolt."""
    assert world.driver.post(raw).status_code == 404
    assert_contained(world)


def test_a_form_submission_without_a_view_type_is_refused_before_bolt(world: World):
    view = {"id": "V0FUZZ", "callback_id": forms.REPO_DESCRIBE, "private_metadata": "{}"}
    assert world.driver.submit_view(view, {}, user=ALICE).status_code == 400  # Bolt's matchers read it


HOSTILE = [
    "../x",
    "..",
    "%2F",
    "a%2Fb",
    "a?b",
    "a#b",
    "a b",
    "a\tb",
    "x" * 300,
    "team-a/../../user",
    "team-a/%2e%2e",
    "team-a/a%3Fb",
    "team-a/a/../b",
    "team-a/.hidden",
    "team-a/a//b",
    "../../api/v1/user/",
    "team-a/a?x=1",
]
FORMS = [
    "repo info {n}",
    "repo create {n}",
    'repo describe {n} "t"',
    "repo visibility {n} private",
    "repo delete {n}",
    "notify list {n}",
    "notify get team-a/api {n}",
    "notify reset {n} 3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
    "repo list {n}",
]


@pytest.mark.parametrize("form", FORMS)
def test_names_built_to_escape_reach_no_other_path(world: World, form):
    for name in HOSTILE:
        for quoted in (name, json.dumps(name)):
            sent = world.driver.slash(form.format(n=quoted), user=ALICE, channel="C0ADMIN")
            assert sent.status == 200
            reply = world.driver.reply(sent, timeout=20)
            assert reply.body.get("text")
    assert_contained(world)


def test_no_secret_comes_out_anywhere(tmp_path):
    hook_secret = "hook-path-SECRET-7c1f"
    slack_hook = "https://hooks.slack.com/services/T000/B000/SLACKSECRET99"
    flow_secret = "flowdock-SECRET-token-42"
    quay = FakeQuayServer(seed(FakeQuay())).start()
    seed_teams(quay.fake)
    slack = FakeSlack().start()
    access = tmp_path / "access.yml"
    access.write_text(ACCESS.replace("role: admin\n", "role: admin\n    alerts: true\n"))
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access, QUAYBOT_INVENTORY_INTERVAL_SECONDS=60))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter(bot.bot.secrets))  # exactly as `quaybot serve` configures it
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        commands = [
            ("C0WRITE", f"notify create api repo_push webhook url=https://ci.example.com/{hook_secret}"),
            ("C0WRITE", f"notify create api build_failure slack url={slack_hook} --title deploys"),
            ("C0WRITE", f"notify create api repo_push flowdock flow_api_token={flow_secret}"),
            ("C0READ", "notify list api"),
            ("C0READ", "repo info api"),
            ("C0READ", f"notify create api repo_push webhook url=https://x.example/{hook_secret}"),  # refused
        ]
        for channel, text in commands:
            driver.reply(driver.slash(text, user=ALICE, channel=channel), timeout=20)
        for item in list(quay.fake.notifications.values()):
            quay.fake.set_failures(item.uuid, 3)
            driver.reply(driver.slash(f"notify get api {item.uuid}", user=ALICE, channel="C0READ"))
            prompt = driver.reply(driver.slash(f"notify delete api {item.uuid}", user=ALICE, channel="C0ADMIN"))
            assert "actions" in json.dumps(prompt.body)
        bot.run(bot.bot.watch.watcher.sweep())  # alerts for the failing notifications
        deadline = time.monotonic() + 20
        while bot.run(bot.bot.db.run(bot.bot.outbox.store.depth)):
            assert time.monotonic() < deadline
            bot.bot.outbox.per_channel_interval = 0
            bot.run(bot.bot.outbox.send_due())
        assert slack.calls_to("chat.postMessage"), "the alert path was exercised"
        secrets = [T, BOT_TOKEN, SIGNING_SECRET, hook_secret, "SLACKSECRET99", flow_secret]
        places = {
            "logs": stream.getvalue(),
            "slack messages": json.dumps([c.body for c in slack.calls]),
            "audit": json.dumps([r.as_dict() for r in bot.bot.interactions.audit.since(0)], ensure_ascii=False),
            "metrics": bot.bot.metrics.render().decode(),
            "outbox": json.dumps(bot.run(bot.bot.db.run(lambda: _outbox_payloads(bot)))),
        }
        for where, text in places.items():
            for secret in secrets:
                assert secret not in text, f"{secret!r} leaked into {where}"
        assert (
            "notify create team-a/api repo_push webhook" in places["audit"]
            and "https://ci.example.com/••••••" in places["audit"]
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        driver.close()
        bot.stop()
        slack.stop()
        quay.stop()


def _outbox_payloads(bot: BotThread) -> list[str]:
    from sqlalchemy import select

    from bot.store.tables import OutboxItem

    with bot.bot.db.session() as session:
        return list(session.scalars(select(OutboxItem.payload)))


def test_signature_checks_come_before_anything(world: World):
    before = len(world.quay_paths())
    body = world.driver.slash_body(
        "repo delete team-a/api", user=ALICE, channel="C0ADMIN", response_url=world.slack.new_response_url()
    )
    for kwargs in ({"secret": "wrong"}, {"ts": int(time.time()) - 3600}, {"tamper": body + b"&x=1"}):
        assert world.driver.post(body, **kwargs).status_code == 401
    assert len(world.quay_paths()) == before and uuid  # nothing reached Quay
