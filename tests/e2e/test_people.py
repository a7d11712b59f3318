"""People act as themselves: linking a Quay account through both of Quay's OAuth flows (as
../shared/quay-oauth-observed.md has them), acting with it, Quay refusing by the person's real
rights, a revoked token, and what is stored. Driven as Slack and a browser do, against the real bot."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.sealing import Sealer, Unsealable
from tests.e2e.conftest import ALICE, BOB, MALLORY, SIGNING_SECRET, BotThread, make_settings
from tests.fakes.browser import Browser
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

CLIENT_ID, CLIENT_SECRET = "QUAYBOTCLIENTID0000000", "client-secret-of-quaybot-0000000000000000"
KEY = Fernet.generate_key().decode()
ACCESS = """
channels:
  C0PEOPLE:
    namespaces: [team-p]
    role: admin
    identity: user
  C0BOTS:
    namespaces: [team-p]
    role: admin
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_people(fake: FakeQuay, public_url: str) -> None:
    fake.add_user("owner")
    fake.add_org("team-p", admins=["devtable", "owner"], members=["freshuser"])
    fake.add_repo("team-p/api", description="The API", tags=["latest"])
    fake.add_repo("team-p/web", description="Web")
    fake.grant("team-p/api", "freshuser", "read")
    fake.oauth.add_application(CLIENT_ID, CLIENT_SECRET, "team-p", public_url + "/quay/oauth/callback")


class People:
    def __init__(self, bot: BotThread, driver: SlackDriver, fake: FakeQuay, quay_url: str, public_url: str) -> None:
        self.bot, self.driver, self.fake, self.quay_url, self.public_url = bot, driver, fake, quay_url, public_url
        self.browsers: list[Browser] = []

    def browser(self, quay_user: str | None) -> Browser:
        browser = Browser(self.quay_url, quay_user)
        self.browsers.append(browser)
        return browser

    def say(self, text: str, user: str, channel: str = "C0PEOPLE"):
        return self.driver.reply(self.driver.slash(text, user=user, channel=channel))

    def login_url(self, reply) -> str:
        [button] = [
            e for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("url")
        ]
        assert button["action_id"] == "quaybot_login_open" and button["url"].startswith(self.public_url)
        return str(button["url"])

    def link_by_code(self, user: str, quay_user: str) -> str:
        """The code flow, as an admin of the application's organization goes through it: the page's text."""
        browser = self.browser(quay_user)
        consent = browser.get(self.login_url(self.say("login", user)))
        assert consent.status == 200 and "Authorize" in consent.text, consent.text
        done = browser.submit(consent)
        return done.text

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()


@pytest.fixture
def people(quay: FakeQuayServer, slack: FakeSlack, tmp_path: Path) -> Iterator[People]:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    seed_people(quay.fake, public_url)
    access = tmp_path / "people.yml"
    access.write_text(ACCESS)
    settings = make_settings(
        quay.url,
        slack,
        tmp_path,
        access,
        QUAYBOT_HTTP_PORT=port,
        QUAYBOT_PUBLIC_URL=public_url,
        QUAY_OAUTH_CLIENT_ID=CLIENT_ID,
        QUAY_OAUTH_CLIENT_SECRET=SecretStr(CLIENT_SECRET),
        QUAYBOT_SECRET_KEY=SecretStr(KEY),
    )
    bot = BotThread(settings)
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    world = People(bot, driver, quay.fake, quay.url, public_url)
    yield world
    world.close()
    driver.close()
    bot.stop()


def test_an_org_admin_links_with_the_code_flow_and_quay_then_names_them(people: People):
    page = people.link_by_code(ALICE, "owner")
    assert "now linked to the Quay account <b>owner</b>" in page
    who = people.say("whoami", ALICE)
    assert "`owner`" in who.text and "your own Quay account" in who.text
    prompt = people.say("repo delete api", ALICE)
    assert "Delete `team-p/api`?" in prompt.text
    click = people.driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0PEOPLE")
    people.driver.slack.wait_for(click.response_id, count=2)
    assert ("team-p", "api") not in people.fake.repos
    # Quay's usage logs name the person, and the bot's OAuth application: not the bot's token's owner.
    assert people.fake.oauth.performers("delete_repo") == [("owner", CLIENT_ID)]


def test_a_channel_acting_as_the_bot_keeps_the_bots_token(people: People):
    people.link_by_code(ALICE, "owner")
    people.say("repo describe team-p/web \"from the bot channel\"", ALICE, "C0BOTS")
    assert people.fake.oauth.performers("set_repo_description") == [("devtable", None)]


def test_someone_not_an_org_admin_is_told_what_to_do_then_links_through_an_assignment(people: People):
    browser = people.browser("freshuser")
    offer = people.say("login", BOB)
    assert "only admins of `team-p` approve it themselves" in offer.text
    forbidden = browser.get(people.login_url(offer))
    assert forbidden.status == 403 and "Forbidden" in forbidden.text  # Quay's own answer
    asked = people.say("login freshuser", BOB)
    assert "assigned to the Quay user `freshuser`" in asked.text
    assert "organization/team-p?tab=applications" in str(asked.body)
    assert f"{people.public_url}/quay/oauth/callback" in asked.text
    # An admin of team-p assigns the application to freshuser in Quay's UI.
    assigned = people.fake.oauth.assign(
        "owner", CLIENT_ID, "freshuser", f"{people.public_url}/quay/oauth/callback", "repo:read repo:write user:read"
    )
    assert assigned.status == 200
    # The button opens Quay's page for approving it (the bot binds this browser on the way)...
    approve_page = browser.get(people.login_url(asked), follow=False)
    assert approve_page.status == 302
    assert approve_page.headers["location"].endswith("/user/freshuser/?tab=external")
    assert "HttpOnly" in approve_page.headers["set-cookie"] and "SameSite=Lax" in approve_page.headers["set-cookie"]
    # ...where freshuser approves; Quay's UI sends no state of the bot's.
    [assignment] = people.fake.oauth.state.assignments.values()
    consent = browser.get(
        f"{people.quay_url}/oauth/authorize?response_type=token&client_id={CLIENT_ID}"
        f"&scope=repo%3Aread+repo%3Awrite+user%3Aread&redirect_uri={assignment.redirect_uri}"
        f"&assignment_uuid={assignment.uuid}"
    )
    back = browser.submit(consent)
    assert back.fragment.startswith("access_token=") and "access_token" not in back.url  # never sent to the bot
    done = browser.run_callback_script(back)
    assert "now linked to the Quay account <b>freshuser</b>" in done.text
    assert "`freshuser`" in people.say("whoami", BOB).text


