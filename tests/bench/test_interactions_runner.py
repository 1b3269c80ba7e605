"""The out-of-process interactions benchmark cannot rot: its runner starts the sandbox, the fake Discord with its
gateway, the null bot and the real bot in their own processes, drives a handful of /shift start and /shift end
through the fake gateway end to end, and leaves no process behind. No timings are asserted (a benchmark's figures
are printed, never tested)."""

from __future__ import annotations

import asyncio

import pytest

from bench.interactions import Plan, benchmark, report
from tests.helpers.processes import running

pytestmark = pytest.mark.asyncio

RUN_DEADLINE = 240.0  # the whole runner, on a shared and slow machine


async def test_benchmark_runner_drives_interactions_through_the_gateway_and_cleans_up() -> None:
    # The bot on asyncio's own loop (the default when uvloop is not installed), whatever this machine has.
    plan = Plan(officers=3, rate=20.0, seconds=0.3, timeout=60.0, event_loop="asyncio")
    spawned: list[int] = []
    results = await asyncio.wait_for(benchmark(plan, 0.0, spawned), RUN_DEADLINE)

    assert set(results) == {"null", "floor", "bot"}
    for who, phases in results.items():
        assert [ph.sent for ph in phases] == [3, 3, 6], who
        assert all(ph.answered == ph.sent for ph in phases), (who, [(ph.name, ph.answered) for ph in phases])
    rush, ends, sustained = results["bot"]
    # The real bot's own answers came back through the fake REST: each officer went on duty, then off.
    assert rush.contents and all(c.startswith("You are on duty") for c in rush.contents), rush.contents
    assert ends.contents and all(c.startswith("Shift ended") for c in ends.contents), ends.contents
    # Paced, not sequenced: on a loaded machine an end may overtake its start, and is then refused.
    assert sum(c.startswith("You are on duty") for c in sustained.contents) == 3, sustained.contents
    assert all(c.startswith(("You are on duty", "Shift ended", "You are not on duty")) for c in sustained.contents)
    assert all(c == "ok" for ph in results["null"] for c in ph.contents)
    # The floor bot committed each start and end, so it answers as the bot does, and edits each end's answer with
    # the sandbox's verdict (an end that overtook its start in the paced phase is refused and not written).
    floor_rush, floor_ends, floor_sustained = results["floor"]
    assert floor_rush.contents == ["You are on duty."] * 3, floor_rush.contents
    assert floor_ends.contents == ["Shift ended: awaiting sync."] * 3, floor_ends.contents
    assert floor_ends.discord_requests == 6  # the answer and the verdict edit of each end
    assert sum(c == "You are on duty." for c in floor_sustained.contents) == 3, floor_sustained.contents
    # REST requests counted per phase: the null bot's one answer each; the bot's answer, and for /shift end the
    # edit with Northca's verdict.
    assert [ph.discord_requests for ph in results["null"]] == [3, 3, 6]
    assert (rush.discord_requests, ends.discord_requests) == (3, 6)
    lines = report(results, plan)
    assert any("bot CPU per /shift end" in line for line in lines)
    assert any(line.startswith("floor bot (") and "x the floor's" in line for line in lines), lines
    assert any(line.startswith("bot: event loop asyncio") for line in lines), lines

    assert len(spawned) == 9  # for each of the null bot, the floor bot and the bot: a sandbox, a fake Discord, itself
    assert not [pid for pid in spawned if running(pid)]
