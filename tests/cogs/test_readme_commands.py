"""The README's commands table lists every slash command the bot registers (walked from its command
tree), so the table cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from discord import app_commands

pytestmark = pytest.mark.asyncio

README = Path(__file__).resolve().parents[2] / "README.md"


def command_cells() -> list[str]:
    """The first cell of every row of the tables under "## Commands" (up to the next "## " section)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ", 1)[0] for line in section.splitlines() if line.startswith("| `/")]


def documented(name: str, cells: list[str]) -> bool:
    """`/a b c …` in a row; or, for an alternative listed beside its sibling (`/a b x …` / `c …`), `c` in
    a row of `/a b`."""
    words = name.split()
    own = re.compile(rf"`/{re.escape(name)}(?:[ `]|$)")
    parent = " ".join(words[:-1])
    sibling = re.compile(rf"`/{re.escape(parent)} ") if parent else None
    alternative = re.compile(rf"/ `{re.escape(words[-1])}(?:[ `]|$)")
    return any(
        own.search(cell) or (sibling is not None and sibling.search(cell) and alternative.search(cell))
        for cell in cells
    )


async def test_every_registered_slash_command_has_a_row_in_the_readme_commands_table(start_bot):
    h = await start_bot()
    names = sorted(c.qualified_name for c in h.bot.tree.walk_commands() if isinstance(c, app_commands.Command))
    assert len(names) > 30  # the whole tree, every extension loaded
    cells = command_cells()

    missing = [n for n in names if not documented(n, cells)]

    assert missing == [], f"commands without a row in the README's commands table: {missing}"
