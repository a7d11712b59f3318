"""The first-run setup page in a real browser (Debian's headless Chromium through Selenium) against the
fake Quay and the fake Slack: every step, every error path a newcomer meets, the token that opens
the page once, and the files written at the end. A screenshot of each step lands in
tests/artifacts/setup/."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pytest
import trustme
import yaml

from bot.setup.flow import Setup
from bot.setup.page import SetupPage
from tests.conftest import BAD, RO, T, seed
from tests.fakes.quay import FakeQuay, FakeQuayServer
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_socket import FakeSocketMode

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "setup"
SECRET = "0123456789abcdef0123456789abcdef"

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the setup page's browser tests: apt-get install chromium chromium-driver")
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class PageThread:
    """The setup page (as `quaybot setup` serves it) on an event loop of its own."""

    def __init__(self, setup: Setup) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.page = SetupPage(setup)
        self.run(self.page.start())

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.page.port}"

    def stop(self) -> None:
        self.run(self.page.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """A fresh browser each test (its own profile): no cookie or page in flight carries over."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1400",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(15)  # a step checks live: its answer comes when Quay or Slack has answered
    yield driver
    driver.quit()


@pytest.fixture
def socket_mode() -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    yield server
    server.stop()


@pytest.fixture
def slack(slack: FakeSlack, socket_mode: FakeSocketMode) -> FakeSlack:
    """The e2e fake Slack (`tests/e2e/conftest.py`), handing out this fake Socket Mode's URL."""
    slack.socket_url = socket_mode.url
    return slack


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # `quaybot check`'s SQLite path is relative, as on a fresh clone
    return tmp_path


@pytest.fixture
def page(workdir: Path, slack: FakeSlack) -> Iterator[PageThread]:
    running = PageThread(Setup(workdir, slack_api_url=slack.api_url))
    yield running
    running.stop()


def shot(browser: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def fill(browser: WebDriver, **fields: str) -> None:
    for element_id, value in fields.items():
        element = browser.find_element(By.ID, element_id.replace("_", "-"))
        element.clear()
        element.send_keys(value)


def click(browser: WebDriver, element_id: str) -> None:
    """A checkbox or a radio button: the page stays."""
    browser.find_element(By.ID, element_id).click()


def submit(browser: WebDriver, element_id: str) -> None:
    """A button or link that loads the next page: wait until the old page is gone, so nothing is
    read off it (a problem shown before looks like the answer to this step)."""
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, element_id).click()
    # chromedriver may answer "node does not belong to the document" mid-navigation: ask again.
    waiting = WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,))
    waiting.until(expected_conditions.staleness_of(old))


def problem(browser: WebDriver) -> str:
    found = browser.find_elements(By.ID, "problem")
    assert found, f"no problem is shown at {browser.current_url}: {browser.find_element(By.TAG_NAME, 'body').text}"
    return found[0].text


def open_page(browser: WebDriver, page: PageThread) -> None:
    browser.get(page.page.url)


def through_quay(browser: WebDriver, quay: FakeQuayServer) -> None:
    fill(browser, quay_url=quay.url, quay_token=T)
    submit(browser, "check-quay")


def through_access(browser: WebDriver, channel: str = "C0TEAMA123", role: str = "write") -> None:
    box = browser.find_element(By.ID, "use-buynlarge")
    if not box.is_selected():
        box.click()
    fill(browser, **{"channel-buynlarge": channel})
    browser.find_element(By.CSS_SELECTOR, f"#role-buynlarge option[value={role}]").click()
    submit(browser, "save-access")


