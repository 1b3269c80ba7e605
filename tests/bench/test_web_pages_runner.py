"""The dashboard pages benchmark cannot rot: at a small size its runner seeds the database, logs in through the
fake Discord's OAuth2, times every page, drives /shift start and end with and without dashboard load, and its
consistency checks hold. No timings are asserted (a benchmark's figures are printed, never tested)."""

from __future__ import annotations

from bench.web_pages import run


async def test_the_web_pages_benchmark_runs_and_its_checks_hold() -> None:
    result = await run(members=30, shifts=600, requests=2, officers=2, clients=1)
    assert set(result["pages"]) == {
        "leaderboard (this week)",
        "leaderboard (all time)",
        "shifts (newest)",
        "shifts (older pages)",
        "shifts (one member)",
    }
    assert all(len(times) == 2 for times in result["pages"].values())
    assert len(result["quiet"]) == len(result["loaded"]) == 4  # a start and an end per officer
    assert result["consistency"] == {
        "leaderboard matches the service": True,
        "keyset walk gives each shift once": True,
    }
    assert result["stored_once"] is True
    assert result["load_pages_per_s"] > 0
