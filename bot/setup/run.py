"""Starting the first run: when it may be offered at all, and the page or the terminal."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from bot.setup.flow import Setup
from bot.setup.page import SetupPage
from bot.setup.terminal import Stopped, Terminal

TRUE_VALUES = ("1", "true", "yes")  # how CI and QUAYBOT_IN_CONTAINER say yes


def in_container(environ: Mapping[str, str] = os.environ, root: Path = Path("/")) -> bool:
    """A deployment's container: quaybot's image (it sets QUAYBOT_IN_CONTAINER), a pod, or one that
    podman or CRI-O runs. Not Docker's /.dockerenv: development machines are often containers
    themselves, and a person at their terminal there should get the setup page."""
    marked = environ.get("QUAYBOT_IN_CONTAINER", "").lower() in TRUE_VALUES
    return marked or "KUBERNETES_SERVICE_HOST" in environ or (root / "run/.containerenv").exists()


def may_offer_setup(directory: Path, environ: Mapping[str, str] = os.environ, root: Path = Path("/")) -> str | None:
    """Why `make run` must not start the setup page (None: it may). Only on a person's terminal, with
    nothing configured: a deployment with a missing setting keeps failing as it always did."""
    if environ.get("CI", "").lower() in TRUE_VALUES:
        return "CI is set"
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return "there is no terminal"
    if in_container(environ, root):
        return "this runs in a container"
    if (directory / ".env").exists() or "QUAY_URL" in environ:
        return "some configuration is already there"
    return None


async def run_setup(directory: Path, out: TextIO, *, browser: bool = True, port: int = 0) -> bool:
    """True when setup wrote the files and the user asked to start serving."""
    setup = Setup(directory, slack_api_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"))
    if not browser:
        try:
            return await Terminal(setup, out).run()
        except Stopped as stopped:
            print(str(stopped), file=out)
        except EOFError:
            print("\nquaybot setup: no more answers; nothing more was written.", file=out)
        return False
    page = SetupPage(setup, port=port)
    await page.start()
    print("quaybot setup: open this address in a browser on this machine (it works once):", file=out)
    print(f"    {page.url}", file=out)
    print("Ctrl-C stops it. Without a browser: quaybot setup --no-browser", file=out, flush=True)
    try:
        await page.serve.wait()
        await asyncio.sleep(0.5)  # the browser gets its last page before the server goes
    finally:
        await page.stop()
    return True
