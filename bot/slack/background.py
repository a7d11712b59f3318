"""Work that goes on after its request was answered: kept so that none is lost to the garbage
collector, and so that shutdown can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """Tasks started for requests already answered (a command acked before Bolt ran, a form
    submission whose modal has closed)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(self._logged(work, name))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, Any], name: str) -> None:
        try:
            await work
        except Exception:
            log.exception(f"{name} failed after its ack")

    async def wait(self, within: float) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=within)
