"""Run the bot until SIGTERM or SIGINT, then shut down gracefully.

A signal stops new work and lets the services finish: the shift worker lets in-flight Northca writes end (or
parks them for the next start), the status coalescer sends what it holds, then the database is closed.
As PID 1 in a container nothing else handles SIGTERM, so without this `docker stop` waits and then kills.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Upper bound for the whole shutdown, inside `docker stop`'s default 10 s; the services' own drains are shorter.
SHUTDOWN_GRACE_SECONDS = 9.0


class Closable(Protocol):
    async def start(self, token: str, *, reconnect: bool = True) -> None: ...
    async def close(self) -> None: ...


async def run_until_signalled(bot: Closable, token: str, *, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """Start the bot; on SIGTERM/SIGINT close it within `grace` seconds. Errors from start() propagate."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(sig: signal.Signals) -> None:
        if not received.done():
            received.set_result(sig)

    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or a platform without it
            pass
    running = loop.create_task(bot.start(token), name="bot")
    try:
        either: set[asyncio.Future[Any]] = {running, received}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if received.done():
            log.info(
                "%s received: shutting down (finishing in-flight work, at most %.0f s)", received.result().name, grace
            )
            try:
                async with asyncio.timeout(grace):  # not wait_for: see bot/aio.py
                    await bot.close()
            except TimeoutError:
                log.warning("shutdown took longer than %.0f s; exiting anyway (unsent work is resent at start)", grace)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            log.info("shut down cleanly")
            return
        running.result()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if not running.done():
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def wait_for_signal() -> signal.Signals | None:
    """Until SIGTERM or SIGINT (`northca-bot web`); None where signals cannot be handled (then until cancelled)."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(sig: signal.Signals) -> None:
        if not received.done():
            received.set_result(sig)

    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        result = await received
        log.info("%s received: shutting down", result.name)
        return result
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
