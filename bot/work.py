"""Bounded work: at most N commands do their work at once, the rest wait in a queue of bounded size,
and a command that finds the queue full is told at once instead of waiting in silence.

An acked request takes its slot before Bolt runs (`run()`), so that a burst costs the event loop its
acks, not a Bolt dispatch each: Bolt parses and routes a request only once its turn has come. The
listener's own `slot()` then takes no second slot; if the queue was full, `slot()` raises `Busy`
there, where the listener answers "busy".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

from bot.metrics import Metrics

T = TypeVar("T")
# For the running request: True when it holds a slot taken by `run()`, False when the queue was full.
_ADMITTED: ContextVar[bool | None] = ContextVar("quaybot_work_admitted", default=None)


class Busy(Exception):
    """The queue is full: the command was not started."""


class WorkGate:
    def __init__(self, concurrency: int, queue_size: int, metrics: Metrics | None = None) -> None:
        self.concurrency = concurrency
        self.queue_size = queue_size
        self.metrics = metrics
        self._slots = asyncio.Semaphore(concurrency)
        self.in_flight = 0
        self.queued = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, request: Callable[[], Awaitable[T]]) -> T:
        """A whole request in one slot, waiting its turn in the queue; with the queue full it runs
        at once, marked busy (its `slot()` raises `Busy`), so that it can say so."""
        if self._full():
            _ADMITTED.set(False)  # this task's context only
            return await request()
        async with self.slot():
            _ADMITTED.set(True)
            return await request()

    def _full(self) -> bool:
        return self._slots.locked() and self.queued >= self.queue_size

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Run the body when a slot is free; `Busy` at once when the queue is full."""
        admitted = _ADMITTED.get()
        if admitted is not None:  # the request took its slot, or found the queue full, in `run()`
            if not admitted:
                raise Busy
            yield
            return
        if self._full():
            raise Busy
        self.queued += 1
        self._idle.clear()
        self._report()
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
        self.in_flight += 1
        self._report()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._slots.release()
            if not self.in_flight and not self.queued:
                self._idle.set()
            self._report()

    async def drained(self, within: float) -> bool:
        """Wait up to `within` seconds for every admitted command to finish; whether they all did."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    def _report(self) -> None:
        if self.metrics is not None:
            self.metrics.commands_in_flight.set(self.in_flight)
            self.metrics.commands_queued.set(self.queued)
