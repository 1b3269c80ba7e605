"""docs/architecture.md is the map of the code: every module of bot/ and cogs/ is named in it, so a module
nobody wrote down fails here rather than surprising the next reader."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"


def modules() -> list[str]:
    """Every module of bot/ and cogs/ (packages by their folder, `__init__`/`__main__` through it), as a path."""
    found = []
    for top in ("bot", "cogs"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT)
            if path.name in {"__init__.py", "__main__.py"}:
                found.append(f"{relative.parent}/")
            else:
                found.append(str(relative))
    return found


def named(module: str, text: str) -> bool:
    """A module is named by its path (`bot/core/shifts/sync.py`, `bot/core/shifts/`), or, inside a package row that
    names
    the package, by its bare name in backticks (`sync`)."""
    if f"`{module}`" in text or f"`{module.removesuffix('.py')}`" in text:
        return True
    package, _, name = module.rstrip("/").rpartition("/")
    stem = name.removesuffix(".py")
    for line in text.splitlines():
        if f"`{package}/`" in line and re.search(rf"`{re.escape(stem)}`|`{re.escape(name)}`", line):
            return True
        # A row naming several modules of one folder: `bot/discord/interactions.py`, `bot/discord/discord_text.py`.
        if f"`{package}/{name}`" in line:
            return True
    return False


def test_every_module_of_bot_and_cogs_is_on_the_architecture_map() -> None:
    text = MAP.read_text(encoding="utf-8")
    missing = [m for m in modules() if not named(m, text)]
    assert not missing, f"docs/architecture.md does not name these modules: {missing}"


def test_the_check_sees_a_module_that_is_not_on_the_map() -> None:
    text = MAP.read_text(encoding="utf-8")
    assert modules(), "no modules found: the check would pass vacuously"
    assert not named("bot/no_such_module.py", text)
    assert named("bot/ops/services.py", text)
