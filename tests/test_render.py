"""Block Kit rendering: what users see, that it passes Slack's limits, and that no secret shows."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bot.access import ChannelAccess, Role
from bot.blocks.alerts import AlertView, render_alert
from bot.blocks.context import RenderContext
from bot.blocks.ids import CANCEL_ACTION, CONFIRM_ACTION, RESET_ACTION, parse_reset_value
from bot.blocks.text import to_text
from bot.commands.model import UsageError
from bot.outcomes import ConfirmationNeeded, Failed, Refused, Succeeded, Unparsed
from bot.quay import QuayBadRequest, QuayForbidden, QuayInvalidToken, QuayUnavailable
from bot.quay.models import CreatedRepository, Notification, Repository, RepositorySummary, Tag
from bot.quay.names import RepositoryRef
from bot.slices import REGISTRY, render
from bot.slices.help import Help
from bot.slices.notify_create import NotificationCreated
from bot.slices.notify_delete import NotifyDelete
from bot.slices.notify_list import NotificationsListed
from bot.slices.notify_test import NotificationTestQueued, NotifyTest
from bot.slices.repo_create import RepoCreate, RepositoryCreated
from bot.slices.repo_delete import RepoDelete
from bot.slices.repo_info import RepoInfo, RepositoryShown
from bot.slices.repo_list import ListPosition, RepoList, RepositoryListed, parse_list_value
from bot.slices.repo_visibility import RepoVisibility
from tests.fakes import blockkit

help_page = REGISTRY.help_page

CTX = RenderContext(quay_url="https://quay.example.com", user_id="U0AAA")
API = RepositoryRef("team-a", "api")
U = "3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d"
SECRET_URL = "https://hooks.slack.com/services/T000/B000/SECRETSECRET"


def payload(outcome, ctx=CTX) -> dict:
    message = render(outcome, ctx).to_dict()
    assert blockkit.problems(message) == []
    return message


def all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def repository(**kw) -> Repository:
    data = {
        "namespace": "team-a",
        "name": "api",
        "description": "The <b>API</b> & friends <!channel>",
        "is_public": False,
        "state": "NORMAL",
        "can_admin": True,
        "tags": {"latest": Tag(name="latest"), "v1": Tag(name="v1")},
    }
    data.update(kw)
    return Repository(**data)


def notification(failures=0, **kw) -> Notification:
    data = {
        "uuid": U,
        "event": "repo_push",
        "method": "slack",
        "config": {"url": SECRET_URL},
        "number_of_failures": failures,
    }
    data.update(kw)
    return Notification(**data)


def test_repository_card():
    message = payload(Succeeded(RepoInfo(API), RepositoryShown(repository())))
    text = all_text(message)
    assert message["response_type"] == "ephemeral"
    assert message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "team-a/api"}}
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields == ["*Visibility*\nprivate", "*State*\nNORMAL", "*Tags*\n2", "*Kind*\nimage"]
    assert "<https://quay.example.com/repository/team-a/api|Open in Quay>" in text
    # Quay text cannot become Slack markup: no @channel, no injected links.
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&lt;b&gt;" in text
    assert message["text"].startswith("team-a/api: private, NORMAL, 2 tags")


def test_a_page_of_a_listing_has_its_buttons_and_stays_within_limits():
    repos = tuple(
        RepositorySummary(namespace="team-a", name=f"r{i:03d}", description="d " * 200, is_public=i % 2 == 0)
        for i in range(20, 40)
    )
    token = "gAAAAAB" + "x" * 177  # Quay's next_page tokens are 184-character Fernet tokens
    previous = ListPosition(0, ((0, token),), "team-a/r000")
    after = ListPosition(2, ((0, token), (1, token), (2, token)), "team-a/r000")
    listed = RepositoryListed(RepoList("team-a"), repos, 1, previous, after)
    message = payload(Succeeded(RepoList("team-a"), listed))
    text = all_text(message)
    assert "*Repositories in `team-a`*, page 2 (21–40)" in text and "r020" in text and "r039" in text
    [buttons] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in buttons["elements"]] == ["Previous", "Next"]
    assert parse_list_value(buttons["elements"][1]["value"]) == RepoList("team-a")
    assert parse_list_value(buttons["elements"][1]["value"]).position == after
    assert blockkit.problems(message) == []


def test_empty_list():
    listed = RepositoryListed(RepoList("team-a"), ())
    message = payload(Succeeded(RepoList("team-a"), listed))
    assert "No repositories in `team-a`" in message["text"] + all_text(message)
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert "for one of them" not in all_text(message)  # there is none to pick


@pytest.mark.parametrize(("role", "offered"), [(Role.READ, False), (Role.WRITE, True), (Role.ADMIN, True)])
def test_an_empty_namespace_offers_to_make_a_repository_where_the_channel_may(role, offered):
    listed = RepositoryListed(RepoList("team-a"), ())
    message = payload(Succeeded(RepoList("team-a"), listed), dataclasses.replace(CTX, role=role))
    assert ("`/quay repo create team-a/<name>` makes one" in all_text(message)) is offered
    assert "team-a in Quay" in all_text(message)


def test_notifications_are_masked_and_disabled_is_explained():
    items = (
        notification(0),
        notification(2, uuid="00000000-0000-0000-0000-000000000002"),
        notification(3, uuid="00000000-0000-0000-0000-000000000003", title="prod alerts"),
    )
    message = payload(Succeeded(RepoInfo(API), NotificationsListed(API, items)))
    text = all_text(message)
    assert "SECRETSECRET" not in text and "T000" not in text
    assert "https://hooks.slack.com/••••••" in text
    assert "3 notifications on `team-a/api`* — 1 disabled by Quay" in text
    assert "3: *disabled by Quay after 3 failures*" in text
    assert "2 (Quay disables it at 3)" in text
    assert "prod alerts" in text


def test_counts_of_one_read_in_the_singular():
    one = payload(Succeeded(RepoInfo(API), NotificationsListed(API, (notification(1),))))
    assert "*1 notification on `team-a/api`*" in all_text(one)
    assert one["text"] == "1 notification on team-a/api (0 disabled)"
    alert = render_alert(
        AlertView("team-a", "api", notification().uuid, "repo_push", "webhook", "https://h", 1, "failing"),
        "https://quay.example.com",
    )
    assert alert.text.endswith("repo_push notification on team-a/api (1 failure)")
    confirm = payload(ConfirmationNeeded(NotifyDelete(API, notification().uuid), notification=notification(1)))
    assert "1 failure" in all_text(confirm) and "1 failures" not in all_text(confirm)


def test_many_notifications_stay_under_50_blocks():
    items = tuple(notification(uuid=f"00000000-0000-0000-0000-{i:012d}") for i in range(40))
    message = payload(Succeeded(RepoInfo(API), NotificationsListed(API, items)))
    assert len(message["blocks"]) <= 50 and "20 more not shown" in all_text(message)


def test_test_queued_explains_quay_only_queues():
    message = payload(Succeeded(NotifyTest(API, U), NotificationTestQueued(API, notification(1), sent=True)))
    assert "Quay only queues it" in all_text(message) and "actions" not in [b["type"] for b in message["blocks"]]


def test_test_of_disabled_notification_offers_reset():
    message = payload(Succeeded(NotifyTest(API, U), NotificationTestQueued(API, notification(3), sent=False)))
    text = all_text(message)
    assert "Not sent" in text and "silently drops tests of disabled notifications" in text
    [button] = message["blocks"][-1]["elements"]
    assert button["action_id"] == RESET_ACTION and parse_reset_value(button["value"]) == (API, U)


def test_changes_are_announced_in_channel_with_who():
    created = Succeeded(
        RepoCreate(API), RepositoryCreated(CreatedRepository(namespace="team-a", name="api"), "private")
    )
    message = payload(created)
    assert message["response_type"] == "in_channel"
    assert "<@U0AAA> created <https://quay.example.com/repository/team-a/api|team-a/api> (private)" in all_text(message)
    assert message["text"] == "@U0AAA created team-a/api (private)"


def test_confirmation_with_buttons():
    outcome = ConfirmationNeeded(RepoDelete(API), repository=repository(is_public=True), notification_count=4)
    message = payload(outcome, RenderContext("https://quay.example.com", "U0AAA", confirmation_id="abc123"))
    text = all_text(message)
    assert (
        "Delete `team-a/api`?" in text
        and "Visibility: public" in text
        and "Tags: 2" in text
        and "Notifications: 4" in text
    )
    confirm, cancel = message["blocks"][-1]["elements"]
    assert (confirm["action_id"], confirm["value"], confirm["style"]) == (CONFIRM_ACTION, "abc123", "danger")
    assert confirm["confirm"]["title"]["text"] == "Are you sure?"
    assert (cancel["action_id"], cancel["value"]) == (CANCEL_ACTION, "abc123")
    assert message["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            ConfirmationNeeded(RepoVisibility(API, "public"), repository=repository()),
            "Anyone who can reach Quay will be able to pull",
        ),
        (
            ConfirmationNeeded(NotifyDelete(API, U), notification=notification(2)),
            "`repo_push` → `slack` `https://hooks.slack.com/••••••`, 2 failures",
        ),
    ],
)
def test_other_confirmations_without_buttons_show_the_hint(outcome, expected):
    message = payload(outcome, RenderContext("https://q", confirm_hint="Run it again with --yes to do it."))
    text = all_text(message)
    assert expected in text and "--yes" in text and "SECRETSECRET" not in text
    assert "actions" not in [b["type"] for b in message["blocks"]]


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (QuayForbidden("Quay answered 403 …", status=403), "repo:admin for notifications"),
        (QuayInvalidToken("CSRF …", status=403), "check the namespace's Quay token"),
        (QuayUnavailable("down"), "Nothing was changed. Try again in a minute."),
    ],
)
def test_failures_say_what_to_do(error, advice):
    message = payload(Failed(RepoDelete(API), error))
    assert "`repo delete` failed." in all_text(message) and advice in all_text(message)
    assert message["response_type"] == "ephemeral"


def test_refusal_and_usage():
    refusal = payload(
        Refused(RepoDelete(API), "`repo delete` needs the admin role; this channel has write.", "Ask an operator.")
    )
    assert ":no_entry: *Not allowed.*" in all_text(refusal) and refusal["text"].startswith("Not allowed:")
    usage = payload(Unparsed(UsageError("repo create: missing <ns>/<name>", ("repo create <ns>/<name>",), "repo")))
    text = all_text(usage)
    assert "missing &lt;ns&gt;/&lt;name&gt;" in text and "/quay repo create" in text and "/quay help repo" in text


def test_no_fallback_text_turns_what_a_user_or_quay_wrote_into_a_mention():
    # The fallback `text` is mrkdwn too: what shows as `<!channel>` must stay escaped there as well.
    hostile = "<!channel>@evil.example"
    created = NotificationCreated(API, notification(method="email", config={"email": hostile}, title="<!here>"))
    messages = [
        payload(Succeeded(RepoCreate(API), created), dataclasses.replace(CTX, user_id="U0AAA")),  # in the channel
        payload(Failed(RepoDelete(API), QuayBadRequest(f"Quay said {hostile}", status=400))),
        payload(Refused(RepoDelete(API), f"`{hostile}` is not mapped", "remedy")),
        payload(Unparsed(UsageError(f"unknown command `{hostile}`"))),
    ]
    for message in messages:
        assert "<!" not in message["text"] and "&lt;!" in message["text"], message["text"]
        assert "<!" not in all_text(message)


def test_help_shows_channel_role_and_hides_what_it_cannot_run():
    access = ChannelAccess("C0X", ("team-a",), Role.WRITE)
    message = payload(Succeeded(Help(), help_page(None, access)))
    text = all_text(message)
    assert "This channel acts on `team-a` with the *write* role." in text
    assert "repo create" in text and "repo delete" not in text and "notify delete" not in text
    assert "3 more commands need a higher role" in text
    notify = payload(Succeeded(Help("notify"), help_page("notify", access)))
    assert "vulnerability_found" in all_text(notify) and "target=&lt;user|org|team&gt;:&lt;name&gt;" in all_text(notify)
    assert "1 more command needs a higher role" in all_text(notify)  # notify delete


def test_help_says_what_a_bare_name_means_where_it_is_read():
    access = ChannelAccess("C0X", ("team-a",), Role.WRITE)
    notes = {topic: " ".join(help_page(topic, access).notes) for topic in (None, "repo", "notify", "subscribe")}
    assert "A bare name means team-a/<name> (in subscribe and unsubscribe: a namespace)." in notes[None]
    assert "A bare name means team-a/<name>." in notes["repo"] and "A bare name means team-a/<name>." in notes["notify"]
    assert "a bare name is a namespace: write team-a/<name> for one repository" in notes["subscribe"]
    assert "A bare name means" not in notes["subscribe"]
    several = ChannelAccess("C0X", ("team-a", "team-b"), Role.WRITE)
    assert "bare name" not in " ".join(help_page(None, several).notes)  # it means nothing there


def test_plain_text_rendering():
    text = to_text(render(Succeeded(RepoInfo(API), RepositoryShown(repository())), CTX))
    assert text.startswith("team-a/api\n==========\n")
    assert "Visibility: private" in text and "Open in Quay (https://quay.example.com/repository/team-a/api)" in text
