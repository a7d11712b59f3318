"""The work gate's bookkeeping, which shutdown trusts: "drained" must mean nothing runs or waits."""

from __future__ import annotations

import asyncio

from bot.work import WorkGate


async def test_a_waiter_cancelled_as_its_turn_comes_leaves_the_gate_idle():
    """The last holder gives its slot to the one waiter, which is cancelled (its Slack request torn
    down) before it runs: nothing is left, so shutdown must not wait out its grace period for it."""
    gate = WorkGate(concurrency=1, queue_size=10)

    async def waiter() -> None:
        async with gate.slot():
            raise AssertionError("a cancelled waiter never runs")

    async with gate.slot():
        waiting = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        assert (gate.in_flight, gate.queued) == (1, 1)
    # The slot has just gone to the waiter, which has not run yet.
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    assert (gate.in_flight, gate.queued) == (0, 0)
    assert await gate.drained(0.5)


async def test_a_waiter_cancelled_while_another_runs_does_not_end_the_drain_early():
    gate = WorkGate(concurrency=1, queue_size=10)
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.slot():
            await release.wait()

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    assert not await gate.drained(0.1)  # the holder still runs
    release.set()
    await holding
    assert await gate.drained(0.5)
