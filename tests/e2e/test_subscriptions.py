"""Channel subscriptions end to end: `/quay subscribe` through signed slash commands, the fake Quay's
notification worker POSTing its observed payloads to the bot's /quay/events/<token>, and the messages
that reach the fake Slack."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ALICE, SIGNING_SECRET, BotThread, make_settings
from tests.e2e.test_watch import flush, parents, threads, updates
from tests.fakes.quay import FakeQuay, Fault, payload_for
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_driver import SlackDriver

SUB_ACCESS = """
channels:
  C0WRITE:
    namespaces: [team-a]
    role: write
    alerts: true
  C0READ:
    namespaces: [team-a]
    role: read
  C0SUB:
    namespaces: [team-a]
    role: write
  C0OTHER:
    namespaces: [team-b]
    role: admin
"""
DEFAULT_EVENTS = ("repo_push", "build_failure", "vulnerability_found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Subscriptions:
    """The bot (HTTP mode, its public URL on the loopback), a driver, and the fakes."""

    def __init__(self, bot: BotThread, driver: SlackDriver, world: FakeQuay, slack: FakeSlack) -> None:
        self.bot, self.driver, self.world, self.slack = bot, driver, world, slack

    def command(self, text: str, channel: str = "C0WRITE", user: str = ALICE) -> Call:
        sent = self.driver.slash(text, user=user, channel=channel)
        return self.driver.reply(sent)

    def deliver(self) -> None:
        """Quay's worker runs its next ticks, the bot reads who pushed, then the outbox is sent."""
        self.world.worker.drain(self.world.now(), rounds=2)
        naming = self.bot.bot.receiver.naming
        if naming:
            self.bot.run(asyncio.wait(set(naming), timeout=10))
        flush(self.bot)

    def hooks(self, repository: str = "team-a/api") -> list[Any]:
        repo = self.world.repos[tuple(repository.split("/", 1))]  # type: ignore[index]
        return [
            n
            for n in self.world.notifications.values()
            if n.repo_id == repo.id and (n.title or "").startswith("quaybot")
        ]

    def url_of(self, event: str = "repo_push", repository: str = "team-a/api") -> str:
        [hook] = [n for n in self.hooks(repository) if n.event == event]
        return str(hook.config["url"])


@pytest.fixture
def subs(quay, world: FakeQuay, slack: FakeSlack, tmp_path: Path) -> Iterator[Subscriptions]:
    world.add_org("team-b", admins=["devtable"])
    world.add_repo("team-b/jobs")
    world.worker.post_webhooks = True
    access = tmp_path / "sub-access.yml"
    access.write_text(SUB_ACCESS)
    port = free_port()
    settings = make_settings(
        quay.url,
        slack,
        tmp_path,
        access,
        QUAYBOT_HTTP_PORT=port,
        # Quay refuses webhooks to the literal hosts localhost and 127.0.0.1; 127.1 is the same address.
        QUAYBOT_PUBLIC_URL=f"http://127.1:{port}",
    )
    bot = BotThread(settings)
    bot.bot.outbox.per_channel_interval = 0.0
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    yield Subscriptions(bot, driver, world, slack)
    driver.close()
    bot.stop()


def test_subscribe_creates_one_webhook_per_event_pointing_at_the_bot(subs: Subscriptions):
    reply = subs.command("subscribe team-a/api")
    assert reply.body["response_type"] == "in_channel"
    assert (
        "subscribed this channel to `team-a/api`" in reply.text
        and "3 Quay notifications added, 0 already there; 1 repository." in reply.text
    )
    hooks = subs.hooks()
    assert sorted(h.event for h in hooks) == sorted(DEFAULT_EVENTS)
    base = f"http://127.1:{subs.bot.server.port}/quay/events/"
    for hook in hooks:
        url = hook.config["url"]
        assert url.startswith(base) and url.endswith(f"?event={hook.event}") and hook.method == "webhook"
    assert len({h.config["url"].split("?")[0] for h in hooks}) == 1  # one token per subscription
    token = hooks[0].config["url"].split("/")[-1].split("?")[0]
    assert len(token) >= 22 and token not in reply.text  # >= 128 bits, never shown
    assert token not in json.dumps([c.body for c in subs.slack.calls_to("chat.postMessage")])
    # Subscribing again adds only what is missing.
    again = subs.command("subscribe team-a/api repo_push build_start")
    assert "1 Quay notification added, 3 already there" in again.text
    assert len(subs.hooks()) == 4


