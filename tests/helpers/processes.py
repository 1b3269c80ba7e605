"""Processes a test started (the bot as a child process): whether one still runs."""

from __future__ import annotations

from pathlib import Path


def running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return False
    return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
