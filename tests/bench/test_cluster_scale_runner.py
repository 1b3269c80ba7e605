"""The scale benchmark cannot rot: its runner starts the sandbox, the fake Discord with its multi-shard gateway and
three `python -m bot run` processes (one shard each) on one PostgreSQL database, drives every officer's /shift
start and /shift end through the gateway to the process of their server's shard, and finds every ended shift on
Northca exactly once, through a lost answer and a failed write. No timings are asserted (a benchmark's figures are
printed, never tested)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.cluster_scale import Scale, benchmark, report
from tests.helpers.processes import running

pytestmark = [pytest.mark.asyncio, pytest.mark.postgresql_only("three bot processes share one database server")]

RUN_DEADLINE = 240.0  # the whole runner, on a shared and slow machine


async def test_scale_benchmark_runs_three_processes_and_reports_exactly_once(db_path: Path | str) -> None:
    # One write stored with its answer lost, then one failed: looked up and retried, each shift still stored once.
    scale = Scale(servers=3, officers=5, processes=3, rate=50.0, latency=0.0, lost_answers=1, failed_writes=1)
    spawned: list[int] = []
    result = await asyncio.wait_for(benchmark(scale, str(db_path), spawned), RUN_DEADLINE)

    assert result.guilds_per_process == [1, 1, 1]  # the servers' ids spread them over the shards
    start, end = result.phases
    assert [ph.phase.sent for ph in result.phases] == [15, 15]
    assert all(ph.phase.answered == ph.phase.sent for ph in result.phases)
    assert all(c.startswith("You are on duty") for c in start.phase.contents), start.phase.contents
    assert all(c.startswith("Shift ended") for c in end.phase.contents), end.phase.contents
    # The gateway sent each server's interactions on its own shard's socket: to its process, 5 each.
    assert [ph.sent_by_process for ph in result.phases] == [[5, 5, 5], [5, 5, 5]]

    once = result.exactly_once
    assert (once.expected, once.ended_in_db, once.synced_in_db, once.on_northca) == (15, 15, 15, 15)
    assert once.ok
    assert result.requests["POST /v1/mdts/{id}/shifts 201"] == 14  # (and the lost answer's write, a 500)
    assert result.requests["POST /v1/mdts/{id}/shifts 500"] == 2
    assert result.requests["GET /v1/mdts/{id}/shifts 200"] >= 1  # the lost answer's shift was looked up
    assert result.errors == []  # nothing the bots logged at ERROR
    lines = report(result)
    assert any(line.startswith("exactly-once: yes") for line in lines), lines

    assert len(spawned) == 5  # sandbox, fake Discord, three bots
    assert not [pid for pid in spawned if running(pid)]