def test_quay_refuses_by_the_persons_own_rights_where_the_channel_would_allow_it(people: People):
    _link_freshuser(people)
    card = people.say("repo info api", BOB)
    assert "team-p/api" in card.text and "failed" not in card.text  # freshuser may read it
    refused = people.say("repo delete api", BOB)
    assert (
        "Your Quay account `freshuser` may not run `repo delete` on `team-p/api`: Quay says you need admin on it."
        in refused.text
    )
    assert ("team-p", "api") in people.fake.repos
    hidden = people.say("repo info web", BOB)
    assert "may not run `repo info` on `team-p/web`" in hidden.text  # freshuser cannot see it at all


def test_without_a_link_nothing_runs_and_the_answer_offers_the_login(people: People):
    answer = people.say("repo info api", MALLORY)
    assert "yours is not linked yet" in answer.text
    assert people.login_url(answer)
    assert not people.fake.requests_to("GET", "/api/v1/repository/team-p/api")


def test_a_token_revoked_in_quay_unlinks_on_next_use(people: People):
    people.link_by_code(ALICE, "owner")
    people.fake.oauth.revoke("owner", CLIENT_ID)
    answer = people.say("repo info api", ALICE)
    assert "no longer accepts the token of your linked account `owner`" in answer.text
    assert people.login_url(answer)
    assert "not linked" in people.say("whoami", ALICE).text


def test_logout_forgets_and_says_how_to_revoke_in_quay(people: People):
    people.link_by_code(ALICE, "owner")
    out = people.say("logout", ALICE)
    assert "forgot your link to the Quay account `owner`" in out.text and "Revoke" in out.text
    assert "/user/owner/?tab=external" in str(out.body)
    assert "yours is not linked yet" in people.say("repo info api", ALICE).text


def test_a_login_link_is_used_once_and_only_by_the_browser_that_opened_it(people: People):
    url = people.login_url(people.say("login", ALICE))
    first = people.browser("owner").get(url, follow=False)
    assert first.status == 302
    again = people.browser("owner").get(url)
    assert again.status == 400 and "opened in another browser" in again.text
    # A browser with no login of its own posting a token links nothing.
    stranger = people.browser(None)
    posted = stranger.request("POST", f"{people.public_url}/quay/oauth/callback", {"access_token": "x" * 40})
    assert posted.status == 400 and "did not start a login" in posted.text
    assert "not linked" in people.say("whoami", ALICE).text


def test_a_code_comes_back_only_to_the_browser_that_started(people: People):
    """Someone else's browser replaying the callback address (the code and state in it) links nothing."""
    url = people.login_url(people.say("login", ALICE))
    browser = people.browser("owner")
    consent = browser.get(url)
    redirect = browser.request("POST", f"{people.quay_url}/oauth/authorizeapp", _form(consent), follow=False)
    callback = redirect.headers["location"]
    thief = people.browser(None)
    assert "did not start a login" in thief.get(callback).text
    assert "now linked" in browser.get(callback).text


def _form(page) -> dict[str, str]:
    import re

    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))


def test_the_stored_token_is_unreadable_without_the_key_and_no_secret_is_logged(
    people: People, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    people.link_by_code(ALICE, "owner")
    [token] = [t for t, held in people.fake.tokens.items() if held.user == "owner" and held.app == CLIENT_ID]
    with sqlite3.connect(tmp_path / "quaybot.db") as db:
        [(sealed, username)] = db.execute("SELECT token_sealed, quay_username FROM linked_accounts").fetchall()
    assert username == "owner" and token.encode() not in sealed
    assert Sealer(SecretStr(KEY)).open(sealed).get_secret_value() == token
    with pytest.raises(Unsealable):
        Sealer(SecretStr(Fernet.generate_key().decode())).open(sealed)
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert token not in logged and CLIENT_SECRET not in logged and KEY not in logged


def _link_freshuser(people: People) -> None:
    people.fake.oauth.assign(
        "owner", CLIENT_ID, "freshuser", f"{people.public_url}/quay/oauth/callback", "repo:read repo:write user:read"
    )
    browser = people.browser("freshuser")
    browser.get(people.login_url(people.say("login freshuser", BOB)), follow=False)
    [assignment] = people.fake.oauth.state.assignments.values()
    consent = browser.get(
        f"{people.quay_url}/oauth/authorize?response_type=token&client_id={CLIENT_ID}"
        f"&scope=repo%3Aread+repo%3Awrite+user%3Aread&redirect_uri={assignment.redirect_uri}"
        f"&assignment_uuid={assignment.uuid}"
    )
    assert "now linked" in browser.run_callback_script(browser.submit(consent)).text
