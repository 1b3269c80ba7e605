"""Small asyncio helpers shared by the background loops."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True when it was set.

    asyncio.timeout, not asyncio.wait_for: on Python 3.11 wait_for loses a cancellation that arrives
    together with the event, so a background loop waiting that way may never stop (a hung shutdown)."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
