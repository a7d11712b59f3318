"""A channel with `locale: zh-CN`, end to end: replies, confirmations, alerts and forms in Chinese;
command words, names and Quay's values unchanged; an English channel beside it unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ALICE, bot_with_access
from tests.e2e.test_watch import flush, parents
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_api import Call, FakeSlack, SlackFault

ZH_ACCESS = """
channels:
  C0ZH:
    namespaces: [team-a]
    role: admin
    alerts: true
    locale: zh-CN
  C0EN:
    namespaces: [team-a]
    role: admin
    alerts: true
"""


@pytest.fixture
def zh(quay, world: FakeQuay, slack: FakeSlack, tmp_path: Path):
    with bot_with_access(quay, slack, tmp_path, ZH_ACCESS) as running:
        yield running


def test_replies_and_confirmations_in_chinese(zh, world: FakeQuay):
    _bot, driver = zh
    help_page = driver.reply(driver.slash("help", user=ALICE, channel="C0ZH"))
    assert "此频道以 *管理* 角色操作 `team-a`" in help_page.text and "/quay repo delete" in help_page.text
    card = driver.reply(driver.slash("repo info api", user=ALICE, channel="C0ZH"))
    assert "*描述*" in card.text and "最近的标签" in card.text and "在 Quay 中打开" in card.text
    prompt = driver.reply(driver.slash("repo delete api", user=ALICE, channel="C0ZH"))
    assert "删除 `team-a/api`？" in prompt.text and "此操作无法撤销" in prompt.text
    sent = driver.click(prompt, "quaybot_confirm", user=ALICE, channel="C0ZH")
    replaced, announced = driver.slack.wait_for(sent.response_id, count=2)
    assert "已确认" in replaced.text and f"<@{ALICE}> 删除了 `team-a/api`" in announced.text
    english = driver.reply(driver.slash("repo info web", user=ALICE, channel="C0EN"))
    assert "*Description*" in english.text and "描述" not in english.text


def posts_after_a_failing_sweep(bot, world: FakeQuay, slack: FakeSlack) -> tuple[Call, Call]:
    """A notification of team-a/api starts failing and the watch sweeps: what each channel got."""
    world.add_notification("team-a/api", failures=1)
    bot.run(bot.bot.watch.watcher.sweep())
    flush(bot)
    [chinese] = parents(slack, "C0ZH")
    [english] = parents(slack, "C0EN")
    return chinese, english


def test_alerts_in_each_channels_language(zh, world: FakeQuay, slack: FakeSlack):
    bot, _driver = zh
    chinese, english = posts_after_a_failing_sweep(bot, world, slack)
    assert "一个 Quay 通知投递失败" in chinese.text and "重置失败次数" in chinese.text
    assert "A Quay notification is failing" in english.text and "Reset failures" in english.text


def test_a_watch_warning_in_each_channels_language(quay, world: FakeQuay, slack: FakeSlack, tmp_path: Path):
    from pydantic import SecretStr

    from tests.conftest import RO

    with bot_with_access(quay, slack, tmp_path, ZH_ACCESS, QUAY_TOKEN=SecretStr(RO)) as (bot, _driver):
        chinese, english = posts_after_a_failing_sweep(bot, world, slack)
    assert "无法监视 team-a 的通知" in chinese.text and "令牌在此缺少 repo:admin 权限" in chinese.text
    assert "the token lacks repo:admin here" in english.text


def test_forms_in_chinese(zh, slack: FakeSlack):
    _bot, driver = zh
    driver.slash("repo create", user=ALICE, channel="C0ZH")
    view = driver.opened_view("quaybot_repo_create")
    assert view["title"]["text"] == "新建仓库" and view["submit"]["text"] == "创建"
    assert "私有：仅有权限的人可见" in str(view["blocks"])
    slack.fail_next("views.open", SlackFault(body={"ok": False, "error": "expired_trigger_id"}))
    refused = driver.reply(driver.slash("repo create", user=ALICE, channel="C0ZH"))
    assert "Slack 未能打开表单（expired_trigger_id）" in refused.text


def test_usage_errors_and_refusals_in_chinese(zh, world: FakeQuay):
    _bot, driver = zh
    usage = driver.reply(driver.slash("repo frobnicate", user=ALICE, channel="C0ZH"))
    assert "未知子命令 `repo frobnicate`" in usage.text and "/quay repo list" in usage.text
    refused = driver.reply(driver.slash("repo delete team-b/x", user=ALICE, channel="C0ZH"))
    assert "不允许" in refused.text and "`team-b` 不在其中" in refused.text
    english = driver.reply(driver.slash("repo frobnicate", user=ALICE, channel="C0EN"))
    assert "unknown subcommand `repo frobnicate`" in english.text


def test_quay_errors_in_chinese(zh, world: FakeQuay):
    _bot, driver = zh
    failed = driver.reply(driver.slash("repo info team-a/nope", user=ALICE, channel="C0ZH"))
    assert "`repo info` 失败" in failed.text and "读取 team-a/nope" in failed.text
    english = driver.reply(driver.slash("repo info team-a/nope", user=ALICE, channel="C0EN"))
    assert "`repo info` failed" in english.text and "reading team-a/nope" in english.text
