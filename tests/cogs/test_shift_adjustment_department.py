"""/shift admin add|subtract with a department: the time counts in that department's leaderboard (and in
the unfiltered totals), not in another's; without one it counts only unfiltered; an unknown one is refused.
Through the offline Discord harness, on both engines."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from bot.core.timefmt import utcnow
from tests.harness import Harness
from tests.helpers.ids import GUILD, OFFICER, OFFICER_M, SUPERVISOR_M
from tests.helpers.posts import log_line
from tests.helpers.shift_duty import OPT_OFFICER, board_minutes, boot_shift_duty

pytestmark = pytest.mark.asyncio


async def board(h: Harness, department: str | None = None) -> Any:
    options = {"period": "all_time"} | ({"department": department} if department else {})
    return await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD, options=options)


async def adjust(h: Harness, sub: str, duration: str, department: str | None = None) -> Any:
    options: dict[str, Any] = {"member": OPT_OFFICER, "duration": duration, "reason": "station cover"}
    if department is not None:
        options["department"] = department
    return await h.slash("shift", group="admin", sub=sub, member=SUPERVISOR_M, guild_id=GUILD, options=options)


def listed(reply: Any, member: int) -> bool:
    return f"<@{member}>" in (reply.embeds[0].get("description") or "")


async def test_adjustment_of_fire_time_shows_in_the_fire_leaderboard_and_not_in_patrols(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    start = utcnow() - timedelta(hours=3)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer", department="Patrol", at=start)
    await h.bot.shifts.end(GUILD, OFFICER, at=start + timedelta(hours=1))
    added = await adjust(h, "add", "2h", department="fire")  # any case: kept as configured
    assert added.ephemeral and "2 h of Fire time" in added.content
    assert "2 h of Fire time" in await log_line(h, "Fire time")  # the audit line names it
    fire = await board(h, "Fire")
    assert "Fire" in fire.embeds[0]["title"] and board_minutes(fire, OFFICER) == "2 h"
    assert board_minutes(await board(h, "Patrol"), OFFICER) == "1 h"  # only the Patrol shift
    assert board_minutes(await board(h), OFFICER) == "3 h"  # unfiltered: the shift and the adjustment
    # A subtraction of Patrol time counts against Patrol only.
    await adjust(h, "subtract", "15m", department="Patrol")
    assert board_minutes(await board(h, "Patrol"), OFFICER) == "45 min"
    assert board_minutes(await board(h, "Fire"), OFFICER) == "2 h"
    history = await h.slash("shift", group="admin", sub="history", member=SUPERVISOR_M, guild_id=GUILD,
                            options={"member": OPT_OFFICER})  # fmt: skip
    text = history.embeds[0]["description"]
    assert "2 h of Fire time" in text and "15 min of Patrol time" in text
    exported = await h.slash("shift", sub="export", member=SUPERVISOR_M, guild_id=GUILD,
                             options={"period": "all_time", "member": OPT_OFFICER})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((await exported.final()).request.files[0]["data"].decode())))
    assert sorted(r["department"] for r in rows if r["record"] == "adjustment") == ["Fire", "Patrol"]


async def test_adjustment_without_department_counts_only_in_unfiltered_totals(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    added = await adjust(h, "add", "30m")
    assert added.ephemeral and "30 min by" in added.content and " time by" not in added.content
    assert board_minutes(await board(h), OFFICER) == "30 min"
    assert not listed(await board(h, "Fire"), OFFICER)
    assert not listed(await board(h, "Patrol"), OFFICER)


async def test_adjustment_for_an_unknown_department_is_refused_and_nothing_is_stored(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    offered = await h.autocomplete("shift", group="admin", sub="add", focused="department", member=SUPERVISOR_M,
                                   guild_id=GUILD, options={"department": "fir"})  # fmt: skip
    assert [c["value"] for c in offered] == ["Fire"]
    refused = await adjust(h, "add", "2h", department="Navy")
    assert refused.ephemeral and "Unknown department “Navy”" in refused.content and "Fire" in refused.content
    refused = await adjust(h, "subtract", "1h", department="Navy")
    assert refused.ephemeral and "Unknown department" in refused.content
    assert await h.bot.duty.history(GUILD, OFFICER) == []
    assert not listed(await board(h), OFFICER)
