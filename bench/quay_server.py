"""A fake Quay in its own process, seeded with a large namespace, for the sweep benchmark."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from tests.conftest import seed
from tests.fakes.quay import FakeQuay, FakeQuayServer, Fault


def main() -> None:
    if sys.argv[1] == "commands":  # the ack benchmark: one repository answering in `latency`
        fake = seed(FakeQuay())
        fake.add_org("team-a", admins=["devtable"])
        fake.add_repo("team-a/api", description="The API", tags=["latest", "v1"])
        fake.inject(Fault(method="GET", path="/team-a/api$", delay=float(sys.argv[2]), times=10**9))
        serve(fake)
        return
    repos, with_notifications, latency = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    fake = seed(FakeQuay())
    fake.add_org("big", admins=["devtable"])
    every = max(1, repos // max(1, with_notifications))
    for i in range(repos):
        fake.add_repo(f"big/repo{i:05d}", description=None)
        if i % every == 0 and i // every < with_notifications:
            fake.add_notification(f"big/repo{i:05d}", failures=1 if i % (every * 10) == 0 else 0)
    fake.inject(Fault(method="GET", delay=latency, times=10**9))
    serve(fake)


def _kind(path: str) -> str:
    if path == "/api/v1/repository":
        return "listing"
    if path.endswith("/logs"):
        return "logs"
    if path.endswith("/notification/"):
        return "notifications"
    return "other"


def serve(fake: FakeQuay) -> None:
    server = FakeQuayServer(fake).start()
    fake.requests.clear()
    print(f"listening {server.url.rsplit(':', 1)[1]}", file=sys.stderr, flush=True)
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        if line.strip() == "connections":
            with fake.lock:
                print(fake.connections, flush=True)
        if line.strip() == "kinds":  # what the requests since the last count were for
            with fake.lock:
                print(json.dumps(Counter(_kind(r.path) for r in fake.requests)), flush=True)
        if line.strip() == "count":
            with fake.lock:
                print(len(fake.requests), flush=True)
                fake.requests.clear()  # keep memory flat across sweeps
        time.sleep(0)


if __name__ == "__main__":
    main()
