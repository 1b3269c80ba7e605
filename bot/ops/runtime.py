"""How the bot's process runs: which event loop, and how its garbage collector is tuned. Measured with
`python -m bench.interactions` (figures in docs/benchmarks.md).

The garbage collector: after start-up the process holds ~100,000 long-lived objects (discord.py, pydantic models,
every module, the guild caches). CPython's default collector (thresholds 700/10/10) ran a full collection over all
of them every few hundred interactions (120-360 ms each on a loaded machine, up to a third of the bot's CPU in the
benchmark), and its frequent young collections promoted every interaction in flight to the older generations, so
full collections came sooner. `settle_heap` moves what start-up built to the permanent generation (`gc.freeze`:
never scanned again, never freed: it lives as long as the process anyway) and raises the young threshold, so
the objects of one interaction are freed by reference counting before any collection sees them. Cycles are still
collected, later and in smaller passes.

The event loop: uvloop (libuv) when configured (`[bot] event_loop`) or installed ("auto"); the standard asyncio
loop otherwise. Both run the same code; uvloop costs less CPU per socket event.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
EventLoopChoice = Literal["auto", "asyncio", "uvloop"]

# A young collection after this many new container objects (CPython's default: 700). A burst of 200 interactions
# allocates a few thousand objects each; most are freed by reference counting when the interaction is done.
YOUNG_THRESHOLD = 50_000
# Older generations: a middle collection every 20 young ones, a full one every 10 middle ones (as CPython's ratios,
# on a young generation ~70 times larger).
OLDER_THRESHOLDS = (20, 10)


def settle_heap() -> None:
    """Once start-up is done (and again after each READY: new guild caches): collect what start-up left, move every
    object alive now out of the collector's sight, and collect young objects less often (see the module)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)


def uvloop_installed() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for `choice` (None: asyncio's default loop). "uvloop" when it is not installed raises
    RuntimeError with the fix."""
    if choice == "asyncio" or (choice == "auto" and not uvloop_installed()):
        return None
    try:
        uvloop = importlib.import_module("uvloop")  # optional: not a dependency, so not imported by name
    except ImportError:
        raise RuntimeError(
            '[bot] event_loop = "uvloop" but uvloop is not installed: pip install uvloop, or set "auto" or "asyncio"'
        ) from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], choice: EventLoopChoice = "auto") -> T:
    """`asyncio.run(main)` on the chosen event loop."""
    factory = loop_factory(choice)
    with asyncio.Runner(loop_factory=factory) as runner:
        if factory is not None:
            log.info("event loop: uvloop")
        return runner.run(main)
