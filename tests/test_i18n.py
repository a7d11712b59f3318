"""Replies in Chinese: every message the bot can show exists in every catalogue with the same
placeholders, nothing in a catalogue is unused, Slack's limits hold in both languages, and a channel
picks its language in the access file."""

from __future__ import annotations

import string

import pytest
from pydantic import SecretStr

from bot.access import ChannelAccess, Role
from bot.access_file import AccessFileError, parse_policy
from bot.blocks import forms as form_views
from bot.blocks.alerts import AlertView, render_alert, render_digest
from bot.blocks.context import RenderContext
from bot.i18n import CATALOGUES, LOCALES, t
from bot.interactions.home import Home, render_home
from bot.outcomes import ConfirmationNeeded, Succeeded
from bot.quay.models import Notification, Repository, RepositorySummary
from bot.quay.names import RepositoryRef
from bot.slices import REGISTRY, render
from bot.slices.help import Help
from bot.slices.notify_delete import NotifyDelete
from bot.slices.repo_delete import RepoDelete
from bot.slices.repo_info import RepoInfo, RepositoryShown
from bot.slices.repo_list import RepoList, RepositoryListed
from bot.slices.subscriptions import Subscribe
from bot.subscriptions.reports import SubscriptionTarget
from tests.fakes import blockkit
from tests.i18n_messages import all_messages, literal_messages

help_page = REGISTRY.help_page

API = RepositoryRef("team-a", "api")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != "en"])
def test_every_message_is_in_the_catalogue_with_the_same_placeholders(locale):
    catalogue = CATALOGUES[locale]
    missing = sorted(m for m in all_messages() if m not in catalogue)
    where = literal_messages()
    assert missing == [], [f"{m!r} ({where.get(m, 'table')})" for m in missing]
    for message in all_messages():
        assert catalogue[message].strip(), message
        assert placeholders(catalogue[message]) == placeholders(message), message
    assert sorted(set(catalogue) - all_messages()) == []  # nothing stale


def test_english_is_the_key_and_an_unknown_locale_falls_back_to_it():
    assert t("en", "Delete {repo}?", repo="`x`") == "Delete `x`?"
    assert t("zh-CN", "Delete {repo}?", repo="`x`") == "删除 `x`？"
    assert t("fr", "Delete {repo}?", repo="`x`") == "Delete `x`?"


def repository(tags: int = 12) -> Repository:
    tag_map = {
        f"v{i}": {
            "name": f"v{i}",
            "size": 10**i,
            "last_modified": "Fri, 27 Nov 2026 01:58:34 -0000",
            "manifest_digest": "sha256:" + "ab" * 32,
        }
        for i in range(tags)
    }
    return Repository(
        namespace="team-a", name="api", is_public=False, description="The API " * 200, tags=tag_map, can_admin=True
    )


def notification(failures: int = 1) -> Notification:
    return Notification(
        uuid="3f2b1c4d-5e6f-4a1b-9c8d-7e6f5a4b3c2d",
        event="repo_push",
        method="webhook",
        config={"url": "https://hooks.example.com/x"},
        number_of_failures=failures,
    )


def outcomes():
    access = ChannelAccess("C0", ("team-a",), Role.ADMIN)
    summaries = tuple(
        RepositorySummary(namespace="team-a", name=f"r{i}", description="d " * 100, is_public=False) for i in range(20)
    )
    yield Succeeded(Help(), help_page(None, access))
    yield Succeeded(Help("notify"), help_page("notify", access))
    yield Succeeded(RepoList("team-a"), RepositoryListed(RepoList("team-a"), summaries, 3))
    yield Succeeded(RepoInfo(API), RepositoryShown(repository(), tuple(notification(i) for i in range(4))))
    yield ConfirmationNeeded(RepoDelete(API), repository=repository(), notification_count=3)
    yield ConfirmationNeeded(NotifyDelete(API, notification().uuid), notification=notification())
    yield ConfirmationNeeded(Subscribe(SubscriptionTarget("team-a")), new_notifications=300)


@pytest.mark.parametrize("locale", LOCALES)
def test_slacks_limits_hold_in_every_language(locale):
    ctx = RenderContext(
        quay_url="https://quay.example.com", user_id="U0A", confirmation_id="c1", role=Role.ADMIN, locale=locale
    )
    for outcome in outcomes():
        message = render(outcome, ctx).to_dict()
        assert blockkit.problems(message) == [], (locale, type(outcome).__name__)
    views = [
        AlertView("team-a", "api", notification().uuid, "repo_push", "webhook", "https://h", n, state)
        for n, state in ((1, "failing"), (3, "disabled"), (0, "recovered"))
    ]
    for view in views:
        assert blockkit.problems(render_alert(view, "https://quay.example.com", locale).to_dict()) == []
    assert blockkit.problems(render_digest(views * 10, "https://quay.example.com", locale).to_dict()) == []
    modals = [
        form_views.repo_create_modal("C0", ["team-a", "team-b"], locale),
        form_views.notify_create_modal("C0", "team-a/api", "vulnerability_found", "quay_notification", loc=locale),
        form_views.describe_modal("C0", "team-a/api", "x" * 5000, locale),
        form_views.describe_loading_modal("C0", "team-a/api", locale),
    ]
    for modal in modals:
        assert blockkit.view_problems(modal.to_dict()) == [], modal.callback_id
    home = Home("U0A", (ChannelAccess("C0", ("team-a",), Role.ADMIN, True, frozenset({"U0A"}), locale),), (), (), 2)
    assert blockkit.view_problems(render_home(home).to_dict()) == []


def test_a_chinese_channel_reads_chinese_with_english_command_words():
    ctx = RenderContext(quay_url="https://quay.example.com", confirmation_id="c1", locale="zh-CN")
    prompt = render(ConfirmationNeeded(RepoDelete(API), repository=repository(), notification_count=3), ctx)
    text = str(prompt.to_dict())
    assert "删除 `team-a/api`？" in text and "此操作无法撤销" in text and "'确认'" in text
    page = render(Succeeded(Help(), help_page(None, ChannelAccess("C0", ("team-a",), Role.WRITE))), ctx)
    shown = str(page.to_dict())
    assert "/quay repo create" in shown and "创建仓库" in shown and "此频道以 *读写* 角色操作" in shown


def test_a_channel_picks_its_language_in_the_access_file():
    policy = parse_policy(
        "channels:\n  C0ZH:\n    namespaces: [team-a]\n    role: read\n    locale: zh-CN\n"
        "  C0EN:\n    namespaces: [team-a]\n    role: read\n",
        "access.yml",
        {},
        SecretStr("token"),
    )
    assert policy.channel("C0ZH").locale == "zh-CN" and policy.channel("C0EN").locale == "en"
    with pytest.raises(AccessFileError) as refused:
        parse_policy(
            "channels:\n  C0X:\n    namespaces: [team-a]\n    role: read\n    locale: fr\n",
            "access.yml",
            {},
            SecretStr("token"),
        )
    assert "locale must be one of en, zh-CN, not `fr`" in str(refused.value.problems)
