"""The duty-from-the-game benchmark cannot rot: run small (5 members), it drives the real service graph against the
PRC sandbox and the Northca sandbox on loopback, shows every game event on Northca, and finds each member's shift
on Northca exactly once and every unit at 10-7 at the end. No timings are asserted (a benchmark's figures are
printed, never tested)."""

from __future__ import annotations

import pytest

from bench.erlc_duty import benchmark, report

pytestmark = pytest.mark.asyncio


async def test_erlc_duty_benchmark_runs_small_and_reports_exactly_once() -> None:
    result = await benchmark(members=5, window_s=5.0, poll_s=2.0)

    assert result.problems == [] and result.exactly_once
    assert result.unseen == 0
    assert len(result.latencies_ms["join"]) == 5 and len(result.latencies_ms["callsign"]) == 5
    assert result.requests["POST /mdts/{id}/shifts 201"] == 5
    # Each member's unit states went in batched upserts: U 10-8, then U 10-7 and V 10-8, then V 10-7 at least.
    assert result.units_carried >= 4 * 5
    assert sum(n for k, n in result.requests.items() if k.startswith("PUT")) < result.units_carried
    lines = report(result)
    assert any(line.startswith("exactly-once: yes") for line in lines), lines
