"""Tags from Slack, end to end against the real bot and the fake Quay's tag API: what is prod, who
pushed it, what it was, a rollback from the buttons in two clicks, and the refusals."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import ALICE, BotThread
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_driver import SlackDriver


@pytest.fixture
def releases(world: FakeQuay) -> dict[str, str]:
    """team-a/api:prod pushed three times (an hour apart), latest and prod on the same manifest now."""
    start = time.time() - 3 * 3600
    digests = {}
    for hour, who in enumerate(["devtable", "devtable", "freshuser"]):
        world.now = lambda at=start + hour * 3600: at
        world.push("team-a/api", ["prod"], by=who)
        digests[f"v{hour + 1}"] = world.repos["team-a", "api"].tags["prod"]["manifest_digest"]
    world.now = time.time
    world.repos["team-a", "api"].tags["latest"]["manifest_digest"] = digests["v3"]
    return digests


def say(driver: SlackDriver, text: str, channel: str = "C0ADMIN", user: str = ALICE):
    return driver.reply(driver.slash(text, user=user, channel=channel))


def test_what_is_prod_who_pushed_it_and_what_it_was(driver: SlackDriver, releases: dict[str, str]):
    info = say(driver, "tag info api:prod", "C0READ")
    text = str(info.body)
    assert releases["v3"] in text and "by `freshuser`" in text  # the usage logs say who
    assert "Also on this manifest: `latest`" in info.text
    assert "This Quay has no security scanner." in info.text
    restores = [
        b["accessory"]["value"]
        for b in info.body["blocks"]
        if b.get("accessory", {}).get("action_id", "").startswith("quaybot_command")
    ]
    assert restores == [
        f"tag restore team-a/api:prod {releases['v2']}",
        f"tag restore team-a/api:prod {releases['v1']}",
    ]


def test_rollback_in_two_clicks_from_the_tag_card(driver: SlackDriver, world: FakeQuay, releases: dict[str, str]):
    info = say(driver, "tag info api:prod")
    prompt = driver.reply(driver.click(info, "quaybot_command", user=ALICE, channel="C0ADMIN"))
    assert "Restore `team-a/api:prod` to `sha256:" in prompt.text and "From: " in prompt.text
    assert not world.requests_to("POST", ".*/restore")
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    _, announced = driver.slack.wait_for(click.response_id, count=2)
    assert f"<@{ALICE}> restored `team-a/api:prod`" in announced.text
    assert world.repos["team-a", "api"].tags["prod"]["manifest_digest"] == releases["v2"]
    assert world.repos["team-a", "api"].tags["prod"]["reversion"] is True


def test_a_unique_digest_prefix_restores_an_ambiguous_or_unknown_one_is_said(
    driver: SlackDriver, world: FakeQuay, releases: dict[str, str]
):
    prefix = releases["v1"][7:15]
    prompt = say(driver, f"tag restore api:prod {prefix}")
    assert "Restore `team-a/api:prod`" in prompt.text
    unknown = say(driver, "tag restore api:prod abcdef0")
    assert "no version of team-a/api:prod has the digest abcdef0" in unknown.text


def test_the_read_role_may_look_but_not_restore(driver: SlackDriver, world: FakeQuay, releases: dict[str, str]):
    refused = say(driver, f"tag restore api:prod {releases['v1']}", "C0READ")
    assert "`tag restore` needs the write role; this channel has read" in refused.text
    info = say(driver, "tag info api:prod", "C0READ")
    click = driver.click(info, "quaybot_command", user=ALICE, channel="C0READ")
    assert "needs the write role" in driver.reply(click).text
    assert not world.requests_to("POST", ".*/restore")


def test_tag_list_pages_newest_first_and_all_shows_the_past(driver: SlackDriver, world: FakeQuay, releases):
    every = say(driver, "tag list api --all")
    assert str(every.body).count("ended ") == 2  # prod's two earlier versions, still restorable
    for index in range(60):
        world.repos["team-a", "api"].tags[f"t{index:02d}"] = {
            "name": f"t{index:02d}",
            "size": 10,
            "manifest_digest": releases["v1"],
            "start_ts": int(time.time()) - 10000 - index,
        }
    first = say(driver, "tag list api")
    assert first.body["text"].startswith("Tags of team-a/api") and "`prod`" in str(first.body)
    assert "Next" in str(first.body) and "Previous" not in str(first.body)
    second = driver.slack.wait_for(
        driver.click(first, "quaybot_command_page", user=ALICE, channel="C0ADMIN").response_id
    )[0]
    assert second.body["replace_original"] and "Previous" in str(second.body) and "Page 2" in str(second.body)


def test_move_creates_without_asking_and_asks_before_moving(driver: SlackDriver, world: FakeQuay, releases):
    created = say(driver, "tag move api:staging prod")
    assert f"<@{ALICE}> pointed `team-a/api:staging`" in created.text
    assert world.repos["team-a", "api"].tags["staging"]["manifest_digest"] == releases["v3"]
    prompt = say(driver, f"tag move api:staging {releases['v1'][:20]}")
    assert "Move `team-a/api:staging`" in prompt.text
    assert world.repos["team-a", "api"].tags["staging"]["manifest_digest"] == releases["v3"]


def test_expire_refuses_the_past_before_quay_and_sets_a_duration(driver: SlackDriver, world: FakeQuay, releases):
    past = say(driver, "tag expire api:prod 2020-01-01")
    assert "is in the past" in past.text and not world.requests_to("PUT", ".*/tag/prod")
    done = say(driver, "tag expire api:prod 2h")
    assert "set `team-a/api:prod` to expire at" in done.text
    assert abs(world.repos["team-a", "api"].tags["prod"]["end_ts"] - (time.time() + 7200)) < 60
    never = say(driver, "tag expire api:prod never")
    assert "never expire" in never.text and world.repos["team-a", "api"].tags["prod"]["end_ts"] is None


def test_delete_is_confirmed_says_how_long_it_is_restorable_and_offers_restore(
    driver: SlackDriver, world: FakeQuay, releases
):
    prompt = say(driver, "tag delete api:prod")
    assert "Delete `team-a/api:prod`?" in prompt.text and "restorable for 14 days" in prompt.text
    click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ADMIN")
    _, announced = driver.slack.wait_for(click.response_id, count=2)
    assert "deleted `team-a/api:prod`" in announced.text and "restorable for 14 days" in announced.text
    assert "prod" not in world.repos["team-a", "api"].tags
    back = driver.reply(driver.click(announced, "quaybot_command", user=ALICE, channel="C0ADMIN"))
    assert "Restore `team-a/api:prod`" in back.text


def test_the_repository_card_links_each_recent_tag_to_its_info(driver: SlackDriver, releases):
    card = say(driver, "repo info api")
    values = [
        e["value"]
        for b in card.body["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id", "").startswith("quaybot_command")
    ]
    assert "tag info team-a/api:prod" in values
    info = driver.reply(
        driver.click(card, "quaybot_command", user=ALICE, channel="C0ADMIN", value="tag info team-a/api:prod")
    )
    assert "team-a/api:prod" in info.text


def test_the_cli_mirrors_it(quay, world: FakeQuay, releases, access_file, tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from tests.conftest import T

    for name, value in {"QUAY_URL": quay.url, "QUAY_TOKEN": T, "QUAYBOT_ACCESS_FILE": str(access_file)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("QUAYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    run = ["run", "--channel", "C0ADMIN", "--user", ALICE]
    assert main([*run, "--", "tag", "restore", "team-a/api:prod", releases["v1"]]) == 3  # confirmation needed
    assert "Restore team-a/api:prod" in capsys.readouterr().out
    assert main([*run, "--yes", "--", "tag", "restore", "team-a/api:prod", releases["v1"]]) == 0
    assert "restored team-a/api:prod" in capsys.readouterr().out
    assert world.repos["team-a", "api"].tags["prod"]["manifest_digest"] == releases["v1"]
    assert main([*run, "--", "tag", "info", "team-a/api:prod"]) == 0
    assert "This Quay has no security scanner." in capsys.readouterr().out


def test_a_push_message_offers_restore_previous(bot: BotThread, world: FakeQuay, releases, driver: SlackDriver):
    from bot.blocks.events import render_push

    payload = render_push(
        {"repository": "team-a/api", "tags": ["prod"], "pushes": 1, "docker_url": "quay.test/team-a/api"}
    )
    [action] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert action["elements"][0]["value"] == "team-a/api:prod"
    message = type("Posted", (), {"body": payload})()
    prompt = driver.reply(driver.click(message, "quaybot_tag_restore_previous", user=ALICE, channel="C0ADMIN"))
    assert "Restore `team-a/api:prod` to `sha256:" in prompt.text
    assert re.search(releases["v2"][7:19], prompt.text)


def test_a_tags_vulnerabilities_where_quay_has_a_scanner(driver: SlackDriver, world: FakeQuay, releases):
    def vulnerability(name: str, severity: str, fixed: str | None) -> dict:
        return {"Name": name, "Severity": severity, **({"FixedBy": fixed} if fixed else {})}

    world.tag_api.scanner = {
        releases["v3"]: {
            "status": "scanned",
            "data": {
                "Layer": {
                    "Features": [
                        {
                            "Name": "openssl",
                            "Version": "3.0.1",
                            "Vulnerabilities": [
                                vulnerability("CVE-2026-0001", "Critical", "3.0.9"),
                                vulnerability("CVE-2026-0002", "Low", None),
                            ],
                        },
                        {
                            "Name": "zlib",
                            "Version": "1.2",
                            "Vulnerabilities": [vulnerability("CVE-2026-0003", "High", "1.3")],
                        },
                    ]
                }
            },
        }
    }
    info = say(driver, "tag info api:prod")
    assert "Critical: 1, High: 1, Low: 1" in info.text
    assert "`CVE-2026-0001` openssl 3.0.1 → fixed in 3.0.9" in info.text
    world.tag_api.scanner[releases["v3"]] = {"status": "queued", "data": None}
    assert "Not scanned yet (queued)." in say(driver, "tag info api:prod").text


def test_a_tag_change_can_need_a_second_person(quay, world: FakeQuay, slack, tmp_path, releases):
    from tests.e2e.conftest import BOB, bot_with_access

    access = "channels:\n  C0OPS:\n    namespaces: [team-a]\n    role: write\n    approval: [tag restore]\n"
    with bot_with_access(quay, slack, tmp_path, access) as (_, driver):
        prompt = say(driver, f"tag restore api:prod {releases['v1']}", "C0OPS")
        click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0OPS")
        _, request = driver.slack.wait_for(click.response_id, count=2)
        assert "asks for a second person's approval" in request.text
        assert not world.requests_to("POST", ".*/restore")
        approve = driver.click(request, "quaybot_approve", user=BOB, channel="C0OPS")
        driver.slack.wait_for(approve.response_id, count=2)
        assert world.repos["team-a", "api"].tags["prod"]["manifest_digest"] == releases["v1"]


def test_a_new_tag_under_approval_still_asks_the_channel(quay, world: FakeQuay, slack, tmp_path, releases):
    from tests.e2e.conftest import BOB, bot_with_access

    access = "channels:\n  C0OPS:\n    namespaces: [team-a]\n    role: write\n    approval: [tag move]\n"
    with bot_with_access(quay, slack, tmp_path, access) as (_, driver):
        prompt = say(driver, "tag move api:canary prod", "C0OPS")
        assert (
            "Move `team-a/api:canary` to `prod`?" in prompt.text and "canary" not in world.repos["team-a", "api"].tags
        )
        click = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0OPS")
        _, request = driver.slack.wait_for(click.response_id, count=2)
        approve = driver.click(request, "quaybot_approve", user=BOB, channel="C0OPS")
        driver.slack.wait_for(approve.response_id, count=2)
        assert world.repos["team-a", "api"].tags["canary"]["manifest_digest"] == releases["v3"]
