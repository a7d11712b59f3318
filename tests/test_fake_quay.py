"""The fake Quay checked against quay-api-observed.md and quay-api.md, with raw HTTP (no quaybot code).

If these pass, the fake answers as the live server did; everything else trusts it as the oracle.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import BAD, FU, RO, T
from tests.fakes.quay import FakeQuay, FakeQuayServer, Fault

JSON = "application/json"
HTML = "text/html; charset=utf-8"


@pytest.fixture
def http(quay: FakeQuayServer):
    with httpx.Client(base_url=quay.url, trust_env=False, timeout=5) as c:
        yield c


def call(http: httpx.Client, method: str, path: str, token: str | None = T, body=None, headers=None, **kw):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    h.update(headers or {})
    if body is not None:
        h.setdefault("Content-Type", JSON)
        kw["content"] = json.dumps(body)
    return http.request(method, path, headers=h, **kw)


def problem(response: httpx.Response, status: int, error_type: str, detail_start: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert body["status"] == status
    assert body["error_type"] == body["title"] == error_type
    assert body["detail"] == body["error_message"]
    assert body["detail"].startswith(detail_start)
    assert body["type"].endswith(f"/api/v1/error/{error_type}")


NEW = {
    "namespace": "devtable",
    "repository": "slackbot-test",
    "visibility": "private",
    "description": "created by bot test",
}


class TestRepositories:
    def test_create_then_duplicate(self, http):
        r = call(http, "POST", "/api/v1/repository", body=NEW)
        assert r.status_code == 201
        assert r.json() == {"namespace": "devtable", "name": "slackbot-test", "kind": "image"}
        problem(
            call(http, "POST", "/api/v1/repository", body=NEW),
            400,
            "invalid_request",
            "Repository already exists",
        )

    def test_create_without_namespace_uses_the_caller(self, http):
        r = call(
            http,
            "POST",
            "/api/v1/repository",
            body={"repository": "nonsrepo", "visibility": "private", "description": ""},
        )
        assert r.json()["namespace"] == "devtable"

    @pytest.mark.parametrize("name", ["Bad Name!", "UpperCase", "a" * 256])
    def test_invalid_names(self, http, name):
        r = call(http, "POST", "/api/v1/repository", body={**NEW, "repository": name})
        problem(r, 400, "invalid_request", "Invalid repository name")

    def test_nested_name(self, http):
        assert call(http, "POST", "/api/v1/repository", body={**NEW, "repository": "a/b"}).status_code == 201
        assert call(http, "GET", "/api/v1/repository/devtable/a/b").status_code == 200

    def test_schema_errors_are_long_multiline_problems(self, http):
        body = {k: v for k, v in NEW.items() if k != "description"}
        r = call(http, "POST", "/api/v1/repository", body=body)
        problem(r, 400, "invalid_request", "'description' is a required property\n\nFailed validating 'required'")
        r = call(http, "POST", "/api/v1/repository", body={**NEW, "visibility": "secret"})
        problem(r, 400, "invalid_request", "'secret' is not one of ['public', 'private']")

    def test_content_type_and_malformed_json(self, http):
        r = http.post("/api/v1/repository", content=json.dumps(NEW), headers={"Authorization": f"Bearer {T}"})
        assert r.status_code == 415
        assert "Content-Type was not 'application/json'" in r.json()["message"]
        r = http.post(
            "/api/v1/repository",
            content="{nope",
            headers={"Authorization": f"Bearer {T}", "Content-Type": JSON},
        )
        assert r.status_code == 400
        assert r.json() == {"message": "The browser (or proxy) sent a request that this server could not understand."}

    @pytest.mark.parametrize("token", [None, BAD])
    def test_anonymous_or_bad_token_writes_fail_csrf_with_html_type(self, http, token):
        r = call(http, "POST", "/api/v1/repository", token=token, body=NEW)
        assert r.status_code == 403
        assert r.headers["content-type"] == HTML
        assert r.json() == {"error": "CSRF token was invalid or missing."}

    @pytest.mark.parametrize(("token", "namespace"), [(RO, "devtable"), (FU, "devtable"), (T, "nosuchns")])
    def test_create_without_permission_is_403(self, http, token, namespace):
        r = call(http, "POST", "/api/v1/repository", token=token, body={**NEW, "namespace": namespace})
        problem(r, 403, "insufficient_scope", "Unauthorized")

    def test_list_requires_a_filter_and_unknown_namespace_is_empty(self, http):
        problem(
            call(http, "GET", "/api/v1/repository"),
            400,
            "invalid_request",
            "namespace, starred or public are required",
        )
        assert call(http, "GET", "/api/v1/repository", params={"namespace": "nosuchns"}).json() == {"repositories": []}
        assert call(http, "GET", "/api/v1/repository", token=None, params={"namespace": "buynlarge"}).json() == {
            "repositories": []
        }

    def test_list_items(self, http):
        r = call(
            http,
            "GET",
            "/api/v1/repository",
            params={"namespace": "devtable", "last_modified": "true", "popularity": "true"},
        )
        [item] = r.json()["repositories"]
        assert item["name"] == "simple" and item["is_starred"] is False and item["state"] == "NORMAL"
        assert isinstance(item["last_modified"], int) and item["popularity"] == 0.0
        org = call(http, "GET", "/api/v1/repository", params={"namespace": "buynlarge"}).json()["repositories"]
        assert any(i["description"] is None for i in org)

    def test_public_adds_public_repositories_and_anonymous_has_no_is_starred(self, http):
        fu = call(http, "GET", "/api/v1/repository", token=FU, params={"namespace": "buynlarge"}).json()
        assert fu == {"repositories": []}
        fu = call(http, "GET", "/api/v1/repository", token=FU, params={"namespace": "buynlarge", "public": "no"}).json()
        assert [i["name"] for i in fu["repositories"]] == ["public-repo"]  # "no" is true (truthy_bool)
        anon = call(http, "GET", "/api/v1/repository", token=None, params={"public": "true"}).json()["repositories"]
        assert anon and all("is_starred" not in i for i in anon)

    def test_starred_anonymously_is_a_plain_400(self, http):
        r = call(http, "GET", "/api/v1/repository", token=None, params={"starred": "true"})
        assert r.status_code == 400 and "message" in r.json()

    def test_pagination_100_items_opaque_token_and_garbage_restarts(self, http, fake: FakeQuay):
        for i in range(105):
            fake.add_repo(f"freshuser/r{i:03d}", owner="freshuser")
        page1 = call(http, "GET", "/api/v1/repository", token=FU, params={"namespace": "freshuser"}).json()
        assert len(page1["repositories"]) == 100 and page1["next_page"].startswith("gAAAAAB")
        page2 = call(
            http,
            "GET",
            "/api/v1/repository",
            token=FU,
            params={"namespace": "freshuser", "next_page": page1["next_page"]},
        ).json()
        assert len(page2["repositories"]) == 5 and "next_page" not in page2
        again = call(
            http,
            "GET",
            "/api/v1/repository",
            token=FU,
            params={"namespace": "freshuser", "next_page": "garbage"},
        ).json()
        assert again["repositories"][0] == page1["repositories"][0]

    def test_expired_page_token_restarts(self, http, fake: FakeQuay):
        for i in range(101):
            fake.add_repo(f"freshuser/r{i:03d}", owner="freshuser")
        token = call(http, "GET", "/api/v1/repository", token=FU, params={"namespace": "freshuser"}).json()["next_page"]
        fake.now = lambda: time.time() + 3 * 24 * 3600
        again = call(
            http, "GET", "/api/v1/repository", token=FU, params={"namespace": "freshuser", "next_page": token}
        ).json()
        assert len(again["repositories"]) == 100

    def test_get_repository_fields(self, http):
        body = call(http, "GET", "/api/v1/repository/devtable/simple").json()
        assert body["can_write"] and body["can_admin"] and body["is_organization"] is False
        assert set(body["tags"]) == {"latest", "prod"} and body["tags"]["prod"]["manifest_digest"].startswith("sha256:")
        assert body["status_token"]
        body = call(
            http,
            "GET",
            "/api/v1/repository/buynlarge/orgrepo",
            params={"includeTags": "false", "includeStats": "true"},
        ).json()
        assert "tags" not in body and body["stats"] and body["is_organization"] is True

    def test_missing_is_404_for_admins_and_403_or_401_for_others(self, http):
        problem(call(http, "GET", "/api/v1/repository/devtable/nope"), 404, "not_found", "Not Found")
        problem(
            call(http, "GET", "/api/v1/repository/devtable/nope", token=FU),
            403,
            "insufficient_scope",
            "Unauthorized",
        )
        problem(
            call(http, "GET", "/api/v1/repository/devtable/simple", token=FU),
            403,
            "insufficient_scope",
            "Unauthorized",
        )
        problem(
            call(http, "GET", "/api/v1/repository/devtable/simple", token=None),
            401,
            "invalid_token",
            "Requires authentication",
        )
        problem(
            call(http, "GET", "/api/v1/repository/devtable/simple", token=BAD),
            401,
            "invalid_token",
            "Requires authentication",
        )

    def test_trailing_slash_on_repository_is_the_web_ui_404(self, http):
        r = call(http, "GET", "/api/v1/repository/devtable/simple/")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        r = call(http, "DELETE", "/api/v1/repository/devtable/simple/")
        assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")

    def test_update_description(self, http):
        r = call(
            http,
            "PUT",
            "/api/v1/repository/devtable/simple",
            body={"description": "updated **markdown** description"},
        )
        assert r.json() == {"success": True}
        problem(
            call(http, "PUT", "/api/v1/repository/devtable/simple", body={}),
            400,
            "invalid_request",
            "'description' is a required property",
        )
        problem(
            call(http, "PUT", "/api/v1/repository/devtable/simple", token=RO, body={"description": "x"}),
            403,
            "insufficient_scope",
            "Unauthorized",
        )
        problem(
            call(http, "PUT", "/api/v1/repository/devtable/nope", body={"description": "x"}),
            404,
            "not_found",
            "Not Found",
        )

    def test_change_visibility(self, http):
        r = call(http, "POST", "/api/v1/repository/devtable/simple/changevisibility", body={"visibility": "public"})
        assert r.json() == {"success": True}
        anon = call(http, "GET", "/api/v1/repository/devtable/simple", token=None).json()
        assert anon["is_public"] and anon["status_token"] == "" and not anon["can_write"] and not anon["can_admin"]
        problem(
            call(
                http,
                "POST",
                "/api/v1/repository/devtable/simple/changevisibility",
                body={"visibility": "internal"},
            ),
            400,
            "invalid_request",
            "'internal' is not one of",
        )
        r = call(
            http,
            "POST",
            "/api/v1/repository/devtable/nosuchrepo/changevisibility",
            body={"visibility": "public"},
        )
        assert r.status_code == 200 and r.text == "null"

    def test_delete(self, http):
        assert call(http, "DELETE", "/api/v1/repository/devtable/simple", token=RO).status_code == 403
        assert call(http, "DELETE", "/api/v1/repository/devtable/simple", token=FU).status_code == 403
        r = call(http, "DELETE", "/api/v1/repository/devtable/simple")
        assert r.status_code == 204 and r.text == "" and r.headers["content-type"] == JSON
        assert call(http, "DELETE", "/api/v1/repository/devtable/simple").status_code == 204
        assert call(http, "GET", "/api/v1/repository/devtable/simple").status_code == 404
        assert call(http, "POST", "/api/v1/repository", body={**NEW, "repository": "simple"}).status_code == 201

    def test_cors_headers_everywhere(self, http):
        for r in (
            call(http, "GET", "/api/v1/repository/devtable/simple"),
            call(http, "GET", "/api/v1/repository"),
        ):
            assert r.headers["access-control-allow-origin"] == "*"
            assert "X-REQUESTED-WITH" in r.headers["access-control-allow-headers"]

    def test_browser_user_agent_needs_xhr_header(self, http):
        ua = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"}
        r = call(http, "GET", "/api/v1/repository/devtable/simple", headers=ua)
        assert r.status_code == 400 and r.headers["content-type"] == HTML and "X-Requested-With" in r.json()["error"]
        r = call(
            http,
            "GET",
            "/api/v1/repository/devtable/simple",
            headers={**ua, "X-Requested-With": "XMLHttpRequest"},
        )
        assert r.status_code == 200

    def test_read_only_registry_refuses_writes(self, http, fake: FakeQuay):
        fake.read_only = True
        r = call(http, "PUT", "/api/v1/repository/devtable/simple", body={"description": "x"})
        assert r.status_code == 503 and r.json()["is_readonly"] is True
        assert call(http, "GET", "/api/v1/repository/devtable/simple").status_code == 200


HOOK = {
    "event": "repo_push",
    "method": "webhook",
    "config": {"url": "http://127.0.0.2:9/hook"},
    "eventConfig": {},
    "title": "bot webhook",
}
NOTIF = "/api/v1/repository/devtable/simple/notification/"


class TestNotifications:
    def test_create_get_list_delete(self, http):
        r = call(http, "POST", NOTIF, body=HOOK)
        assert r.status_code == 201
        created = r.json()
        assert created["event_config"] == {} and "eventConfig" not in created and created["number_of_failures"] == 0
        assert created["config"] == {"url": "http://127.0.0.2:9/hook"}
        assert call(http, "GET", NOTIF + created["uuid"]).json() == created
        assert call(http, "GET", NOTIF).json() == {"notifications": [created]}
        assert call(http, "DELETE", NOTIF + created["uuid"]).status_code == 204
        problem(
            call(http, "DELETE", NOTIF + created["uuid"]),
            400,
            "invalid_request",
            "No repository notification found for: devtable, simple, ",
        )
        problem(call(http, "GET", NOTIF + created["uuid"]), 404, "not_found", "Not Found")

    def test_title_is_null_when_omitted(self, http):
        body = {k: v for k, v in HOOK.items() if k != "title"}
        assert call(http, "POST", NOTIF, body=body).json()["title"] is None

    @pytest.mark.parametrize(
        ("method", "config", "detail"),
        [
            ("slack", {}, "Missing Slack Callback URL"),
            ("webhook", {}, "Missing webhook URL"),
            ("webhook", {"url": "http://127.0.0.1:9/hook"}, "Invalid webhook URL"),
            ("webhook", {"url": "http://localhost:9/hook"}, "Invalid webhook URL"),
            ("email", {"email": "someone@example.com"}, "The specified e-mail address is not authorized"),
            ("quay_notification", {}, "Missing target"),
            ("quay_notification", {"target": {"kind": "user", "name": "ghost"}}, "Unknown user ghost"),
        ],
    )
    def test_method_validation_problems(self, http, method, config, detail):
        r = call(http, "POST", NOTIF, body={**HOOK, "method": method, "config": config})
        problem(r, 400, "invalid_request", detail)

    @pytest.mark.parametrize(
        "override",
        [
            {"event": "no_such_event"},
            {"method": "carrier_pigeon"},
            {"method": "quay_notification", "config": {"target": "bob"}},
            {"method": "webhook", "config": {"url": "https://x/", "template": {"a": 1}}},
        ],
    )
    def test_unknown_names_and_bad_shapes_crash_with_html_500(self, http, override):
        r = call(http, "POST", NOTIF, body={**HOOK, **override})
        assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")

    def test_create_on_missing_repository_is_html_500(self, http):
        r = call(http, "POST", "/api/v1/repository/devtable/nosuchrepo/notification/", body=HOOK)
        assert r.status_code == 500 and "Internal Server Error" in r.text

    def test_slack_url_is_not_format_checked_and_event_config_round_trips(self, http):
        r = call(
            http,
            "POST",
            NOTIF,
            body={**HOOK, "method": "slack", "config": {"url": "http://example.com/not-slack"}},
        )
        assert r.status_code == 201
        r = call(
            http,
            "POST",
            NOTIF,
            body={**HOOK, "event": "build_failure", "eventConfig": {"ref-regex": "heads/main"}},
        )
        assert r.json()["event_config"] == {"ref-regex": "heads/main"}

    def test_event_config_is_required(self, http):
        body = {k: v for k, v in HOOK.items() if k != "eventConfig"}
        problem(
            call(http, "POST", NOTIF, body=body),
            400,
            "invalid_request",
            "'eventConfig' is a required property",
        )

    def test_missing_trailing_slash_redirects_308(self, http):
        for method in ("GET", "POST"):
            r = call(http, method, NOTIF.rstrip("/"), body=HOOK if method == "POST" else None)
            assert r.status_code == 308 and r.headers["location"].endswith("/notification/")
        assert call(http, "GET", "/api/v1/user").status_code == 308

    def test_list_needs_admin_and_missing_repo_is_empty(self, http):
        problem(call(http, "GET", NOTIF, token=RO), 403, "insufficient_scope", "Unauthorized")
        assert call(http, "GET", "/api/v1/repository/devtable/nosuchrepo/notification/").json() == {"notifications": []}

    def test_cross_repository_quirks(self, http, fake: FakeQuay):
        fake.add_repo("devtable/r2", owner="devtable")
        item = call(http, "POST", NOTIF, body=HOOK).json()
        other = f"/api/v1/repository/devtable/r2/notification/{item['uuid']}"
        assert call(http, "GET", other).json()["uuid"] == item["uuid"]  # GET ignores the repository
        assert call(http, "POST", other + "/test").json() == {}  # so does test
        r = call(http, "POST", other)  # reset: a different body shape
        assert r.status_code == 400 and r.json() == {
            "message": f"No repository notification found with uuid: {item['uuid']}"
        }

    def test_test_reset_and_unknown_uuid(self, http, fake: FakeQuay):
        item = call(http, "POST", NOTIF, body=HOOK).json()
        r = call(http, "POST", NOTIF + item["uuid"] + "/test")
        assert r.status_code == 200 and r.json() == {}
        fake.run_notification_worker(deliver_ok=False)
        assert call(http, "GET", NOTIF + item["uuid"]).json()["number_of_failures"] == 1
        r = call(http, "POST", NOTIF + item["uuid"])
        assert r.status_code == 204 and r.text == ""
        assert call(http, "GET", NOTIF + item["uuid"]).json()["number_of_failures"] == 0
        unknown = "00000000-0000-0000-0000-000000000000"
        problem(
            call(http, "POST", NOTIF + unknown + "/test"),
            400,
            "invalid_request",
            f"No repository notification found for: devtable, simple, {unknown}",
        )
        problem(
            call(http, "POST", NOTIF + unknown),
            400,
            "invalid_request",
            "No repository notification found for",
        )

    def test_disabled_notification_swallows_tests(self, http, fake: FakeQuay):
        item = fake.add_notification("devtable/simple", failures=3)
        call(http, "POST", NOTIF + item.uuid + "/test")
        fake.run_notification_worker(deliver_ok=True)
        assert fake.notifications[item.uuid].number_of_failures == 3


class TestIdentity:
    def test_whoami_needs_user_read(self, http):
        body = call(http, "GET", "/api/v1/user/").json()
        assert body["username"] == "devtable" and body["anonymous"] is False
        assert {o["name"]: o["can_create_repo"] for o in body["organizations"]} == {"buynlarge": True}
        for token in (RO, BAD, None):
            r = call(http, "GET", "/api/v1/user/", token=token)
            problem(r, 401, "invalid_token", "Requires authentication")
            assert r.json()["session_required"] is False
            assert "www-authenticate" not in r.headers
        r = http.get("/api/v1/user/", auth=("devtable", "password"))
        assert r.status_code == 401

    def test_organization(self, http):
        body = call(http, "GET", "/api/v1/organization/buynlarge").json()
        assert body["is_admin"] and body["is_member"] and "owners" in body["teams"]
        body = call(http, "GET", "/api/v1/organization/buynlarge", token=None).json()
        assert body == {**body, "is_admin": False, "is_member": False, "email": ""} and "teams" not in body
        problem(call(http, "GET", "/api/v1/organization/devtable"), 404, "not_found", "Not Found")

    def test_unknown_scope_voids_the_token(self, http, fake: FakeQuay):
        fake.add_token("weird", "devtable", "repo:read nonsense")
        problem(
            call(http, "GET", "/api/v1/repository/devtable/simple", token="weird"),
            403,
            "insufficient_scope",
            "Unauthorized",
        )


class TestFaults:
    def test_status_fault_then_normal(self, http, fake: FakeQuay):
        fake.inject(Fault(path="/devtable/simple$", status=503))
        r = call(http, "GET", "/api/v1/repository/devtable/simple")
        assert r.status_code == 503 and r.headers["content-type"] == "text/html"
        assert call(http, "GET", "/api/v1/repository/devtable/simple").status_code == 200

    def test_429_with_and_without_retry_after(self, http, fake: FakeQuay):
        fake.inject(Fault(status=429, headers={"Retry-After": "2"}))
        fake.inject(Fault(status=429))
        first = call(http, "GET", "/api/v1/repository/devtable/simple")
        second = call(http, "GET", "/api/v1/repository/devtable/simple")
        assert (first.status_code, first.headers.get("retry-after")) == (429, "2")
        assert (second.status_code, second.headers.get("retry-after")) == (429, None)

    def test_drop_and_delay(self, http, fake: FakeQuay):
        fake.inject(Fault(drop=True))
        with pytest.raises(httpx.RemoteProtocolError):
            call(http, "GET", "/api/v1/repository/devtable/simple")
        fake.inject(Fault(delay=0.5))
        with pytest.raises(httpx.ReadTimeout):
            call(http, "GET", "/api/v1/repository/devtable/simple", timeout=0.1)
        assert call(http, "GET", "/api/v1/repository/devtable/simple").status_code == 200


def test_simulated_worker_follows_the_observed_timeline(http, fake: FakeQuay):
    """quay-events-observed.md: delivery on the next 10 s tick, a retry 30 s after a failure (on the
    tick), disabled at 3 (failures at about +5, +45, +85 s), a success resets the count; a push moves
    `last_modified` at once."""
    clock = [1_795_777_900.0]
    fake.now = lambda: clock[0]
    fake.worker.dead_hosts.add("dead.example.com")
    dead = fake.add_notification("devtable/simple", config={"url": "https://dead.example.com/h"})
    alive = fake.add_notification("devtable/simple", config={"url": "https://alive.example.com/h"}, failures=2)

    def newest() -> int | None:
        listing = call(http, "GET", "/api/v1/repository", params={"namespace": "devtable", "last_modified": "true"})
        return listing.json()["repositories"][0]["last_modified"]

    before = newest()
    fake.push("devtable/simple", ["hook3"])
    assert newest() == 1_795_777_900 != before
    for second in range(200):
        clock[0] = 1_795_777_900.0 + second
        fake.worker.tick(clock[0])
    times = [round(at - 1_795_777_900.0) for at, uuid, _ in fake.worker.failures if uuid == dead.uuid]
    assert times == [10, 50, 90]  # the next tick, then 40 s apart
    assert fake.notifications[dead.uuid].number_of_failures == 3  # and then no more: disabled
    assert fake.notifications[alive.uuid].number_of_failures == 0  # delivered: reset


def test_the_worker_really_posts_webhooks_and_counts_what_the_receiver_answers(fake: FakeQuay):
    """With `post_webhooks`, a webhook gets the event's JSON as Quay sends it; a refused connection
    or a non-2xx answer is a failure, retried 40 s later; a 2xx resets the count."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[dict[str, str], dict]] = []
    answers = [500, 204]

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            self.send_response(answers.pop(0))
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    clock = [1_795_777_900.0]
    fake.now = lambda: clock[0]
    fake.worker.post_webhooks = True
    host = f"127.1:{server.server_address[1]}"
    live = fake.add_notification("devtable/simple", config={"url": f"http://{host}/hook"})
    dead = fake.add_notification("devtable/simple", config={"url": f"http://127.1:{closed}/hook"})
    try:
        fake.push("devtable/simple", ["hook3"])
        for second in range(100):
            clock[0] = 1_795_777_900.0 + second
            fake.worker.tick(clock[0])
    finally:
        server.shutdown()
    headers, body = received[0]
    assert headers["content-type"] == "application/json" and headers["user-agent"].startswith("python-requests")
    assert body == {
        "repository": "devtable/simple",
        "namespace": "devtable",
        "name": "simple",
        "docker_url": "quay.test/devtable/simple",
        "homepage": "http://quay.test/repository/devtable/simple",
        "updated_tags": ["hook3"],
    }
    assert len(received) == 2 and received[1][1] == body  # the 500 was retried with the same body
    assert fake.notifications[live.uuid].number_of_failures == 0  # then delivered: reset
    times = [round(at - 1_795_777_900.0) for at, uuid, _ in fake.worker.failures if uuid == dead.uuid]
    assert times == [10, 50, 90] and fake.notifications[dead.uuid].number_of_failures == 3
