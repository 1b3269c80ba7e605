"""A database claim held while slow work runs (a Discord post): renewed every few seconds, and known lost when a
renewal finds that another claimer took it over (its lease ran out: this process stalled).

Shared by the activity reports (bot/core/activity_reports.py) and the roster reminders (bot/core/rosters/reminders.py);
each store's renewal is a compare-and-set on the claim it renews, so a claimer never extends a claim taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from bot.core.aio import wait_event

log = logging.getLogger(__name__)

ClaimT = TypeVar("ClaimT")


@contextlib.asynccontextmanager
async def kept_claim(
    claim: ClaimT,
    renew: Callable[[ClaimT], Awaitable[ClaimT | None]],
    *,
    every_seconds: float,
    lost: asyncio.Event,
    what: str,
) -> AsyncIterator[None]:
    """Renews `claim` with `renew` (the renewed claim, or None when taken over) every `every_seconds` while the
    body runs; sets `lost` once a renewal finds it taken over (the body checks it between its steps)."""
    done = asyncio.Event()
    keeper = asyncio.create_task(_keep(claim, renew, every_seconds, done, lost, what), name=f"claim-keeper {what}")
    try:
        yield
    finally:
        done.set()
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _keep(
    claim: ClaimT,
    renew: Callable[[ClaimT], Awaitable[ClaimT | None]],
    every_seconds: float,
    done: asyncio.Event,
    lost: asyncio.Event,
    what: str,
) -> None:
    held: ClaimT | None = claim
    while held is not None and not await wait_event(done, every_seconds):
        try:
            held = await renew(held)
        except Exception:  # e.g. the database briefly away: try again; the lease may run out meanwhile
            log.exception("%s: renewing its claim failed", what)
    if held is None:
        lost.set()
        log.warning("%s: the claim was taken over meanwhile (renewals late by more than its lease); stopping", what)
