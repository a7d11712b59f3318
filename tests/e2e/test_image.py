"""The container image, run as docs/install/container.md tells a user to: `check`, then `serve`
against the fakes on the host's loopback, as its non-root user, with a read-only root filesystem and
the data volume. `/healthz` answers, a signed slash command is answered through its response_url,
and SIGTERM drains and exits 0 within the grace period. Run by `make image`, which builds the image
first (with podman: these machines have no Docker daemon) and names it in QUAYBOT_IMAGE."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import T
from tests.e2e.conftest import ACCESS, ALICE, SIGNING_SECRET
from tests.fakes.quay import FakeQuay, FakeQuayServer, Fault
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.slack_driver import SlackDriver

IMAGE = os.environ.get("QUAYBOT_IMAGE")
pytestmark = pytest.mark.skipif(not IMAGE, reason="run by `make image`, which builds the image first")
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"]
# Without explicit limits the runtime cannot set them here (container-build.md).
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
GRACE = 20  # QUAYBOT_SHUTDOWN_GRACE_SECONDS' default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Container:
    def __init__(self, quay: FakeQuayServer, slack: FakeSlack, tmp_path: Path) -> None:
        self.name = f"quaybot-test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.config = tmp_path / "etc"
        self.config.mkdir()
        (self.config / "access.yml").write_text(ACCESS)
        self.data = tmp_path / "data"
        self.data.mkdir()
        os.chown(self.data, 10001, 10001)  # the volume belongs to the image's user, as a PVC's fsGroup makes it
        self.env = {
            "QUAY_URL": quay.url,
            "QUAY_TOKEN": T,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "QUAYBOT_MODE": "http",
            "QUAYBOT_HTTP_HOST": "127.0.0.1",
            "QUAYBOT_HTTP_PORT": str(self.port),
        }

    def args(self, *command: str) -> list[str]:
        env = [arg for name, value in self.env.items() for arg in ("-e", f"{name}={value}")]
        return [
            *PODMAN, "run", "--name", self.name, "--network", "host", *LIMITS,
            "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the pod's emptyDir for /tmp, as in deploy/)
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "-v", f"{self.config}:/etc/quaybot:ro", "-v", f"{self.data}:/var/lib/quaybot",
            *env, str(IMAGE), *command,
        ]  # fmt: skip

    def remove(self) -> None:
        subprocess.run([*PODMAN, "rm", "--force", "--time", "0", self.name], capture_output=True, check=False)


@pytest.fixture
def container(quay: FakeQuayServer, world: FakeQuay, slack: FakeSlack, tmp_path: Path) -> Iterator[Container]:
    assert shutil.which("podman"), "make image needs podman (apt-get install podman runc)"
    made = Container(quay, slack, tmp_path)
    yield made
    made.remove()


def test_the_image_checks_then_serves_then_drains_on_sigterm(container: Container, world: FakeQuay, slack: FakeSlack):
    checked = subprocess.run(container.args("check"), capture_output=True, text=True, timeout=120)
    container.remove()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "token user: devtable" in checked.stdout and "bot token accepted" in checked.stdout

    serving = subprocess.Popen(container.args(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{container.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and serving.poll() is None, "the image never answered /healthz"
            time.sleep(0.5)
        assert health.json() == {"status": "ok"}
        user = subprocess.run(
            [*PODMAN, "exec", container.name, "id", "-u"], capture_output=True, text=True, timeout=30, check=True
        )
        assert user.stdout.strip() == "10001"
        # The Kubernetes manifests' preStop pause runs `sleep` in this image.
        subprocess.run([*PODMAN, "exec", container.name, "sleep", "0"], timeout=30, check=True)
        driver = SlackDriver(url, SIGNING_SECRET, slack)
        try:
            sent = driver.slash("repo list team-a", user=ALICE, channel="C0READ")
            assert sent.status == 200
            assert "team-a/api" in driver.reply(sent).text
            assert (container.data / "quaybot.db").exists()  # the data volume holds the database
            # SIGTERM while a command waits on a slow Quay: it is finished and answered, then exit 0.
            world.inject(Fault(method="GET", path="^/api/v1/repository/team-a/api$", delay=3.0))
            slow = driver.slash("repo info team-a/api", user=ALICE, channel="C0READ")
            assert slow.status == 200
            time.sleep(0.5)
            started = time.monotonic()
            subprocess.run([*PODMAN, "kill", "--signal", "TERM", container.name], check=True, capture_output=True)
            code = serving.wait(timeout=GRACE + 10)
            stopped_in = time.monotonic() - started
            assert "team-a/api" in driver.reply(slow, timeout=1).text
        finally:
            driver.close()
    finally:
        if serving.poll() is None:
            serving.kill()
    log = serving.stdout.read() if serving.stdout else ""
    print(f"SIGTERM to exit 0: {stopped_in:.1f} s (grace {GRACE} s)")
    assert code == 0, log
    assert 2.0 < stopped_in < GRACE, stopped_in  # it waited for the slow command, and no longer
    assert "Traceback" not in log and T not in log and BOT_TOKEN not in log


def test_the_image_stays_small():
    inspected = subprocess.run(
        [*PODMAN, "image", "inspect", "--format", "{{.Size}}", str(IMAGE)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    size = int(inspected.stdout.strip())
    print(f"image {IMAGE}: {size / 1e6:.0f} MB")
    assert size <= 250e6, f"{size / 1e6:.0f} MB, over the 250 MB the image is allowed"
