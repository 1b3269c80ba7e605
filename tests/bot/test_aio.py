"""The background loops' wait: a cancellation that arrives with the event is never lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.aio import wait_event
from bot.core.polling import LoopTask


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_stopping_a_loop_woken_at_the_same_moment_still_stops_it(turns):
    # The event is set and the waiting task cancelled in the same loop turn: the shape of a service's
    # stop() racing a wake-up. With asyncio.wait_for on 3.11 the cancellation is swallowed here and a
    # `while True` loop around it never ends (a hung shutdown).
    event = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            await wait_event(event, 60)

    task = asyncio.create_task(loop())
    for _ in range(turns):
        await asyncio.sleep(0)
    event.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert rounds <= 1


async def test_wait_event_says_whether_the_event_came():
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True


async def test_a_loop_task_runs_once_wakes_on_a_poke_and_stops_cleanly():
    # The one lifecycle of every background service (bot/core/polling.py): a second start while it runs starts no
    # second loop, a poke wakes a loop sleeping for a minute, and stop ends it and leaves nothing running.
    rounds = 0
    woken = asyncio.Event()

    async def body() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            woken.set()
            loop.wake.clear()
            await loop.sleep(60)

    loop = LoopTask("test-loop", body)
    await loop.stop()  # never started: nothing to do
    loop.start()
    loop.start()
    await asyncio.wait_for(woken.wait(), 5)
    woken.clear()
    assert rounds == 1 and loop.running
    loop.poke()
    await asyncio.wait_for(woken.wait(), 5)
    assert rounds == 2
    await asyncio.wait_for(loop.stop(), 5)
    assert not loop.running
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "test-loop"]


async def test_a_loop_task_whose_body_failed_stops_without_raising_and_starts_again():
    runs = 0

    async def body() -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("a bad round")

    loop = LoopTask("failing-loop", body)
    loop.start()
    await asyncio.sleep(0.01)
    assert not loop.running  # ended by its error
    loop.start()  # a start after the end runs it again
    await asyncio.sleep(0.01)
    await loop.stop()  # the error is the loop's, not the stopper's
    assert runs == 2
