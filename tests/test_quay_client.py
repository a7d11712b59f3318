"""The Quay client through real HTTP against the fake Quay: every method, error and quirk."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from pydantic import SecretStr

from bot.quay import (
    NewNotification,
    QuayAlreadyExists,
    QuayBadRequest,
    QuayClient,
    QuayError,
    QuayForbidden,
    QuayInputError,
    QuayInvalidToken,
    QuayNotFound,
    QuayOutcomeUnknown,
    QuayRateLimited,
    QuayServerError,
    QuayTimeout,
    QuayUnauthorized,
    QuayUnavailable,
    QuayUnexpectedResponse,
    RepositoryRef,
    RetryPolicy,
)
from bot.quay.catalogue import mask_config
from tests.conftest import BAD, FAST_RETRY, FU, RO, T
from tests.fakes.quay import FakeQuay, FakeQuayServer, Fault

SIMPLE = RepositoryRef("devtable", "simple")


def client_for(quay: FakeQuayServer, token: str | None, **kw) -> QuayClient:
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("timeout", 2.0)
    return QuayClient(quay.url, SecretStr(token) if token else None, **kw)


class TestRequests:
    async def test_headers_and_no_token_in_errors(self, client, fake: FakeQuay):
        await client.get_repository(SIMPLE)
        [request] = fake.requests_to("GET", "/devtable/simple$")
        assert request.headers["user-agent"].startswith("quaybot/")
        assert request.headers["x-requested-with"] == "XMLHttpRequest"
        assert request.headers["authorization"] == f"Bearer {T}"
        assert T not in repr(client)

    async def test_names_are_validated_before_sending(self, client, fake: FakeQuay):
        before = len(fake.requests)
        for bad in ["../x", "ns", "Upper/case", "ns/a%2Fb", "ns/a?b", "ns/a#b", "ns/ a", "ns/" + "a" * 256]:
            with pytest.raises(ValueError):
                RepositoryRef.parse(bad)
        with pytest.raises(QuayInputError):
            await client.get_notification(SIMPLE, "../../user/")
        with pytest.raises(QuayInputError):
            await client.list_repositories("bad namespace")
        with pytest.raises(QuayInputError):
            await client.list_repositories()
        assert len(fake.requests) == before

    async def test_nested_repository_paths(self, client, fake: FakeQuay):
        ref = RepositoryRef.parse("devtable/team/app/api")
        assert ref.namespace == "devtable" and ref.name == "team/app/api"
        await client.create_repository(ref)
        repo = await client.get_repository(ref)
        assert repo.full_name == "devtable/team/app/api"
        assert fake.requests_to("GET")[-1].raw_path == "/api/v1/repository/devtable/team/app/api"


class TestRepositories:
    async def test_create_sends_namespace_and_reads_back(self, client, fake: FakeQuay):
        created = await client.create_repository(
            RepositoryRef("buynlarge", "api"), visibility="public", description="hello"
        )
        assert (created.namespace, created.name, created.kind) == ("buynlarge", "api", "image")
        repo = await client.get_repository(RepositoryRef("buynlarge", "api"))
        assert repo.is_public and repo.description == "hello" and repo.is_organization
        [post] = fake.requests_to("POST", "/api/v1/repository$")
        assert post.headers["content-type"] == "application/json"

    async def test_create_existing(self, client):
        with pytest.raises(QuayAlreadyExists, match="already exists"):
            await client.create_repository(SIMPLE)

    async def test_create_without_permission_mentions_both_causes(self, quay):
        async with client_for(quay, RO) as ro:
            with pytest.raises(QuayForbidden, match="Quay answers 403 for both") as info:
                await ro.create_repository(RepositoryRef("devtable", "newrepo"))
        assert info.value.status == 403 and info.value.error_type == "insufficient_scope"

    async def test_bad_token_write_says_token_is_probably_invalid(self, quay):
        async with client_for(quay, BAD) as bad:
            with pytest.raises(QuayInvalidToken, match="probably invalid or expired") as info:
                await bad.create_repository(RepositoryRef("devtable", "newrepo"))
            with pytest.raises(QuayUnauthorized):
                await bad.get_repository(SIMPLE)
        assert BAD not in str(info.value)

    async def test_list_one_page_and_all_pages(self, client, fake: FakeQuay):
        for i in range(230):
            fake.add_repo(f"buynlarge/r{i:03d}")
        page = await client.list_repositories("buynlarge")
        assert len(page.repositories) == 100 and page.next_page
        names = [r.name async for r in client.iter_repositories("buynlarge")]
        assert len(names) == 232 and len(set(names)) == 232
        assert len(fake.requests_to("GET", "/api/v1/repository$")) == 1 + 3

    async def test_iteration_reports_a_restarted_listing(self, client, fake: FakeQuay):
        for i in range(150):
            fake.add_repo(f"buynlarge/r{i:03d}")
        fake._page_secret = b"rotated"  # every token now reads as garbage: Quay restarts at page 1
        real_token = fake._page_token

        def garbled(last_id: int) -> str:
            fake._page_secret = b"before"
            token = real_token(last_id)
            fake._page_secret = b"after"
            return token

        fake._page_token = garbled  # type: ignore[method-assign]
        with pytest.raises(QuayError, match="restarted the listing"):
            _ = [r async for r in client.iter_repositories("buynlarge")]

    async def test_get_fields_null_description_and_tags(self, client):
        repo = await client.get_repository(SIMPLE)
        assert repo.tag_count == 2 and repo.can_admin and repo.state == "NORMAL"
        latest = repo.tag("latest")
        assert latest is not None and latest.manifest_digest and latest.manifest_digest.startswith("sha256:")
        org = await client.get_repository(RepositoryRef("buynlarge", "orgrepo"), include_tags=False)
        assert org.description is None and org.tags is None and org.tag_count is None

    async def test_missing_repository_404_for_admin_403_for_others(self, client, quay):
        with pytest.raises(QuayNotFound):
            await client.get_repository(RepositoryRef("devtable", "nope"))
        async with client_for(quay, FU) as fu:
            with pytest.raises(QuayForbidden):
                await fu.get_repository(RepositoryRef("devtable", "nope"))

    async def test_set_description(self, client, fake: FakeQuay):
        await client.set_description(SIMPLE, "updated **markdown**")
        assert fake.repos[("devtable", "simple")].description == "updated **markdown**"
        with pytest.raises(QuayNotFound):
            await client.set_description(RepositoryRef("devtable", "nope"), "x")

    async def test_change_visibility_and_the_200_null_quirk(self, client, fake: FakeQuay):
        await client.change_visibility(SIMPLE, "public")
        assert fake.repos[("devtable", "simple")].is_public
        with pytest.raises(QuayNotFound, match="does not exist"):
            await client.change_visibility(RepositoryRef("devtable", "nosuchrepo"), "private")

    async def test_delete_checks_existence_because_quay_answers_204(self, client, fake: FakeQuay):
        with pytest.raises(QuayNotFound):
            await client.delete_repository(RepositoryRef("devtable", "nosuchrepo"))
        assert fake.requests_to("DELETE") == []
        await client.delete_repository(SIMPLE)
        assert ("devtable", "simple") not in fake.repos

    async def test_delete_without_admin(self, quay, fake: FakeQuay):
        async with client_for(quay, RO) as ro:
            with pytest.raises(QuayForbidden):
                await ro.delete_repository(SIMPLE)
        assert ("devtable", "simple") in fake.repos


HOOK = NewNotification(
    event="repo_push", method="webhook", config={"url": "https://hooks.example.com/secret/path"}, title="ci"
)


class TestNotifications:
    async def test_create_sends_event_config_camel_case_and_omits_null_title(self, client, fake: FakeQuay):
        created = await client.create_notification(SIMPLE, HOOK)
        assert created.title == "ci" and created.event_config == {} and not created.disabled
        untitled = await client.create_notification(SIMPLE, HOOK.model_copy(update={"title": None}))
        assert untitled.title is None
        bodies = [json.loads(r.body) for r in fake.requests_to("POST", "/notification/$")]
        assert bodies[0]["eventConfig"] == {} and "event_config" not in bodies[0]
        assert "title" not in bodies[1]

    @pytest.mark.parametrize(
        ("event", "method", "config", "event_config", "message"),
        [
            ("no_such_event", "webhook", {"url": "https://x.example/"}, {}, "unknown event"),
            ("repo_push", "carrier_pigeon", {}, {}, "unknown method"),
            ("repo_push", "quay_notification", {"target": "bob"}, {}, "kind:name|<kind>:<name>"),
            (
                "repo_push",
                "quay_notification",
                {"target": {"kind": "org", "name": "other"}},
                {},
                "own organization",
            ),
            (
                "repo_push",
                "webhook",
                {"url": "https://x.example/", "template": {"a": 1}},
                {},
                "JSON document",
            ),
            ("repo_push", "webhook", {"url": "http:///x"}, {}, "with a host"),
            (
                "repo_push",
                "webhook",
                {"url": "https://x.example/", "colour": "red"},
                {},
                "does not take colour",
            ),
            ("repo_push", "slack", {}, {}, "slack needs url"),
            ("repo_image_expiry", "webhook", {"url": "https://x.example/"}, {}, "needs days"),
            (
                "vulnerability_found",
                "webhook",
                {"url": "https://x.example/"},
                {"level": "Severe"},
                "level must be",
            ),
            ("quota_warning", "webhook", {"url": "https://x.example/"}, {}, "never fire"),
            (
                "build_failure",
                "webhook",
                {"url": "https://x.example/"},
                {"ref-regex": "(unclosed"},
                "not a valid regular",
            ),
        ],
    )
    async def test_refused_before_sending(self, client, fake: FakeQuay, event, method, config, event_config, message):
        new = NewNotification(event=event, method=method, config=config, event_config=event_config)
        with pytest.raises(QuayInputError, match=message):
            await client.create_notification(SIMPLE, new)
        assert fake.requests_to("POST", "/notification/") == []

    async def test_level_names_become_indexes(self, client):
        new = NewNotification(
            event="vulnerability_found",
            method="webhook",
            config={"url": "https://x.example/"},
            event_config={"level": "high"},
        )
        assert (await client.create_notification(SIMPLE, new)).event_config == {"level": 1}

    async def test_quay_side_validation_errors_are_bad_requests(self, client, fake: FakeQuay):
        fake.webhook_blacklist.add("blocked.example.com")
        with pytest.raises(QuayBadRequest, match="Invalid webhook URL"):
            await client.create_notification(
                SIMPLE, HOOK.model_copy(update={"config": {"url": "http://blocked.example.com/"}})
            )
        email = NewNotification(event="repo_push", method="email", config={"email": "a@example.com"})
        with pytest.raises(QuayBadRequest, match="not authorized to receive"):
            await client.create_notification(SIMPLE, email)

    async def test_create_on_missing_repository_reports_not_found_not_500(self, client):
        with pytest.raises(QuayNotFound):
            await client.create_notification(RepositoryRef("devtable", "nosuchrepo"), HOOK)

    async def test_html_500_is_a_server_error(self, client, fake: FakeQuay):
        fake.inject(Fault(path="/notification/$", method="POST", status=500))
        with pytest.raises(QuayServerError, match="HTTP 500"):
            await client.create_notification(SIMPLE, HOOK)

    async def test_list_get_and_disabled(self, client, fake: FakeQuay):
        item = fake.add_notification(
            "devtable/simple",
            failures=3,
            method="slack",
            config={"url": "https://hooks.slack.com/services/T0/B0/XXXX"},
        )
        [listed] = await client.list_notifications(SIMPLE)
        assert listed.disabled and listed.number_of_failures == 3
        assert listed.target == "https://hooks.slack.com/••••••"
        assert "XXXX" not in str(listed.masked_config) and "XXXX" not in repr(listed)
        got = await client.get_notification(SIMPLE, item.uuid.upper())
        assert got.uuid == item.uuid

    async def test_list_of_missing_repository_is_not_an_empty_success(self, client):
        with pytest.raises(QuayNotFound):
            await client.list_notifications(RepositoryRef("devtable", "nosuchrepo"))

    async def test_get_and_test_refuse_a_uuid_of_another_repository(self, client, fake: FakeQuay):
        fake.add_repo("devtable/r2", owner="devtable")
        item = fake.add_notification("devtable/simple")
        with pytest.raises(QuayNotFound, match="does not belong"):
            await client.get_notification(RepositoryRef("devtable", "r2"), item.uuid)
        with pytest.raises(QuayNotFound):
            await client.test_notification(RepositoryRef("devtable", "r2"), item.uuid)
        assert fake.queued_tests == []

    async def test_unknown_uuid(self, client):
        unknown = "00000000-0000-0000-0000-000000000000"
        for call in (
            client.get_notification,
            client.test_notification,
            client.reset_notification_failures,
            client.delete_notification,
        ):
            with pytest.raises(QuayNotFound):
                await call(SIMPLE, unknown)

    async def test_test_reset_delete(self, client, fake: FakeQuay):
        item = fake.add_notification("devtable/simple", failures=3)
        before = await client.test_notification(SIMPLE, item.uuid)
        assert before.disabled and fake.queued_tests == [item.uuid]
        await client.reset_notification_failures(SIMPLE, item.uuid)
        assert fake.notifications[item.uuid].number_of_failures == 0
        await client.delete_notification(SIMPLE, item.uuid)
        assert item.uuid not in fake.notifications

    async def test_reset_of_foreign_uuid_is_not_found(self, client, fake: FakeQuay):
        fake.add_repo("devtable/r2", owner="devtable")
        item = fake.add_notification("devtable/simple")
        with pytest.raises(QuayNotFound, match="No repository notification found with uuid"):
            await client.reset_notification_failures(RepositoryRef("devtable", "r2"), item.uuid)

    async def test_listing_needs_admin(self, quay):
        async with client_for(quay, RO) as ro:
            with pytest.raises(QuayForbidden):
                await ro.list_notifications(SIMPLE)


class TestIdentity:
    async def test_whoami(self, client):
        user = await client.whoami()
        assert user.username == "devtable" and user.organizations and user.organizations[0].can_create_repo

    async def test_whoami_without_user_read(self, quay):
        async with client_for(quay, RO) as ro:
            with pytest.raises(QuayUnauthorized, match="lacks the scope"):
                await ro.whoami()

    async def test_organization(self, client):
        org = await client.get_organization("buynlarge")
        assert org.is_admin and org.teams and "owners" in org.teams
        with pytest.raises(QuayNotFound):
            await client.get_organization("devtable")

    async def test_discovery(self, client):
        assert await client.discovery_version() == "v1"


class TestErrorShapes:
    @pytest.mark.parametrize(
        ("status", "body", "content_type", "kind", "text"),
        [
            (
                400,
                '{"detail": "line one\\n\\nFailed validating", "title": "invalid_request"}',
                "application/json",
                QuayBadRequest,
                "line one",
            ),
            (
                400,
                '{"message": "Unknown repository kind"}',
                "application/json",
                QuayBadRequest,
                "Unknown repository kind",
            ),
            (400, '{"detail": "only detail"}', "application/json", QuayBadRequest, "only detail"),
            (
                403,
                '{"error": "CSRF token was invalid or missing."}',
                "text/html; charset=utf-8",
                QuayInvalidToken,
                "probably invalid",
            ),
            (
                500,
                "<html><title>500 Internal Server Error</title></html>",
                "text/html",
                QuayServerError,
                "500 Internal Server Error",
            ),
            (418, "I'm a teapot", "text/plain", QuayUnexpectedResponse, "teapot"),
        ],
    )
    async def test_every_body_shape(self, client, fake: FakeQuay, status, body, content_type, kind, text):
        fake.inject(Fault(method="PUT", status=status, body=body, headers={"Content-Type": content_type}))
        with pytest.raises(kind) as info:
            await client.set_description(SIMPLE, "x")
        assert text in str(info.value)
        assert "\n" not in str(info.value)

    async def test_success_with_unexpected_body(self, client, fake: FakeQuay):
        fake.inject(Fault(method="GET", status=200, body="<html>proxy login</html>"))
        with pytest.raises(QuayUnexpectedResponse, match="not JSON"):
            await client.get_repository(SIMPLE)

    @pytest.mark.parametrize(
        ("body", "said"),
        [
            ('{"namespace": "devtable", "name": "simple"}', "(1 problem)"),  # no is_public
            ("{}", "problems)"),
        ],
    )
    async def test_json_of_the_wrong_shape_says_how_many_problems(self, client, fake: FakeQuay, body, said):
        fake.inject(Fault(method="GET", status=200, body=body))
        with pytest.raises(QuayUnexpectedResponse, match="does not match") as info:
            await client.get_repository(SIMPLE)
        assert said in str(info.value)


class TestRetries:
    @pytest.mark.parametrize("status", [502, 503, 504, 429])
    async def test_reads_retry_transient_statuses(self, client, fake: FakeQuay, status):
        fake.inject(Fault(method="GET", status=status, times=2))
        assert (await client.get_repository(SIMPLE)).name == "simple"
        assert len(fake.requests_to("GET", "/devtable/simple$")) == 3

    async def test_reads_retry_dropped_connections_and_timeouts(self, quay, fake: FakeQuay):
        fake.inject(Fault(method="GET", drop=True))
        fake.inject(Fault(method="GET", delay=0.6))
        async with client_for(quay, T, timeout=0.3) as c:
            assert (await c.get_repository(SIMPLE)).name == "simple"

    async def test_retry_after_is_honoured(self, client, fake: FakeQuay, monkeypatch):
        slept: list[float] = []
        real_sleep = asyncio.sleep

        async def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            await real_sleep(0)

        monkeypatch.setattr("bot.quay.client.asyncio.sleep", fake_sleep)
        fake.inject(Fault(method="GET", status=429, headers={"Retry-After": "0.7"}))
        await client.get_repository(SIMPLE)
        assert slept == [0.7]

    async def test_retries_are_bounded(self, quay, fake: FakeQuay):
        fake.inject(Fault(method="GET", status=503, times=100))
        policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, total_seconds=1)
        async with client_for(quay, T, retry=policy) as c:
            with pytest.raises(QuayUnavailable, match="unavailable"):
                await c.get_repository(SIMPLE)
        assert len(fake.requests_to("GET")) == 3

    async def test_rate_limit_beyond_budget_is_reported_with_retry_after(self, client, fake: FakeQuay):
        fake.inject(Fault(method="GET", status=429, headers={"Retry-After": "120"}))
        with pytest.raises(QuayRateLimited) as info:
            await client.get_repository(SIMPLE)
        assert info.value.retry_after == 120

    @pytest.mark.parametrize("fault", [Fault(method="PUT", status=503), Fault(method="PUT", status=429)])
    async def test_writes_are_not_retried_on_status(self, client, fake: FakeQuay, fault):
        fake.inject(fault)
        with pytest.raises((QuayUnavailable, QuayRateLimited)):
            await client.set_description(SIMPLE, "x")
        assert len(fake.requests_to("PUT")) == 1

    async def test_write_with_lost_answer_is_outcome_unknown(self, quay, fake: FakeQuay):
        fake.inject(Fault(method="POST", path="/api/v1/repository$", delay=0.6))
        async with client_for(quay, T, timeout=0.3) as c:
            with pytest.raises(QuayOutcomeUnknown, match="may or may not"):
                await c.create_repository(RepositoryRef("devtable", "slow"))
        assert len(fake.requests_to("POST")) == 1
        fake.inject(Fault(method="PUT", drop=True))
        async with client_for(quay, T) as c:
            with pytest.raises(QuayOutcomeUnknown):
                await c.set_description(SIMPLE, "x")
        assert len(fake.requests_to("PUT")) == 1

    async def test_connection_refused(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01, total_seconds=1)
        async with QuayClient(f"http://127.0.0.1:{port}", SecretStr(T), retry=policy) as c:
            with pytest.raises(QuayUnavailable, match="Could not connect"):
                await c.get_repository(SIMPLE)
            with pytest.raises(QuayUnavailable, match="Could not connect"):
                await c.set_description(SIMPLE, "x")

    async def test_timeout_error_type(self, quay, fake: FakeQuay):
        fake.inject(Fault(method="GET", delay=0.5, times=10))
        policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01, total_seconds=5)
        async with client_for(quay, T, timeout=0.2, retry=policy) as c:
            with pytest.raises(QuayTimeout):
                await c.get_repository(SIMPLE)


def test_masking_hides_secrets():
    masked = mask_config(
        "webhook", {"url": "https://user:pw@hooks.example.com:8443/x/secret?token=abc", "template": "{}"}
    )
    assert masked == {"url": "https://hooks.example.com:8443/••••••", "template": "(custom template)"}
    assert mask_config("flowdock", {"flow_api_token": "s3cret"}) == {"flow_api_token": "••••••"}
    assert mask_config("hipchat", {"notification_token": "s3cret", "room_id": "42"})["room_id"] == "42"
    assert mask_config("mystery", {"anything": "s3cret"}) == {"anything": "••••••"}


async def test_proxy_settings_of_the_environment_are_not_used(quay, fake: FakeQuay, monkeypatch):
    """Quay is reached directly: a proxy variable meant for something else does not reroute (or
    break) the bot's calls, nor see its token."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with client_for(quay, T) as client:
        assert (await client.get_repository(SIMPLE)).name == "simple"
    assert fake.requests_to("GET", "/devtable/simple$")
