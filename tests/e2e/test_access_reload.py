"""The access file is reloaded without a restart: on a change of content (a ConfigMap's symlink swap
included) and on SIGHUP; a broken file never replaces the policy in force."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

from pydantic import SecretStr

from bot.access import AccessPolicy
from bot.access_reload import AccessReloader
from bot.metrics import Metrics
from tests.e2e.conftest import ACCESS, ALICE, SIGNING_SECRET, BotThread, make_settings
from tests.fakes.quay import FakeQuay
from tests.fakes.slack_driver import SlackDriver

NEW_CHANNEL = (
    ACCESS
    + """  C0NEW:
    namespaces: [team-a]
    role: read
"""
)
BROKEN = (
    ACCESS
    + """  C0NEW:
    namespaces: [team-a]
    role: superuser
"""
)


def answer(driver: SlackDriver, slack, channel: str) -> str:
    sent = driver.slash("repo info team-a/api", user=ALICE, channel=channel)
    return slack.wait_for(sent.response_id)[0].text


def reloaded(bot: BotThread, done) -> None:
    """Check the file now; the reloader's own check at start may be doing the same at this moment,
    so what is asserted is the policy in force, not which of the two loaded it."""
    bot.bot.reloader.check()
    assert done(bot.bot.watch.watcher.policy) and bot.bot.service.policy is bot.bot.policy


def test_a_changed_file_applies_to_the_next_command_and_a_broken_one_never(
    quay, world, slack, tmp_path, access_file, caplog
):
    # Only the explicit checks below reload (after the one the reloader makes at start), so each sees its change.
    bot = BotThread(make_settings(quay.url, slack, tmp_path, access_file, QUAYBOT_ACCESS_RELOAD_SECONDS=3600))
    driver = SlackDriver(bot.url, SIGNING_SECRET, slack)
    try:
        assert "is not mapped to any Quay namespace" in answer(driver, slack, "C0NEW")
        assert bot.bot.reloader.check() is None  # nothing changed
        access_file.write_text(NEW_CHANNEL)
        assert bot.bot.reloader.check() is True
        assert "The API" in answer(driver, slack, "C0NEW")  # the next command
        access_file.write_text(BROKEN)
        assert bot.bot.reloader.check() is False
        assert bot.bot.reloader.check() is None  # reported once, not every few seconds
        problems = [r.getMessage() for r in caplog.records if r.getMessage().startswith("access file not reloaded")]
        line = BROKEN.splitlines().index("    role: superuser") + 1
        assert len(problems) == 1 and f"{access_file}:{line}:" in problems[0] and "superuser" in problems[0]
        assert "The API" in answer(driver, slack, "C0NEW")  # the policy in force stayed, whole
        assert "The API" in answer(driver, slack, "C0READ")
        metrics = bot.bot.metrics.render().decode()
        assert 'quaybot_access_reloads_total{result="invalid"} 1.0' in metrics
        assert 'quaybot_access_reloads_total{result="ok"} 1.0' in metrics
        access_file.write_text(ACCESS)  # C0NEW unmapped again
        assert bot.bot.reloader.check() is True
        assert "is not mapped to any Quay namespace" in answer(driver, slack, "C0NEW")
    finally:
        driver.close()
        bot.stop()


def test_a_configmap_symlink_swap_is_seen(quay, world, slack, tmp_path):
    # What the kubelet does: files are links into ..data, which is itself a link swapped at once.
    volume = tmp_path / "volume"
    first, second = volume / "..2026_11_27_1", volume / "..2026_11_27_2"
    first.mkdir(parents=True)
    second.mkdir()
    (first / "access.yml").write_text(ACCESS)
    (second / "access.yml").write_text(NEW_CHANNEL)
    (volume / "..data").symlink_to(first.name)
    (volume / "access.yml").symlink_to("..data/access.yml")
    bot = BotThread(make_settings(quay.url, slack, tmp_path, volume / "access.yml", QUAYBOT_ACCESS_RELOAD_SECONDS=3600))
    try:
        assert bot.bot.policy.channel("C0NEW") is None
        (volume / "..data_tmp").symlink_to(second.name)
        (volume / "..data_tmp").rename(volume / "..data")
        reloaded(bot, lambda policy: policy.channel("C0NEW") is not None)
        assert bot.bot.policy.channel("C0NEW") is not None and bot.bot.service.policy is bot.bot.policy
    finally:
        bot.stop()


def test_newly_mapped_namespaces_are_watched_and_unmapped_ones_are_not(
    quay, world: FakeQuay, slack, tmp_path, access_file
):
    world.add_org("team-b", admins=["devtable"])
    world.add_repo("team-b/jobs")
    world.add_notification("team-b/jobs", failures=1)
    access_file.write_text(ACCESS)
    settings = make_settings(
        quay.url,
        slack,
        tmp_path,
        access_file,
        QUAYBOT_WATCH_REQUESTS_PER_SECOND=1000,
        QUAYBOT_ACCESS_RELOAD_SECONDS=3600,
    )
    bot = BotThread(settings)
    watcher = bot.bot.watch.watcher
    try:
        assert watcher.policy.alert_namespaces() == []
        access_file.write_text(ACCESS + "  C0B:\n    namespaces: [team-b]\n    role: admin\n    alerts: true\n")
        reloaded(bot, lambda policy: policy.channel("C0B") is not None)
        report = bot.run(watcher.sweep())  # the next sweep
        assert [n.namespace for n in report.namespaces] == ["team-b"] and report.namespaces[0].repositories == 1
        bot.run(bot.bot.outbox.send_due())
        assert [c for c in slack.calls_to("chat.postMessage") if c.body.get("channel") == "C0B"]
        access_file.write_text(ACCESS)
        reloaded(bot, lambda policy: policy.channel("C0B") is None)
        assert bot.run(watcher.sweep()).namespaces == []  # no longer alerted
    finally:
        bot.stop()


def test_sighup_reloads_the_running_process(quay, world, slack, tmp_path, access_file):
    from tests.e2e.test_serve_process import Process, base_env

    env = base_env(quay, slack, tmp_path, access_file)
    env["QUAYBOT_ACCESS_RELOAD_SECONDS"] = "3600"  # so only the signal can do it
    process = Process(env, tmp_path)
    try:
        port = process.wait_for_port()
        access_file.write_text(NEW_CHANNEL)
        process.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("access file reloaded" in line for line in process.lines):
            time.sleep(0.05)
        driver = SlackDriver(f"http://127.0.0.1:{port}", SIGNING_SECRET, slack)
        assert "The API" in answer(driver, slack, "C0NEW")
        driver.close()
        assert process.stop() == 0
    finally:
        if process.proc.poll() is None:
            process.proc.kill()


async def test_a_sighup_that_comes_while_the_file_is_being_checked_is_not_lost(tmp_path):
    path = tmp_path / "access.yml"
    path.write_text(ACCESS)
    applied: list[AccessPolicy] = []
    reloader = AccessReloader(path, {}, SecretStr("t"), applied.append, Metrics(), every=3600)
    loop, check, signalled = asyncio.get_running_loop(), reloader.check, threading.Event()

    def check_then_signal() -> bool | None:
        """The first check reads the file as it was; the operator's edit and SIGHUP land before it returns."""
        result = check()
        if not signalled.is_set():
            path.write_text(NEW_CHANNEL)
            loop.call_soon_threadsafe(lambda: (reloader.reload_now(), signalled.set()))
            assert signalled.wait(5)
        return result

    reloader.check = check_then_signal  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(reloader.run(stop))
    try:
        async with asyncio.timeout(5):  # not the 3600 s of the next periodic check
            while not applied:
                await asyncio.sleep(0.01)
        assert "C0NEW" in applied[-1].channels
    finally:
        stop.set()
        await running
