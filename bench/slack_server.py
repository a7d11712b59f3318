"""The fake Slack in its own process, so the load generator does not share a GIL with it."""

from __future__ import annotations

import sys
import time

from tests.fakes.slack_api import FakeSlack


def main() -> None:
    slack = FakeSlack().start()
    print(f"listening {slack.url.rsplit(':', 1)[1]}", file=sys.stderr, flush=True)
    while sys.stdin.readline():
        time.sleep(0)
    slack.stop()


if __name__ == "__main__":
    main()
