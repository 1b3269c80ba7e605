"""The gallery (`python -m tests.harness.gallery`) plays a whole session through the real bot and draws every
message it changed: each step's pictures exist at both widths, each private answer is labelled as such, and no
step of the session fails (a flow broken by a change shows here before anyone opens the page)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from tests.harness.gallery import WIDTHS, capture, write


def test_a_whole_session_is_drawn_step_by_step(tmp_path: Path) -> None:
    steps = asyncio.run(capture(tmp_path))
    failed = [(s.title, s.error) for s in steps if s.error]
    assert not failed, failed
    assert len(steps) >= 15
    shots = [shot for step in steps for shot in step.shots]
    assert len(shots) >= len(steps), "most steps show at least one message"
    wheres = {shot.where for shot in shots}
    assert any(w.startswith("only ") for w in wheres), wheres  # private answers
    assert {"#alerts", "#reports"} <= wheres, wheres  # the panic alert and the leave request are posted

    index = write(tmp_path / "gallery", steps, datetime(2026, 1, 1, tzinfo=UTC))
    page = index.read_text(encoding="utf-8")
    for n, step in enumerate(steps, 1):
        assert f"id=step-{n}>" in page
        for k in range(1, len(step.shots) + 1):
            for label, width in WIDTHS.items():
                image = Image.open(index.parent / f"step{n:02d}-{k}-{label}.png")
                assert image.width == width * 2 and image.height > 100
