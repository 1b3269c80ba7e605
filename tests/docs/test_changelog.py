"""CHANGELOG.md speaks to users: every release is dated, newest first, and none names an issue or a migration
number (those mean nothing to someone running the bot)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
RELEASE = re.compile(r"^## (\d+)\.(\d+)\.(\d+) \((\d{4}-\d{2}-\d{2})\)$")


def releases(text: str) -> list[tuple[tuple[int, int, int], date]]:
    found = []
    for line in text.splitlines():
        if line.startswith("## "):
            m = RELEASE.match(line)
            assert m, f"a release heading must read '## X.Y.Z (YYYY-MM-DD)': {line!r}"
            found.append(((int(m[1]), int(m[2]), int(m[3])), date.fromisoformat(m[4])))
    return found


def internal_references(text: str) -> list[str]:
    return re.findall(r"(?i)\b(?:issue|migration|scenario)s? \d+[\d.,–-]*|#\d+\b", text)


def test_every_release_is_dated_and_the_newest_comes_first():
    found = releases(CHANGELOG.read_text(encoding="utf-8"))
    assert len(found) >= 3
    versions = [v for v, _ in found]
    dates = [d for _, d in found]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert dates == sorted(dates, reverse=True)


def test_no_issue_or_migration_numbers():
    assert internal_references(CHANGELOG.read_text(encoding="utf-8")) == []


def test_the_checks_catch_what_they_are_for():
    assert internal_references("Overload (issue 13): … new migration 024: `leases`; see #12") == [
        "issue 13",
        "migration 024",
        "#12",
    ]
    try:
        releases("## Unreleased\n")
    except AssertionError:
        pass
    else:
        raise AssertionError("an undated heading passed")
