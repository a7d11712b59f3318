"""The fake Quay's tag endpoints checked against ../shared/quay-tags-observed.md, row by row, over HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import RO, T
from tests.fakes.quay import TOKEN_APP, FakeQuayServer

R = "/api/v1/repository/devtable/simple"
NOT_FOUND = {"detail": "Not Found", "error_message": "Not Found", "error_type": "not_found", "status": 404}


@pytest.fixture
def http(quay: FakeQuayServer):
    quay.fake.push("devtable/simple", ["v1"])
    quay.fake.now = lambda: time.time() + 5
    quay.fake.push("devtable/simple", ["v1", "v2"])
    quay.fake.now = time.time
    with httpx.Client(base_url=quay.url, headers={"Authorization": f"Bearer {T}"}, trust_env=False) as client:
        yield client


def test_active_tags_page_newest_first(http: httpx.Client):
    first = http.get(f"{R}/tag/", params={"onlyActiveTags": "true", "limit": 1, "page": 1}).json()
    assert first["page"] == 1 and first["has_additional"] is True and len(first["tags"]) == 1
    [tag] = first["tags"]
    assert {"name", "reversion", "start_ts", "manifest_digest", "is_manifest_list", "size", "last_modified"} <= set(tag)
    assert "end_ts" not in tag and tag["last_modified"].endswith(" -0000")


def test_a_tags_history_has_every_version_the_old_with_end_ts(http: httpx.Client):
    history = http.get(f"{R}/tag/", params={"specificTag": "v1", "onlyActiveTags": "false"}).json()["tags"]
    assert [("end_ts" in t) for t in history] == [False, True]
    assert history[1]["end_ts"] >= history[1]["start_ts"]


def test_restore_points_the_tag_back_and_marks_a_reversion(http: httpx.Client, quay: FakeQuayServer):
    history = http.get(f"{R}/tag/", params={"specificTag": "v1", "onlyActiveTags": "false"}).json()["tags"]
    earlier = history[1]["manifest_digest"]
    answer = http.post(f"{R}/tag/v1/restore", json={"manifest_digest": earlier})
    assert answer.status_code == 200 and answer.json() == {}
    now = http.get(f"{R}/tag/", params={"specificTag": "v1", "onlyActiveTags": "true"}).json()["tags"]
    assert now[0]["manifest_digest"] == earlier and now[0]["reversion"] is True
    missing = http.post(f"{R}/tag/v1/restore", json={"manifest_digest": "sha256:" + "0" * 64})
    assert missing.status_code == 404 and NOT_FOUND.items() <= missing.json().items()
    assert ("devtable", TOKEN_APP) in quay.fake.oauth.performers("revert_tag")


def test_put_answers_the_string_updated_creates_moves_and_expires(http: httpx.Client):
    v2 = http.get(f"{R}/tag/", params={"specificTag": "v2", "onlyActiveTags": "true"}).json()["tags"][0]
    created = http.put(f"{R}/tag/prod", json={"manifest_digest": v2["manifest_digest"]})
    assert created.status_code == 200 and created.json() == "Updated"
    tomorrow = int(time.time()) + 86400
    assert http.put(f"{R}/tag/prod", json={"expiration": tomorrow}).json() == "Updated"
    prod = http.get(f"{R}/tag/", params={"specificTag": "prod", "onlyActiveTags": "true"}).json()["tags"][0]
    assert prod["end_ts"] == tomorrow and prod["expiration"].endswith(" -0000")
    past = http.put(f"{R}/tag/prod", json={"expiration": 1000})
    assert past.status_code == 400
    assert past.json() == {"message": "The browser (or proxy) sent a request that this server could not understand."}


def test_a_second_delete_is_a_404_and_read_only_tokens_may_not(http: httpx.Client, quay: FakeQuayServer):
    assert http.delete(f"{R}/tag/v2").status_code == 204
    again = http.delete(f"{R}/tag/v2")
    assert again.status_code == 404 and NOT_FOUND.items() <= again.json().items()
    assert http.delete(f"{R}/tag/nosuch").status_code == 404
    read_only = http.delete(f"{R}/tag/v1", headers={"Authorization": f"Bearer {RO}"})
    assert read_only.status_code == 403 and read_only.json()["error_type"] == "insufficient_scope"


def test_without_a_security_scanner_a_manifests_security_is_404(http: httpx.Client):
    digest = http.get(f"{R}/tag/", params={"onlyActiveTags": "true"}).json()["tags"][0]["manifest_digest"]
    answer = http.get(f"{R}/manifest/{digest}/security", params={"vulnerabilities": "true"})
    assert answer.status_code == 404 and NOT_FOUND.items() <= answer.json().items()
