"""A worker stalled past its shift claim's 30 s lease (CPU starvation: more bot processes than cores) while its
write to Northca was out: another process took the claim over meanwhile. The stalled worker's late verdict must
not undo the new holder's claim, or a third claim could send the shift again while the new holder's write is out.

Each "process" is its own Database connection on the same file (or PostgreSQL database); Northca is the sandbox."""

from __future__ import annotations

import uuid

import pytest

from bot.core.config import ShiftConfig
from bot.core.events import EventHub
from bot.core.shifts.notices import ShiftNotices
from bot.core.shifts.store import CLAIM_LEASE_MS, ShiftStore
from bot.core.shifts.sync import ShiftSync
from bot.core.timefmt import now_ms
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from tests.helpers.ids import GUILD, MDT, OFFICER

pytestmark = pytest.mark.asyncio


async def ended_shift(store: ShiftStore) -> str:
    shift_id = str(uuid.uuid4())
    now = now_ms()
    await store.insert_open(
        shift_id=shift_id, guild_id=GUILD, member_id=OFFICER, mdt_id=MDT, officer_name="Ofc. Bubbleton",
        officer_badge=None, department=None, callsign=None, started_ms=now - 3_600_000,
    )  # fmt: skip
    ended = await store.end_by_id(
        shift_id, end_ms=now - 1_000, reason="member", ended_by=None, note=None, status="completed", now=now - 1_000
    )
    assert ended is not None and ended.sync_state == "pending"
    return shift_id


async def test_stalled_worker_whose_claim_was_taken_over_does_not_free_the_shift_for_a_third_write(
    processes: list[ShiftStore],
    sandbox: NorthcaSandbox,
    client: NorthcaClient,
) -> None:
    stalled, taker, third = processes[:3]
    sandbox.link(GUILD, MDT)
    shift_id = await ended_shift(stalled)
    [claimed] = await stalled.claim_due(now_ms(), 10)
    # The stalled process renews nothing for a whole lease: another process takes the shift over and sends it.
    taken_at = now_ms() + CLAIM_LEASE_MS + 1
    [taken] = await taker.claim_due(taken_at, 10)
    assert taken.id == shift_id and taken.attempt_started_ms == taken_at

    # Only now does the stalled process's own attempt come back: a 500, and the lookup does not find it.
    sandbox.faults.add("500", path="/shifts$", method="POST")
    sync = ShiftSync(stalled, client, ShiftConfig(sync_interval_seconds=0.05), ShiftNotices(EventHub()))
    await sync.sync_one(claimed)

    # The new holder's claim stands: nobody else may claim the shift while its write is out, and it renews.
    assert await third.claim_due(taken_at + 1_000, 10) == []
    assert await taker.renew_claims([(shift_id, taken_at)], taken_at + 1_000) == 1
    assert [r.path for r in sandbox.requests if r.method == "POST"] == [f"/v1/mdts/{MDT}/shifts"]
