"""Bounded work: at most N commands do their work at once, the rest wait in a queue of bounded size,
and a command that finds the queue full is told at once instead of waiting in silence.

An acked request takes its slot before Bolt runs (`run()`), so that a burst costs the event loop its
acks, not a Bolt dispatch each: Bolt routes a request only once its turn has come. The listener's
own `slot()` then takes no second slot; if the queue was full, `slot()` raises `Busy` there, where
the listener answers "busy".

When the bot stops and its grace period is over, the requests still waiting are abandoned and those
still running are cut off; each one's user is told which (`abandon_waiting`, `interrupt_running`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from bot.metrics import Metrics

T = TypeVar("T")
Tell = Callable[[], Awaitable[None]]  # what to tell a request's user when the bot stops before it is done
# For the running request: True when it holds a slot taken by `run()`, False when the queue was full.
_ADMITTED: ContextVar[bool | None] = ContextVar("quaybot_work_admitted", default=None)


class Busy(Exception):
    """The queue is full: the command was not started."""


class Abandoned(Busy):
    """The bot is stopping and the command's turn never came: it was not started."""


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
        self._stopping = False
        # Requests still waiting for their turn, with what to tell their user if it never comes; and
        # those running, with what to tell if they are cut off.
        self._unstarted: dict[object, Tell] = {}
        self._running: dict[object, tuple[asyncio.Task[Any], Tell]] = {}

    async def run(
        self, request: Callable[[], Awaitable[T]], *, unstarted: Tell | None = None, interrupted: Tell | None = None
    ) -> T | None:
        """A whole request in one slot, waiting its turn in the queue; with the queue full it runs
        at once, marked busy (its `slot()` raises `Busy`), so that it can say so. If the bot stops
        before its turn comes, `unstarted` tells its user (`abandon_waiting`) and it never runs; if
        it is cut off while running, `interrupted` does (`interrupt_running`)."""
        if self._full():
            _ADMITTED.set(False)  # this task's context only
            return await request()
        key = object()
        if unstarted is not None:
            self._unstarted[key] = unstarted
        try:
            async with self.slot():
                self._unstarted.pop(key, None)
                task = asyncio.current_task()
                if interrupted is not None and task is not None:
                    self._running[key] = (task, interrupted)
                _ADMITTED.set(True)
                return await request()
        except Abandoned:
            return None  # its user has been told
        finally:
            self._unstarted.pop(key, None)
            self._running.pop(key, None)

    async def interrupt_running(self, within: float) -> int:
        """The bot is stopping past its grace period: the requests still running are cut off (a
        second to unwind), then each one's user is told, taking at most `within` seconds. How many."""
        running = list(self._running.values())
        self._running.clear()
        for task, _ in running:
            task.cancel()
        if running:
            await asyncio.wait([task for task, _ in running], timeout=1.0)
        await _tell_all([tell for _, tell in running], within)
        return len(running)

    async def abandon_waiting(self, within: float) -> int:
        """The bot is stopping: no request still waiting will run; each one's user is told, taking
        at most `within` seconds. How many there were."""
        self._stopping = True
        waiting = list(self._unstarted.values())
        self._unstarted.clear()
        await _tell_all(waiting, within)
        return len(waiting)

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
        except BaseException:  # cancelled while waiting (its request torn down): it never ran
            self.queued -= 1
            self._settle()
            raise
        self.queued -= 1
        if self._stopping:  # its turn came too late: it was told, or will be answered "busy"
            self._give_back()
            raise Abandoned
        self.in_flight += 1
        self._report()
        try:
            yield
        finally:
            self.in_flight -= 1
            self._give_back()

    def _give_back(self) -> None:
        """A slot is free again."""
        self._slots.release()
        self._settle()

    def _settle(self) -> None:
        """The gate is idle when nothing runs or waits, whichever way the last one left."""
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


async def _tell_all(tells: list[Tell], within: float) -> None:
    """Every telling at once, for at most `within` seconds; one that fails does not stop the others."""
    if tells:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(tell() for tell in tells), return_exceptions=True), within)