def test_the_page_opens_once_with_the_printed_token_and_never_without_it(browser: WebDriver, page: PageThread):
    browser.get(page.base + "/quay")
    assert "Open the address printed in the terminal" in browser.page_source
    browser.get(page.base + "/?token=wrong")
    assert "one-time token" in browser.page_source
    shot(browser, "00-refused")
    open_page(browser, page)
    assert urlparse(browser.current_url).path == "/quay" and "token" not in browser.current_url
    cookie = browser.get_cookie("quaybot_setup")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # Another browser (or a script) with the same link: spent.
    again = httpx.get(page.page.url, follow_redirects=False)
    assert again.status_code == 403 and "already used in another browser" in again.text
    # A page asked for under another host name (DNS rebinding) is refused even with the cookie.
    rebound = httpx.get(page.base + "/quay", headers={"Host": "evil.example:80"}, cookies={"quaybot_setup": "x"})
    assert rebound.status_code == 403
    # A form posted from another origin: refused, nothing checked.
    session = {"quaybot_setup": cookie["value"]}
    forged = httpx.post(
        page.base + "/quay",
        data={"url": "http://x", "token": "y"},
        cookies=session,
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and page.page.setup.quay is None
    assert (
        again.headers["Cache-Control"] == "no-store"
        and "default-src 'none'" in again.headers["Content-Security-Policy"]
    )


def test_each_quay_mistake_is_said_with_its_fix(browser: WebDriver, page: PageThread, quay: FakeQuayServer):
    open_page(browser, page)
    fill(browser, quay_url="http://127.0.0.1:9", quay_token=T)
    submit(browser, "check-quay")
    assert "Nothing answered at http://127.0.0.1:9" in problem(browser)
    assert "Check the address and the port" in problem(browser)
    shot(browser, "01-quay-unreachable")
    assert browser.find_element(By.ID, "quay-url").get_attribute("value") == "http://127.0.0.1:9"
    assert browser.find_element(By.ID, "quay-token").get_attribute("value") == ""  # a secret is never sent back
    assert T not in browser.page_source
    fill(browser, quay_url="quay.example.com", quay_token=T)
    submit(browser, "check-quay")
    assert "is not a URL" in problem(browser)
    fill(browser, quay_url=quay.url, quay_token=BAD)
    submit(browser, "check-quay")
    assert "Quay did not accept the token" in problem(browser) and "user:read" in problem(browser)
    shot(browser, "01-quay-bad-token")
    fill(browser, quay_url=quay.url + "/not-quay", quay_token=T)
    submit(browser, "check-quay")
    assert "not as Quay's API" in problem(browser)


def test_an_untrusted_certificate_is_said_with_the_setting_that_fixes_it(browser: WebDriver, page: PageThread):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with FakeQuayServer(seed(FakeQuay()), tls=context) as https_quay:
        open_page(browser, page)
        fill(browser, quay_url=https_quay.url, quay_token=T)
        submit(browser, "check-quay")
        assert "TLS certificate is not trusted" in problem(browser) and "QUAY_VERIFY_TLS" in problem(browser)
        shot(browser, "01-quay-tls")


def test_the_whole_first_run_in_socket_mode_writes_files_the_bot_accepts(
    browser: WebDriver, page: PageThread, quay: FakeQuayServer, slack: FakeSlack, workdir: Path
):
    open_page(browser, page)
    shot(browser, "01-quay")
    through_quay(browser, quay)
    # 2. Access: what the token may do in each namespace it sees.
    assert urlparse(browser.current_url).path == "/access"
    table = browser.find_element(By.TAG_NAME, "table").text
    assert "buynlarge" in table and "devtable" in table and "can create repositories" in table
    assert "can read notifications" in table
    shot(browser, "02-access")
    through_access(browser, channel="team a")
    assert "neither a channel ID nor a #name" in problem(browser)
    through_access(browser)
    preview = yaml.safe_load(browser.find_element(By.ID, "access-preview").text)
    assert preview == {"channels": {"C0TEAMA123": {"namespaces": ["buynlarge"], "role": "write", "alerts": True}}}
    shot(browser, "02-access-preview")
    submit(browser, "to-slack")
    # 3. Slack: the manifest for Socket Mode, and the link that fills it in.
    link = browser.find_element(By.ID, "create-app").get_attribute("href") or ""
    query = parse_qs(urlparse(link).query)
    assert link.startswith("https://api.slack.com/apps?new_app=1") and '"socket_mode_enabled":true' in unquote(
        query["manifest_json"][0]
    )
    assert '"socket_mode_enabled": true' in browser.find_element(By.ID, "manifest").text
    shot(browser, "03-slack")
    fill(browser, bot_token="xoxb-not-this-one", app_token=APP_TOKEN)
    submit(browser, "check-slack")
    assert "Slack refused the bot token (invalid_auth)" in problem(browser)
    fill(browser, bot_token=BOT_TOKEN, app_token=BOT_TOKEN)  # the bot token pasted in the app token's place
    submit(browser, "check-slack")
    assert "SLACK_APP_TOKEN" in problem(browser) or "bot token" in problem(browser).lower()
    shot(browser, "03-slack-wrong-token")
    fill(browser, bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    submit(browser, "check-slack")
    assert urlparse(browser.current_url).path == "/write"
    # 4. Write: what will be written, secrets hidden; then `quaybot check` on it.
    env_preview = browser.find_element(By.ID, "env-preview").text
    assert "QUAYBOT_MODE=socket" in env_preview and T not in env_preview and BOT_TOKEN not in env_preview
    shot(browser, "04-write")
    submit(browser, "write")
    check = browser.find_element(By.ID, "check").text
    assert "app token accepted" in check and check.strip().endswith("OK")
    shot(browser, "04-written")
    for name in (".env", "access.yml"):
        assert stat.S_IMODE((workdir / name).stat().st_mode) == 0o600
    env = (workdir / ".env").read_text()
    assert f"QUAY_TOKEN={T}" in env and f"SLACK_APP_TOKEN={APP_TOKEN}" in env and "SLACK_SIGNING_SECRET" not in env
    submit(browser, "serve")
    assert "quaybot is starting" in browser.find_element(By.ID, "serving").text
    assert page.page.serve.is_set()


def test_http_mode_resolves_channel_names_or_says_to_give_the_id(
    browser: WebDriver, page: PageThread, quay: FakeQuayServer, slack: FakeSlack, workdir: Path
):
    open_page(browser, page)
    through_quay(browser, quay)
    through_access(browser, channel="#team-a", role="admin")
    assert "turned into IDs at the Slack step" in browser.page_source
    submit(browser, "to-slack")
    click(browser, "mode-http")
    fill(browser, public_url="http://quaybot.example.com")
    submit(browser, "choose-mode")
    assert "not a public https:// address" in problem(browser)
    click(browser, "mode-http")
    fill(browser, public_url="https://quaybot.example.com")
    submit(browser, "choose-mode")
    manifest = browser.find_element(By.ID, "manifest").text
    assert '"request_url": "https://quaybot.example.com/slack/events"' in manifest
    assert '"socket_mode_enabled": false' in manifest
    fill(browser, bot_token=BOT_TOKEN, signing_secret="not-hex")
    submit(browser, "check-slack")
    assert "signing secret (32 hexadecimal characters)" in problem(browser)
    fill(browser, bot_token=BOT_TOKEN, signing_secret=SECRET)
    submit(browser, "check-slack")
    assert "no channels:read" in problem(browser) and "give each channel's ID" in problem(browser)
    shot(browser, "03-slack-channel-names")
    slack.scopes.add("channels:read")
    slack.channels["team-a"] = "C0RESOLVED1"
    fill(browser, bot_token=BOT_TOKEN, signing_secret=SECRET)
    submit(browser, "check-slack")
    submit(browser, "write")
    assert browser.find_element(By.ID, "written")  # waits for the answer
    access = yaml.safe_load((workdir / "access.yml").read_text())
    assert access["channels"] == {"C0RESOLVED1": {"namespaces": ["buynlarge"], "role": "admin", "alerts": True}}
    env = (workdir / ".env").read_text()
    assert "QUAYBOT_MODE=http" in env and f"SLACK_SIGNING_SECRET={SECRET}" in env
    assert "QUAYBOT_PUBLIC_URL=https://quaybot.example.com" in env and "SLACK_APP_TOKEN" not in env


def test_existing_files_are_never_written_over_without_asking(
    browser: WebDriver, page: PageThread, quay: FakeQuayServer, workdir: Path
):
    (workdir / "access.yml").write_text("# mine\n")
    open_page(browser, page)
    through_quay(browser, quay)
    through_access(browser)
    submit(browser, "to-slack")
    fill(browser, bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    submit(browser, "check-slack")
    assert "access.yml already here" in browser.page_source
    submit(browser, "write")
    assert "already exist" in problem(browser) and not (workdir / ".env").exists()
    assert (workdir / "access.yml").read_text() == "# mine\n"
    shot(browser, "04-write-existing")
    click(browser, "replace")
    submit(browser, "write")
    assert "kept the old one as access.yml.bak" in browser.find_element(By.ID, "written").text
    assert (workdir / "access.yml.bak").read_text() == "# mine\n"
    assert "C0TEAMA123" in (workdir / "access.yml").read_text()


def test_access_mistakes_are_said_before_anything_is_written(
    browser: WebDriver, page: PageThread, quay: FakeQuayServer
):
    open_page(browser, page)
    through_quay(browser, quay)
    assert "the token is devtable" in browser.find_element(By.ID, "quay-ok").text.replace("\n", " ")
    submit(browser, "save-access")  # nothing ticked
    assert "No namespace was picked" in problem(browser)
    through_access(browser, channel="C0SAME1234", role="write")
    browser.find_element(By.ID, "use-devtable").click()
    fill(browser, **{"channel-devtable": "C0SAME1234"})
    browser.find_element(By.CSS_SELECTOR, "#role-devtable option[value=admin]").click()
    submit(browser, "save-access")
    assert "One channel was given two different roles" in problem(browser)
    shot(browser, "02-access-two-roles")
    # The refused rows changed nothing: the mapping shown before stands.
    assert [(m.channel, m.namespaces, m.role) for m in page.page.setup.plan.mappings] == [
        ("C0SAME1234", ("buynlarge",), "write")
    ]
    browser.get(page.base + "/write")  # a later step is not reachable before its turn
    assert urlparse(browser.current_url).path == "/slack"


def test_a_read_only_token_is_shown_for_what_it_is(browser: WebDriver, page: PageThread, quay: FakeQuayServer):
    open_page(browser, page)
    fill(browser, quay_url=quay.url, quay_token=RO)
    submit(browser, "check-quay")
    # A repo:read token: Quay answers GET /api/v1/user/ with 401 for it (it lacks user:read).
    assert "user:read" in problem(browser)


@pytest.fixture(autouse=True, scope="module")
def _fresh_shots() -> None:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
