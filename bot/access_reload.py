"""Reloading the access file without a restart: when its content changes (a Kubernetes ConfigMap
update swaps a symlink, so the content is compared, not the mtime), and on SIGHUP.

A new file is checked in full before anything changes: when it has problems, the policy in force
stays, each problem is logged with its line, and `/metrics` counts the failure. The bot never runs on
a half-read policy. A new policy takes effect for the next command and the next watch sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from pydantic import SecretStr

from bot.access import AccessPolicy
from bot.access_file import AccessFileError, load_policy
from bot.metrics import Metrics

log = logging.getLogger(__name__)


class AccessReloader:
    def __init__(
        self,
        path: Path,
        environ: Mapping[str, str],
        default_token: SecretStr | None,
        apply: Callable[[AccessPolicy], None],
        metrics: Metrics,
        *,
        every: float = 5.0,
        commands: Collection[str] | None = None,
    ) -> None:
        self.commands = commands
        self.path = path
        self.environ = environ
        self.default_token = default_token
        self.apply = apply
        self.metrics = metrics
        self.every = every
        self._loaded = self._digest()  # the file the bot started with
        self._refused: str | None = None  # a bad version already reported
        self._wake = asyncio.Event()

    def _digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def reload_now(self) -> None:
        """SIGHUP: look at the file at once (and reload it even if its content looks unchanged)."""
        self._loaded = None
        self._wake.set()

    def check(self) -> bool | None:
        """Reload if the content changed: True when a new policy is in force, False when the new file
        was refused, None when there was nothing new."""
        digest = self._digest()
        if digest is None or digest == self._loaded or digest == self._refused:
            return None
        try:
            policy = load_policy(self.path, self.environ, self.default_token, commands=self.commands)
        except AccessFileError as error:
            self._refused = digest
            self.metrics.access_reloads.labels("invalid").inc()
            for problem in error.problems:
                log.warning(f"access file not reloaded: {problem}", extra={"problem": problem})
            log.error(
                "the new access file has problems; the policy in force stays until it is fixed",
                extra={"problems": len(error.problems), "path": str(self.path)},
            )
            return False
        self.apply(policy)
        self._loaded, self._refused = digest, None
        self.metrics.access_reloads.labels("ok").inc()
        log.info(
            "access file reloaded",
            extra={"path": str(self.path), "channels": len(policy.channels), "alerting": policy.alert_namespaces()},
        )
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the check, not after: a SIGHUP that comes while a check reads the file
            # (perhaps its old content) wakes the next check instead of being lost.
            self._wake.clear()
            try:
                await asyncio.to_thread(self.check)
            except Exception:
                log.exception("checking the access file failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self._wake), self.every)


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
