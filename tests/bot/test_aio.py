"""The background loops' wait: a cancellation that arrives with the event is never lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.aio import wait_event


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
