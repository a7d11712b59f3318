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
from tests.fakes.quay import TOKEN_APP, FakeQuay, FakeQuayServer
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_driver import SlackDriver

CLIENT_ID, CLIENT_SECRET = "QUAYBOTCLIENTID0000000", "client-secret-of-quaybot-0000000000000000"
KEY = Fernet.generate_key().decode()
CAROL = "U0CAROL"
ACCESS = """
channels:
  C0PEOPLE:
    namespaces: [team-p]
    role: admin
    identity: user
  C0BOTS:
    namespaces: [team-p]
    role: admin
  C0TWO:
    namespaces: [team-p]
    role: admin
    identity: user
    approval: [repo delete]
  C0TWOBOT:
    namespaces: [team-p]
    role: admin
    approval: [repo delete, repo describe]
  C0READ:
    namespaces: [team-p]
    role: read
    approval: [repo delete]
guardrails:
  - name: team repositories stay private
    namespaces: ["team-*"]
    deny: ["repo visibility public"]
  - namespaces: [team-p]
    deny: [notify delete]
audit_channel: C0AUDIT
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
        [button] = [e for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("url")]
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
    people.say('repo describe team-p/web "from the bot channel"', ALICE, "C0BOTS")
    assert people.fake.oauth.performers("set_repo_description") == [("devtable", TOKEN_APP)]


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
    who = people.say("whoami", BOB).text
    assert "`freshuser`" in who and "scopes: repo:read, repo:write, user:read" in who  # the assignment's


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
    # Nor does a browser holding a login of its own (the thief's, as another Slack user).
    thief.get(people.login_url(people.say("login", MALLORY)), follow=False)
    stolen = thief.get(callback)
    assert stolen.status == 400 and "no login in progress" in stolen.text and "owner" not in stolen.text
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


# Two people for the dangerous ones ------------------------------------------------------------------


def ask_for_approval(people: People, text: str, user: str, channel: str):
    prompt = people.say(text, user, channel)
    click = people.driver.click(prompt, "quaybot_confirm", user=user, channel=channel)
    replaced, request = people.driver.slack.wait_for(click.response_id, count=2)
    assert replaced.body["replace_original"] and "second person's approval" in replaced.text
    assert request.body["response_type"] == "in_channel"
    assert f"<@{user}> asks for a second person's approval" in request.text
    return request


def decide(people: People, request, action: str, user: str, channel: str, count: int = 1):
    click = people.driver.click(request, action, user=user, channel=channel)
    return people.driver.slack.wait_for(click.response_id, count=count)


def test_a_listed_command_runs_only_once_another_member_approves(people: People):
    request = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    assert "Delete `team-p/web`?" in request.text and "Tags: 0" in request.text  # the confirmation's facts
    assert ("team-p", "web") in people.fake.repos
    [mine] = decide(people, request, "quaybot_approve", ALICE, "C0TWOBOT")
    assert "another member must approve" in mine.text and ("team-p", "web") in people.fake.repos
    replaced, announced = decide(people, request, "quaybot_approve", MALLORY, "C0TWOBOT", count=2)
    assert f"<@{MALLORY}> approved what <@{ALICE}> asked for" in replaced.text
    assert f"<@{MALLORY}> deleted `team-p/web`" in announced.text
    assert ("team-p", "web") not in people.fake.repos
    [again] = decide(people, request, "quaybot_approve", BOB, "C0TWOBOT")
    assert "already decided" in again.text and len(people.fake.requests_to("DELETE")) == 1


def test_two_approvers_at_once_run_it_once(people: People):
    from concurrent.futures import ThreadPoolExecutor

    request = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    with ThreadPoolExecutor(4) as pool:
        clicks = list(
            pool.map(
                lambda user: people.driver.click(request, "quaybot_approve", user=user, channel="C0TWOBOT"),
                [BOB, MALLORY, CAROL, "U0DAVE"],
            )
        )
    texts = [people.driver.slack.wait_for(c.response_id)[0].text for c in clicks]
    assert sum("approved what" in t for t in texts) == 1
    assert len(people.fake.requests_to("DELETE")) == 1


def test_a_command_that_asks_no_confirmation_of_its_own_asks_one_where_it_needs_approval(people: People):
    request = ask_for_approval(people, 'repo describe web "approved text"', ALICE, "C0TWOBOT")
    assert "Run `/quay repo describe team-p/web" in request.text
    assert not people.fake.requests_to("PUT")
    decide(people, request, "quaybot_approve", BOB, "C0TWOBOT", count=2)
    assert people.fake.repos["team-p", "web"].description == "approved text"


def test_rejected_withdrawn_and_expired_requests_do_nothing(people: People):
    rejected = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    [said] = decide(people, rejected, "quaybot_reject", BOB, "C0TWOBOT")
    assert f"<@{BOB}> rejected this: nothing was done" in said.text
    withdrawn = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    [refused] = decide(people, withdrawn, "quaybot_withdraw", BOB, "C0TWOBOT")
    assert f"Only <@{ALICE}>, who asked for it, can withdraw it" in refused.text
    [said] = decide(people, withdrawn, "quaybot_withdraw", ALICE, "C0TWOBOT")
    assert f"<@{ALICE}> withdrew this" in said.text
    late = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    approvals = people.bot.bot.interactions.approving.approvals
    approvals.clock = lambda: __import__("time").time() + 3601
    [said] = decide(people, late, "quaybot_approve", BOB, "C0TWOBOT")
    assert "expired" in said.text
    assert ("team-p", "web") in people.fake.repos and not people.fake.requests_to("DELETE")


def test_an_approval_runs_as_the_approver_where_the_channel_acts_as_each_person(people: People):
    people.link_by_code(ALICE, "owner")
    people.link_by_code(CAROL, "devtable")
    request = ask_for_approval(people, "repo delete web", ALICE, "C0TWO")
    decide(people, request, "quaybot_approve", CAROL, "C0TWO", count=2)
    assert people.fake.oauth.performers("delete_repo") == [("devtable", CLIENT_ID)]


def test_an_approver_not_linked_is_asked_to_link_and_the_request_stays_open(people: People):
    people.link_by_code(ALICE, "owner")
    request = ask_for_approval(people, "repo delete web", ALICE, "C0TWO")
    [answer] = decide(people, request, "quaybot_approve", CAROL, "C0TWO")
    assert "yours is not linked yet" in answer.text and people.login_url(answer)
    people.link_by_code(CAROL, "devtable")
    decide(people, request, "quaybot_approve", CAROL, "C0TWO", count=2)
    assert ("team-p", "web") not in people.fake.repos


# Guardrails and the audit channel ------------------------------------------------------------------


def test_a_guardrail_refuses_what_the_channels_role_allows_and_names_itself(people: People):
    refused = people.say("repo visibility web public", ALICE, "C0BOTS")
    assert "Guardrail “team repositories stay private” denies `repo visibility public` in `team-p`" in refused.text
    assert not people.fake.requests_to("POST", ".*/changevisibility")
    people.fake.repos["team-p", "web"].is_public = True
    private = people.say("repo visibility web private", ALICE, "C0BOTS")
    assert "Not allowed" not in private.text  # the rule's words are matched, not the whole command
    unnamed = people.say("notify delete web 00000000-0000-0000-0000-000000000000", ALICE, "C0BOTS")
    assert "Guardrail 2 denies `notify delete` in `team-p`" in unnamed.text


def test_help_hides_what_a_guardrail_denies_outright_and_whoami_names_them(people: People):
    help_text = people.say("help notify", ALICE, "C0BOTS").text
    assert "notify delete" not in help_text and "notify reset" in help_text
    who = people.say("whoami", ALICE, "C0BOTS").text
    assert "team repositories stay private" in who and "the *bot's Quay token*" in who
    assert "second person's approval here" in people.say("whoami", ALICE, "C0TWO").text


def test_the_audit_channel_shows_links_changes_approvals_and_unlinks(people: People):
    people.link_by_code(ALICE, "owner")
    people.say('repo describe api "as the owner"', ALICE, "C0PEOPLE")
    rejected = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    decide(people, rejected, "quaybot_reject", BOB, "C0TWOBOT")
    approved = ask_for_approval(people, "repo delete web", ALICE, "C0TWOBOT")
    decide(people, approved, "quaybot_approve", MALLORY, "C0TWOBOT", count=2)
    people.say("logout", ALICE)
    people.say("login freshuser", BOB)
    sender = people.bot.bot.outbox
    sender.per_channel_interval = 0.0
    while people.bot.run(sender.send_due()):  # one message per channel per round, in order
        pass
    lines = [c.text for c in people.driver.slack.calls_to("chat.postMessage") if c.body.get("channel") == "C0AUDIT"]
    text = "\n".join(lines)
    assert f"<@{ALICE}> linked the Quay account `owner`" in text
    assert f"<@{ALICE}> in <#C0PEOPLE>, as the Quay user `owner`: `/quay repo describe team-p/api" in text
    assert (
        f"<@{ALICE}> in <#C0TWOBOT>, with the bot's Quay token: `/quay repo delete team-p/web` → approval requested"
        in text
    )
    assert f"<@{BOB}> in <#C0TWOBOT>, with the bot's Quay token: `/quay repo delete team-p/web` → rejected" in text
    assert f"<@{MALLORY}> in <#C0TWOBOT>, with the bot's Quay token: `/quay repo delete team-p/web` → approved" in text
    assert "→ confirmed succeeded" in text
    assert f"<@{ALICE}> unlinked the Quay account `owner`" in text
    assert f"<@{BOB}> asks an admin" in text and "`freshuser`" in text


def test_the_app_home_shows_the_link_and_a_button_that_links(people: People):
    def home(user: str, count: int) -> dict:
        people.driver.home_opened(user)
        calls = people.driver.slack.wait_for("views.publish", lambda c: c.body.get("user_id") == user, count=count)
        view = calls[-1].body["view"]
        return view if isinstance(view, dict) else __import__("json").loads(view)

    before = str(home(ALICE, 1))
    assert "Not linked" in before
    [url] = [e["url"] for b in home(ALICE, 2)["blocks"] if b["type"] == "actions" for e in b["elements"] if "url" in e]
    browser = people.browser("owner")
    assert "now linked to the Quay account <b>owner</b>" in browser.submit(browser.get(url)).text
    assert "Linked to `owner`" in str(home(ALICE, 3))


def test_help_lists_what_the_persons_own_account_may_do(people: People):
    _link_freshuser(people)
    people.link_by_code(ALICE, "owner")
    theirs = people.say("help repo", BOB).text
    assert "repo create" not in theirs and "repo info" in theirs
    assert "run as your Quay account `freshuser`" in theirs and "1 more command is beyond" in theirs
    mine = people.say("help repo", ALICE).text
    assert "repo create" in mine and "beyond" not in mine
    assert "which is not linked: `/quay login`" in people.say("help", MALLORY).text


def test_quaybot_run_acts_as_the_linked_person_too(people: People, tmp_path: Path, monkeypatch, capsys):
    from bot.cli import main
    from tests.conftest import T

    people.link_by_code(ALICE, "owner")
    settings = people.bot.bot.settings
    env = {
        "QUAY_URL": people.quay_url,
        "QUAY_TOKEN": T,
        "QUAYBOT_ACCESS_FILE": str(settings.access_file),
        "QUAYBOT_DATABASE_URL": settings.database_url,
        "QUAYBOT_PUBLIC_URL": people.public_url,
        "QUAY_OAUTH_CLIENT_ID": CLIENT_ID,
        "QUAY_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "QUAYBOT_SECRET_KEY": KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    run = ["run", "--channel", "C0PEOPLE", "--team", people.driver.team_id, "--user"]
    assert main([*run, ALICE, "--", "repo", "describe", "api", "from the terminal"]) == 0
    assert people.fake.oauth.performers("set_repo_description") == [("owner", CLIENT_ID)]
    assert main([*run, MALLORY, "--", "repo", "info", "api"]) == 2
    assert "yours is not linked yet" in capsys.readouterr().out
