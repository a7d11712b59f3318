"""Paged `repo list`: 20 a page with Previous/Next, across Quay's 100-item pages, and a Quay page token
that has expired (Quay then silently answers its first page)."""

from __future__ import annotations

import re

from tests.e2e.conftest import ALICE
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_driver import SlackDriver


def names(message) -> list[str]:
    return re.findall(r"team-a/(svc-\d+)\|", message.text)


def next_page(driver: SlackDriver, message, action: str = "quaybot_list_next", channel: str = "C0READ"):
    sent = driver.click(message, action, user=ALICE, channel=channel)
    [reply] = driver.slack.wait_for(sent.response_id)
    assert reply.body["replace_original"] is True
    return reply


def test_pages_of_twenty_across_quays_pages_of_a_hundred(driver: SlackDriver, world: FakeQuay):
    for index in range(1, 229):  # with api and web: 230 repositories, 3 of Quay's pages
        world.add_repo(f"team-a/svc-{index:03d}")
    first = driver.reply(driver.slash("repo list", user=ALICE, channel="C0READ"))
    assert "page 1 (1–20)" in first.text and len(names(first)) == 18  # api, web, then svc-001…
    buttons = [e["text"]["text"] for b in first.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Next"]
    page = first
    seen = names(first)
    for number in range(2, 13):
        page = next_page(driver, page)
        assert f"page {number} (" in page.text
        seen += names(page)
    assert seen == [f"svc-{i:03d}" for i in range(1, 229)]  # every one, once, in Quay's order
    assert "page 12 (221–230)" in page.text and "Next" not in page.text
    listings = [r for r in world.requests_to("GET", "/api/v1/repository$")]
    assert len(listings) == 12  # one Quay call a page: the tokens travel in the buttons
    back = next_page(driver, page, "quaybot_list_previous")
    assert "page 11 (201–220)" in back.text
    back = next_page(
        driver,
        next_page(driver, next_page(driver, back, "quaybot_list_previous"), "quaybot_list_previous"),
        "quaybot_list_previous",
    )
    assert "page 8 (141–160)" in back.text and names(back)[0] == "svc-139"


def test_an_expired_page_token_restarts_the_listing_and_says_so(driver: SlackDriver, world: FakeQuay):
    for index in range(1, 129):
        world.add_repo(f"team-a/svc-{index:03d}")
    page = driver.reply(driver.slash("repo list", user=ALICE, channel="C0READ"))
    for _ in range(4):
        page = next_page(driver, page)
    assert "page 5 (81–100)" in page.text
    later = world.now() + 3 * 24 * 3600  # Quay's tokens last 2 days
    world.now = lambda: later
    restarted = next_page(driver, page)
    assert "first page again" in restarted.text and "page 1 (1–20)" in restarted.text
    assert names(restarted)[:2] == ["svc-001", "svc-002"]


def test_a_click_checks_access_again(driver: SlackDriver, world: FakeQuay, bot, access_file):
    for index in range(1, 40):
        world.add_repo(f"team-a/svc-{index:03d}")
    page = driver.reply(driver.slash("repo list", user=ALICE, channel="C0READ"))
    access_file.write_text(
        access_file.read_text().replace("C0READ:\n    namespaces: [team-a]", "C0READ:\n    namespaces: [team-b]")
    )
    bot.bot.reloader.check()
    refused = next_page(driver, page)
    assert "Not allowed" in refused.text and "svc-" not in refused.text


def test_a_forged_page_value_is_refused(driver: SlackDriver):
    page = driver.reply(driver.slash("repo list", user=ALICE, channel="C0READ"))
    for value in (
        "{}",
        "not json",
        '{"ns":"../x","pub":0,"star":0,"p":1,"t":[],"f":null}',
        '{"ns":"team-a","pub":0,"star":0,"p":-1,"t":[],"f":null}',
    ):
        sent = driver.send_payload(
            {
                "type": "block_actions",
                "user": {"id": ALICE},
                "team": {"id": "T0TEAM"},
                "channel": {"id": "C0READ"},
                "response_url": (url := driver.slack.new_response_url()),
                "actions": [{"action_id": "quaybot_list_next", "value": value}],
            },
            url,
        )
        [reply] = driver.slack.wait_for(sent.response_id)
        assert "malformed" in reply.text
    assert page
