"""How the package hangs together, where a user would feel it break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_server_does_not_import_the_app():
    """`bot.app` builds the bot from the Slack side's parts; the server only runs what it is given
    (`Serving`), so importing it never pulls in `bot.app`: no cycle between the two."""
    code = "import sys, bot.slack.server; print('bot.app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    assert out.strip() == "False"
