"""The core writes no Discord markup and names no slash command: it returns facts and error kinds, and the front
doors word them (docs/architecture.md, "Errors: kinds in the core, words at the door"). This reads every string
literal of every core module (docstrings aside: they explain, nobody is shown them) and fails on a mention
(`<@`), a channel (`<#`), a timestamp (`<t:`) or a slash-command name (`/shift`, `/loa end`, ...), and on a
front door's own sentence (`.said(...)`, `ErrorKind.SAID`) used by the core."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The Discord front door inside bot/ (the rest of it is cogs/), its wording, and the local copies of the outside
# systems (they answer as those systems do).
FRONT_DOOR = ("bot/discord/", "bot/web/", "bot/wording.py", "bot/ops/checks.py")
SANDBOXES = ("bot/northca/sandbox/", "bot/erlc/sandbox/")
# The bot's top-level slash commands (cogs/): "/shift", "/loa end"; a URL path ("/erlc/events") is not one.
COMMANDS = ("link", "unlink", "shift", "status", "settings", "loa", "roster", "panic", "call", "ticket", "report",
            "erlc", "profile")  # fmt: skip
MARKUP = re.compile(r"<@|<#|<t:")
COMMAND = re.compile(rf"(?<![\w/.}}-])/({'|'.join(COMMANDS)})(?![\w/.-])")


def core_modules() -> list[Path]:
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "__pycache__" in path.parts or relative.startswith(FRONT_DOOR + SANDBOXES):
            continue
        found.append(path)
    return found


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes (module, class, function)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal but docstrings, an f-string as one text with `{}` for each value put in."""
    skip = docstrings(tree)
    inside_f_strings = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                inside_f_strings.add(id(part))
                parts.append(part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}")
            found.append((node.lineno, "".join(parts)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip | inside_f_strings:
            found.append((node.lineno, node.value))
    return found


def findings(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for line, text in texts(tree):
        for pattern in (MARKUP, COMMAND):
            if match := pattern.search(text):
                found.append(f"{name}:{line}: {match.group(0)!r} in {text[:60]!r}")
    if name != "bot/core/errors.py":  # where the kind is defined
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("said", "SAID"):
                found.append(f"{name}:{node.lineno}: .{node.attr} (a front door's own sentence)")
    return found


def test_no_core_module_writes_discord_markup_or_command_names() -> None:
    modules = core_modules()
    assert len(modules) > 80  # the walk found the core
    found = [f for path in modules for f in findings(path.read_text(), path.relative_to(ROOT).as_posix())]
    assert found == [], "\n".join(found)


def test_the_check_finds_what_it_looks_for() -> None:
    """Each kind of offence is caught (in a string, an f-string's text, a raise), and what is allowed passes."""
    offences = {
        'x = f"<@{member_id}> is not on duty"': "'<@'",
        'x = f"until <t:{end}:f>"': "'<t:'",
        'x = f"I lack it in <#{channel}>"': "'<#'",
        'raise Conflict("End it with /loa end first.")': "'/loa'",
        'x = "Use /shift start."': "'/shift'",
        "x = '`/erlc verify`'": "'/erlc'",
        'raise InvalidInput.said("text")': ".said",
        "k = ErrorKind.SAID": ".SAID",
    }
    for source, expected in offences.items():
        [finding] = findings(source, "m.py")
        assert expected in finding, (source, finding)
    allowed = [
        'def f():\n    """The rules behind /shift and <@mentions>."""\n',
        'route = "/erlc/events/{token}"',
        'path = "/v2/server"',
        'url = f"{base}/link-requests"',
        'path = f"/mdts/{mdt}/unlink"',
        'x = "a/b and 1/2 and /health"',
        "x = 'and/or shift'",
    ]
    for source in allowed:
        assert findings(source, "m.py") == [], source


def test_hub_events_carry_facts_not_sentences() -> None:
    """What a topic carries (bot/core/events.py, and the services' own topics) is ids, times, records and codes: no
    field holds text for a person to read (the subscribers word it)."""
    import dataclasses

    from bot.core.dispatch.records import DispatchOutcome
    from bot.core.duty.records import DutyAdjusted
    from bot.core.events import EventHub
    from bot.core.leave.records import LeaveDecided
    from bot.core.rosters.records import RosterAssignmentChanged
    from bot.core.settings.records import SettingsChanged
    from bot.core.shifts.records import DutyChanged, ShiftEvent
    from bot.core.unit_status.coalescer import UnitsSent
    from bot.core.unit_status.records import PanelsStale
    from bot.erlc.calls import GameCallRelayed
    from bot.erlc.records import EmergencyCallEvent, PresenceUpdated, ServerConnectionChanged

    hub = EventHub()
    topics = [f.name for f in dataclasses.fields(EventHub)]
    assert topics == ["duty", "shifts", "panels", "settings", "erlc", "erlc_calls", "changes"], (
        "a new topic: list its events"
    )
    assert all(getattr(hub, name).name for name in topics)
    events = [DutyChanged, ShiftEvent, PanelsStale, SettingsChanged, ServerConnectionChanged, PresenceUpdated,
              EmergencyCallEvent, DispatchOutcome, GameCallRelayed, UnitsSent, DutyAdjusted, LeaveDecided,
              RosterAssignmentChanged]  # fmt: skip
    wordy = {"text", "message", "content", "line", "sentence", "words", "summary"}
    for event in events:
        fields = dataclasses.fields(event)
        assert not {f.name for f in fields} & wordy, event.__name__
        text = {f.name for f in fields if str(f.type).startswith("str")}
        assert text <= set(FACT_TEXT.get(event.__name__, ())), (event.__name__, text)


# Text fields of events that are facts, not sentences: names and codes, or what a game player typed.
FACT_TEXT = {
    "ServerConnectionChanged": ("server_name", "reason"),  # reason: a code ("admin", "key_invalid")
    "EmergencyCallEvent": ("team", "description", "location", "caller_location"),  # as the game sent them
    "DispatchOutcome": ("kind", "record_id", "state"),
    "GameCallRelayed": ("call_id",),
}
