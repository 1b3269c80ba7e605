"""People waiting for their first answer go before background work that can wait.

One event loop runs everything: under a burst (a session's start, 500 clicks a second) the first answers of new
interactions and the work set off by earlier ones (sending ended shifts to Northca, the edits that tell an officer
the MDT has the shift) share it in arrival order, so a first answer waits behind writes nobody is looking at yet.
The front door counts who is waiting for a first answer (`arrived`, then the returned function once answered);
work that can wait asks `quiet` first: it goes when nobody waits, or after `most` seconds all the same, so it is
delayed by a burst, never starved by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.core.aio import wait_event

# The longest background work waits for first answers (bounded: under constant load it goes anyway).
QUIET_MOST_SECONDS = 0.25


class Foreground:
    def __init__(self, most: float = QUIET_MOST_SECONDS) -> None:
        # The longest `quiet` waits, in seconds.
        self.most = most
        self._waiting = 0
        self._held = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def waiting(self) -> int:
        """How many interactions have arrived and have no first answer yet."""
        return self._waiting

    @property
    def held(self) -> int:
        """How many pieces of work are in `quiet` now, waiting for those first answers."""
        return self._held

    def arrived(self) -> Callable[[], None]:
        """Someone waits for a first answer; call the returned function when they have it (more calls: nothing)."""
        self._waiting += 1
        self._quiet.clear()
        answered = False

        def done() -> None:
            nonlocal answered
            if answered:
                return
            answered = True
            self._waiting -= 1
            if self._waiting == 0:
                self._quiet.set()

        return done

    async def quiet(self) -> None:
        """Return when nobody waits for a first answer, or after `most` seconds."""
        if self._waiting == 0:
            return
        self._held += 1
        try:
            await wait_event(self._quiet, self.most)
        finally:
            self._held -= 1
