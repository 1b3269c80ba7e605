"""The count of interactions waiting for a first answer (bot/core/foreground.py): background work asks `quiet`
first, and goes when nobody waits, or after `most` seconds all the same."""

from __future__ import annotations

import asyncio

from bot.core.foreground import Foreground
from tests.helpers.waiting import until


async def test_work_waits_while_someone_waits_for_a_first_answer_and_goes_once_all_are_answered() -> None:
    foreground = Foreground(most=30.0)
    first, second = foreground.arrived(), foreground.arrived()
    work = asyncio.create_task(foreground.quiet())
    await until(lambda: foreground.held == 1, what="the work waiting")
    assert foreground.waiting == 2
    first()
    first()  # answered twice (an answer, then the handler's end): counted once
    await asyncio.sleep(0)  # a turn of the loop: a woken waiter would run now
    assert not work.done() and foreground.held == 1 and foreground.waiting == 1
    second()
    async with asyncio.timeout(5):
        await work
    assert foreground.waiting == 0 and foreground.held == 0


async def test_work_is_delayed_by_waiting_people_at_most_most_seconds() -> None:
    foreground = Foreground(most=0.05)
    foreground.arrived()  # never answered
    async with asyncio.timeout(5):
        await foreground.quiet()
    assert foreground.waiting == 1


async def test_with_nobody_waiting_work_goes_at_once() -> None:
    foreground = Foreground(most=30.0)
    foreground.arrived()()
    async with asyncio.timeout(0.5):
        await foreground.quiet()
