"""The tests keep one set of builders (tests/helpers/): no test module defines its own copy of a shared id or its
own fake clock class, and no module docstring under tests/ cites a tracker number instead of saying what the
module proves."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ids

TESTS = Path(__file__).resolve().parents[1]
HELPERS = TESTS / "helpers"
# The ids a copy would be spotted by: the servers, members and the MDT (a role or channel id may rightly be reused
# as another module's own).
SHARED = {
    value: name
    for name, value in vars(ids).items()
    if name in {"GUILD", "OTHER_GUILD", "OWNER", "ADMIN", "OFFICER", "OTHER", "SUPERVISOR", "MDT", "KEY"}
}
TRACKER_NUMBER = re.compile(r"(?i)\b(issue|task|ticket|point|scenario)\s+\d|(?<![\w&])#\d{1,5}\b")


def modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if ".venv" not in p.parts)


def module_level_constants(tree: ast.Module) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant):
            found += [(t.id, value.value) for t in targets if isinstance(t, ast.Name)]
    return found


def test_no_test_module_copies_a_shared_id() -> None:
    copies = [
        f"{path.relative_to(TESTS)}: {name} = {value!r} is ids.{SHARED[value]}"
        for path in modules()
        if path != HELPERS / "ids.py"
        for name, value in module_level_constants(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(value, int | str) and value in SHARED
    ]
    assert copies == [], "import these from tests/helpers/ids.py:\n" + "\n".join(copies)


def test_there_is_one_fake_clock_class() -> None:
    clocks = [
        f"{path.relative_to(TESTS)}: class {node.name}"
        for path in modules()
        if path != HELPERS / "clock.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name.endswith("Clock")
    ]
    assert clocks == [], "use tests/helpers/clock.py's Clock:\n" + "\n".join(clocks)


def test_no_module_docstring_cites_a_tracker_number() -> None:
    citing = [
        f"{path.relative_to(TESTS)}: {match.group(0)!r}"
        for path in modules()
        if (doc := ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))) is not None
        and (match := TRACKER_NUMBER.search(doc)) is not None
    ]
    assert citing == [], "say what the module proves instead:\n" + "\n".join(citing)


def test_the_checks_see_what_they_look_for() -> None:
    copy = ast.parse("SUPERVISOR = 666666666666666666\nclass MsClock: ...\n")
    assert ("SUPERVISOR", ids.SUPERVISOR) in module_level_constants(copy) and ids.SUPERVISOR in SHARED
    assert TRACKER_NUMBER.search("Issue 12.1: demo mode") and TRACKER_NUMBER.search("fixes #19")
    assert not TRACKER_NUMBER.search("none names an issue or a migration number; <@&123> and `#313338`")