def test_a_push_reaches_the_channel_and_pushes_within_a_minute_share_one_message(subs: Subscriptions):
    subs.command("subscribe team-a/api")
    subs.world.push("team-a/api", ["v2"])
    subs.deliver()
    [post] = parents(subs.slack, "C0WRITE")
    assert "Pushed to" in post.text and "`v2`" in post.text
    assert "docker pull quay.test/team-a/api:v2" in post.text
    assert "<http://quay.test/repository/team-a/api|team-a/api>" in post.text
    subs.world.push("team-a/api", ["v3"])
    subs.deliver()
    assert len(parents(subs.slack, "C0WRITE")) == 1  # the same message, edited
    [edit] = updates(subs.slack, "C0WRITE")
    assert edit.body["ts"] == subs.slack.calls_to("chat.postMessage")[0].body.get("ts", edit.body["ts"])
    assert "`v2`, `v3`" in edit.text and "2 pushes within a minute" in edit.text


def test_a_push_message_names_who_pushed_from_quays_usage_logs(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    subs.world.push("team-a/api", ["v2"], by="alice")
    subs.deliver()
    [post] = parents(subs.slack, "C0WRITE")  # the name joined the message before it was sent
    assert "Pushed by `alice`" in post.text and updates(subs.slack, "C0WRITE") == []
    subs.world.push("team-a/api", ["v3"], by="bob")
    subs.deliver()
    assert "Pushed by `alice` (`v2`), `bob` (`v3`)" in updates(subs.slack, "C0WRITE")[-1].text
    assert len(subs.world.requests_to("GET", "^/api/v1/repository/team-a/api/logs$")) == 2  # one read a push


def test_a_push_message_goes_without_a_name_where_the_logs_cannot_be_read(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    subs.world.inject(Fault(method="GET", path="^/api/v1/repository/team-a/api/logs$", status=403, times=5))
    subs.world.push("team-a/api", ["v2"], by="alice")
    subs.deliver()
    subs.world.push("team-a/api", ["v3"], by="alice")
    subs.deliver()
    [post] = parents(subs.slack, "C0WRITE")
    assert "`v2`" in post.text and "Pushed by" not in post.text
    assert all("Pushed by" not in u.text for u in updates(subs.slack, "C0WRITE"))
    assert len(subs.world.requests_to("GET", "^/api/v1/repository/team-a/api/logs$")) == 1  # not asked again


def test_a_push_after_the_window_is_a_new_message(subs: Subscriptions, monkeypatch):
    monkeypatch.setattr("bot.subscriptions.grouping.PUSH_WINDOW", 0.5)  # a minute, shortened
    subs.command("subscribe team-a/api repo_push")
    subs.world.push("team-a/api", ["v2"])
    subs.deliver()
    time.sleep(0.6)
    subs.world.push("team-a/api", ["v3"])
    subs.deliver()
    assert len(parents(subs.slack, "C0WRITE")) == 2 and updates(subs.slack, "C0WRITE") == []


def test_a_builds_five_events_are_one_message_with_a_thread_line_each_change(subs: Subscriptions):
    events = ["build_queued", "build_start", "build_success", "build_failure", "build_cancelled"]
    subs.command("subscribe team-a/api " + " ".join(events))
    for event in ("build_queued", "build_start", "build_failure"):
        subs.world.build("team-a/api", event, "b-1")
        subs.deliver()
    [post] = parents(subs.slack, "C0WRITE")
    assert "some-fake-build" in post.text and "queued" in post.text
    assert "<http://path/to/the/commit|42d4a62>" in post.text and "refs/heads/somebranch" in post.text
    last = updates(subs.slack, "C0WRITE")[-1]
    assert "failed" in last.text and "This is a fake error message" in last.text
    assert "/repository/team-a/api/build/b-1|Build page>" in last.text
    lines = [c.body["text"] for c in threads(subs.slack, "C0WRITE")]
    assert len(lines) == 2 and "Started" in lines[0] and "Failed" in lines[1]
    assert all(c.body["thread_ts"] for c in threads(subs.slack, "C0WRITE"))
    # Another build is another message.
    subs.world.build("team-a/api", "build_queued", "b-2")
    subs.deliver()
    assert len(parents(subs.slack, "C0WRITE")) == 2


def test_vulnerability_expiry_and_mirror_messages(subs: Subscriptions):
    subs.command("subscribe team-a/api vulnerability_found repo_image_expiry repo_mirror_sync_failed")
    expiry = [h for h in subs.hooks() if h.event == "repo_image_expiry"]
    assert expiry[0].event_config == {"days": 7}  # Quay skips the event without a number of days
    for event in ("vulnerability_found", "repo_image_expiry", "repo_mirror_sync_failed"):
        subs.world.fire("team-a/api", event)
    subs.deliver()
    texts = [c.text for c in parents(subs.slack, "C0WRITE")]
    assert len(texts) == 3
    [cve] = [t for t in texts if "CVE-FAKE-CVE" in t]
    assert "<https://security-tracker.debian.org/tracker/CVE-FAKE-CVE|CVE-FAKE-CVE>" in cve and "(High)" in cve
    assert "A futurist vulnerability" in cve and "`prod`" in cve
    assert any("Tags expiring in 7 days" in t and "`v1`" in t for t in texts)
    assert any("Mirror sync failed" in t and "TEST NOTIFICATION" in t for t in texts)


def test_notify_test_on_the_bots_own_webhook_shows_what_its_messages_look_like(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    [hook] = subs.hooks()
    subs.command(f"notify test team-a/api {hook.uuid}")
    subs.deliver()
    [post] = parents(subs.slack, "C0WRITE")
    assert "`latest`, `foo`" in post.text  # Quay's sample push


def test_quay_text_is_escaped(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_mirror_sync_failed")
    body = payload_for("team-a", "api", message="<!channel> <https://evil.example|click>")
    assert _post(subs, subs.url_of("repo_mirror_sync_failed"), body) == 200
    flush(subs.bot)
    [post] = parents(subs.slack, "C0WRITE")
    assert "<!channel>" not in post.text and "&lt;!channel&gt;" in post.text


def test_a_namespace_subscription_follows_the_repositories(subs: Subscriptions):
    listings = len(subs.world.requests_to("GET", "/api/v1/repository$"))
    reply = subs.command("subscribe team-a repo_push")
    assert "every repository of `team-a`" in reply.text and "2 Quay notifications added" in reply.text
    assert (
        len(subs.world.requests_to("GET", "/api/v1/repository$")) == listings + 1
    )  # counted and made from one listing
    subs.world.add_repo("team-a/new")
    report = subs.bot.run(subs.bot.bot.subscriptions.sync(subs.bot.bot.service.client_for))
    assert report.created == 1 and [h.event for h in subs.hooks("team-a/new")] == ["repo_push"]
    subs.world.push("team-a/new", ["first"])
    subs.deliver()
    assert any("team-a/new" in c.text for c in parents(subs.slack, "C0WRITE"))
    del subs.world.repos[("team-a", "new")]
    report = subs.bot.run(subs.bot.bot.subscriptions.sync(subs.bot.bot.service.client_for))
    assert report.forgotten == 1
    listing = subs.command("subscriptions")
    assert "`team-a` (every repository): `repo_push` · 2 Quay notifications" in listing.text


def test_channels_following_one_namespace_share_one_listing_per_sync(subs: Subscriptions):
    subs.command("subscribe team-a repo_push")
    subs.command("subscribe team-a repo_push", channel="C0SUB")
    subs.world.add_repo("team-a/new")
    listings = len(subs.world.requests_to("GET", "/api/v1/repository$"))
    report = subs.bot.run(subs.bot.bot.subscriptions.sync(subs.bot.bot.service.client_for))
    assert report.created == 2 and len(subs.hooks("team-a/new")) == 2  # one webhook per channel
    assert len(subs.world.requests_to("GET", "/api/v1/repository$")) == listings + 1


def test_a_large_namespace_subscription_asks_for_confirmation_first(subs: Subscriptions):
    for index in range(34):
        subs.world.add_repo(f"team-a/svc-{index}")  # 36 repositories x 3 events = 108
    prompt = subs.command("subscribe team-a")
    assert "It adds 108 webhook notifications" in prompt.text and subs.hooks() == []
    confirmed = subs.driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0WRITE")
    replies = subs.slack.wait_for(confirmed.response_id, count=2, timeout=30)
    assert any("108 Quay notifications added" in r.text for r in replies)
    owned = [n for n in subs.world.notifications.values() if (n.title or "").startswith("quaybot")]
    assert len(owned) == 108


def test_unsubscribe_deletes_exactly_the_bots_notifications(subs: Subscriptions):
    theirs = subs.world.add_notification("team-a/api", event="repo_push")
    subs.command("subscribe team-a/api")
    partly = subs.command("unsubscribe team-a/api repo_push")
    assert "1 Quay notification deleted" in partly.text and "Still subscribed" in partly.text
    assert sorted(h.event for h in subs.hooks()) == ["build_failure", "vulnerability_found"]
    done = subs.command("unsubscribe team-a/api")
    assert "2 Quay notifications deleted" in done.text
    assert subs.hooks() == [] and theirs.uuid in subs.world.notifications
    assert "no subscriptions" in subs.command("subscriptions").text
    missing = subs.command("unsubscribe team-a/web")
    assert "no subscription to `team-a/web`" in missing.text


def test_subscribing_needs_the_write_role_and_the_channels_own_namespace(subs: Subscriptions):
    refused = subs.command("subscribe team-a/api", channel="C0READ")
    assert "Not allowed" in refused.text and subs.hooks() == []
    other = subs.command("subscribe team-b/jobs")
    assert "Not allowed" in other.text and subs.hooks("team-b/jobs") == []
    assert "For the repository" not in refused.text + other.text


def test_a_bare_repository_name_read_as_a_namespace_is_refused_with_how_to_name_it(subs: Subscriptions):
    # Elsewhere a bare word is a repository of the channel's one namespace; here it is a namespace.
    refused = subs.command("subscribe api repo_push")
    assert "Not allowed" in refused.text and subs.hooks() == []
    assert "For the repository `team-a/api`, write `/quay subscribe team-a/api`." in refused.text
    refused = subs.command("unsubscribe api")
    assert "write `/quay unsubscribe team-a/api`" in refused.text
    assert "For the repository" not in subs.command("subscribe team-a", channel="C0READ").text  # the role


def test_without_a_public_url_subscribe_says_what_is_missing(quay, world, slack, tmp_path, access_file):
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        reply = driver.reply(driver.slash("subscribe team-a/api", user=ALICE, channel="C0WRITE"))
        assert "QUAYBOT_PUBLIC_URL" in reply.text and "not set" in reply.text
        assert not [n for n in world.notifications.values() if (n.title or "").startswith("quaybot")]
    finally:
        driver.close()
        bot.stop()


def _post(subs: Subscriptions, url: str, body: dict[str, Any] | bytes) -> int:
    local = url.replace("http://127.1:", "http://127.0.0.1:")
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = httpx.post(local, content=data, headers={"Content-Type": "application/json"}, timeout=10)
    return response.status_code


def test_what_the_receiver_refuses_posts_nothing(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    url = subs.url_of()
    good = payload_for("team-a", "api", updated_tags=["v9"])
    token = url.split("/")[-1].split("?")[0]
    wrong = url.replace(token, "A" * len(token))
    assert _post(subs, wrong, good) == 404
    assert _post(subs, url.replace(token, "short"), good) == 404
    assert _post(subs, url, json.dumps(good).encode() + b" " * 70_000) == 413
    assert _post(subs, url, payload_for("team-a", "web", updated_tags=["v9"])) == 400  # another repository
    assert _post(subs, url, payload_for("team-b", "jobs", updated_tags=["v9"])) == 400
    assert _post(subs, url, {"repository": "team-a/api"}) == 400  # not a push payload
    assert _post(subs, url, b"not json") == 400
    assert _post(subs, url.replace("event=repo_push", "event=build_start"), good) == 200  # not subscribed: dropped
    flush(subs.bot)
    assert parents(subs.slack, "C0WRITE") == []
    response = httpx.post(wrong.replace("http://127.1:", "http://127.0.0.1:"), json=good)
    assert response.content == b""  # a bare 404: nothing about why
    assert _post(subs, url, good) == 200
    flush(subs.bot)
    assert len(parents(subs.slack, "C0WRITE")) == 1


def test_a_flood_is_rate_limited_per_subscription(subs: Subscriptions):
    subs.command("subscribe team-a/api vulnerability_found")
    url = subs.url_of("vulnerability_found")
    body = payload_for("team-a", "api", tags=["latest"], vulnerability={"id": "CVE-1", "priority": "Low"})
    statuses = [_post(subs, url, body) for _ in range(100)]
    assert set(statuses) == {200}  # Quay must not count the dropped ones as failures
    flush(subs.bot, timeout=60)
    posted = parents(subs.slack, "C0WRITE")
    assert 15 <= len(posted) <= 25  # the burst, then about one every two seconds


def test_a_channel_that_loses_the_namespace_gets_nothing_more(subs: Subscriptions, tmp_path: Path):
    subs.command("subscribe team-a/api repo_push")
    (tmp_path / "sub-access.yml").write_text(
        SUB_ACCESS.replace("[team-a]\n    role: write", "[team-b]\n    role: write")
    )
    subs.bot.bot.reloader.check()  # (its own periodic check may have just done it)
    assert subs.bot.bot.policy.channel("C0WRITE").namespaces == ("team-b",)
    subs.world.push("team-a/api", ["v2"])
    subs.deliver()
    assert parents(subs.slack, "C0WRITE") == []


def test_quay_unable_to_reach_the_bot_gives_the_explicit_alert(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    subs.bot.run(subs.bot.server.runner.cleanup())  # the bot's HTTP port closes: Quay cannot reach it
    subs.world.push("team-a/api", ["v2"])
    subs.world.worker.drain(subs.world.now(), rounds=1)
    [hook] = subs.hooks()
    assert hook.number_of_failures == 1
    subs.bot.run(subs.bot.bot.watch.watcher.sweep())
    flush(subs.bot)
    [alert] = parents(subs.slack, "C0WRITE")
    assert "Quay cannot reach quaybot" in alert.text and "QUAYBOT_PUBLIC_URL" in alert.text
    assert "events are being lost" in alert.text


def test_the_subscribing_channel_hears_that_quay_cannot_reach_the_bot_and_nothing_else(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push", channel="C0SUB")
    other = subs.world.add_notification("team-a/api", event="repo_push")
    subs.world.worker.dead_hosts.add("hooks.example.com")  # a team's own webhook, failing too
    subs.bot.run(subs.bot.server.runner.cleanup())
    subs.world.push("team-a/api", ["v2"])
    subs.world.worker.drain(subs.world.now(), rounds=1)
    assert subs.world.notifications[other.uuid].number_of_failures == 1
    subs.bot.run(subs.bot.bot.watch.watcher.sweep())
    flush(subs.bot)
    [mine] = parents(subs.slack, "C0SUB")  # alerts: false, but it subscribed through this webhook
    assert "Quay cannot reach quaybot" in mine.text
    assert len(parents(subs.slack, "C0WRITE")) == 2  # alerts: true: both failures


def test_after_the_public_url_moves_new_webhooks_keep_the_subscriptions_token(subs: Subscriptions):
    subs.command("subscribe team-a/api repo_push")
    old = subs.url_of("repo_push")
    subs.bot.bot.subscriptions.public_url = f"http://127.0.0.1.nip.example:{subs.bot.server.port}"
    subs.command("subscribe team-a/api build_failure")
    new = subs.url_of("build_failure")
    assert new.startswith("http://127.0.0.1.nip.example:")
    assert new.split("/")[-1].split("?")[0] == old.split("/")[-1].split("?")[0]  # so the old one still works
    assert _post(subs, old, payload_for("team-a", "api", updated_tags=["v1"])) == 200
