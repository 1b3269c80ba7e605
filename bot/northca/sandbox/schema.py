"""The sandbox's SQLite tables and the documented fields of each record kind."""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS mdts (id TEXT PRIMARY KEY, owner_discord_id TEXT, name TEXT);
CREATE TABLE IF NOT EXISTS link_requests (
    id TEXT PRIMARY KEY, mdt_id TEXT NOT NULL, guild_id TEXT NOT NULL, status TEXT NOT NULL,
    requester_discord_id TEXT, owner_discord_id TEXT, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, decided_at TEXT, auto_approve_at REAL);
CREATE TABLE IF NOT EXISTS links (
    guild_id TEXT NOT NULL, mdt_id TEXT NOT NULL, owner_discord_id TEXT, request_id TEXT,
    PRIMARY KEY (guild_id, mdt_id));
CREATE TABLE IF NOT EXISTS shifts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, mdt_id TEXT NOT NULL, id TEXT NOT NULL,
    officer_name TEXT, officer_badge TEXT, status TEXT, start_time TEXT, end_time TEXT,
    duration_ms INTEGER, department TEXT, created_by_discord_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS shifts_mdt_id ON shifts (mdt_id, id);
CREATE TABLE IF NOT EXISTS units (
    mdt_id TEXT NOT NULL, id TEXT NOT NULL, officer_name TEXT, officer_badge TEXT,
    department TEXT, rank TEXT, status TEXT, last_seen TEXT, created_by_discord_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (mdt_id, id));
"""


SHIFT_FIELDS = ("id", "officer_name", "officer_badge", "status", "start_time", "end_time", "duration_ms", "department")


UNIT_FIELDS = ("id", "officer_name", "officer_badge", "department", "rank", "status")


UNIT_TEXT = UNIT_FIELDS[1:]


# --- dispatch (the recovered endpoints of `northca-more-endpoints.md`, "Known, for later") ---------
# Every field is optional and nullable; only `units_assigned` (string array) and the panic `address`
# (string|null) have documented types. assumption: the other fields are texts (strings).
CALL_FIELDS = (
    "id",
    "classification",
    "description",
    "location",
    "status",
    "call_type",
    "priority",
    "units_assigned",
    "created_by",
)


# Only these are applied by PATCH /mdts/{mdtId}/calls/{callId} (documented).
CALL_PATCHABLE = ("classification", "description", "location", "status", "call_type", "priority", "units_assigned")


SCENE_REPORT_FIELDS = (
    "id",
    "title",
    "description",
    "location",
    "date",
    "time",
    "officer_name",
    "officer_badge",
    "status",
    "dispatch_call_id",
)


TICKET_FIELDS = (
    "id",
    "title",
    "description",
    "officer_name",
    "officer_badge",
    "officer_callsign",
    "status",
    "priority",
)


# table -> (fields, documented default status)
DISPATCH_RECORDS = {
    "calls": (CALL_FIELDS, "open"),
    "scene_reports": (SCENE_REPORT_FIELDS, "DRAFT"),
    "tickets": (TICKET_FIELDS, "open"),
}


LIST_FIELDS = frozenset({"units_assigned"})


def dispatch_schema() -> str:
    # One table per record kind; `units_assigned` is kept as JSON text. The unique (mdt_id, id) index makes
    # a repeated id fail as for shifts (see _create_dispatch_record).
    tables = []
    for table, (fields, _default) in DISPATCH_RECORDS.items():
        columns = ", ".join(f"{name} TEXT" for name in fields if name != "id")
        tables.append(
            f"CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, mdt_id TEXT NOT NULL,"
            f" id TEXT NOT NULL, {columns}, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
            f" CREATE UNIQUE INDEX IF NOT EXISTS {table}_mdt_id ON {table} (mdt_id, id);"
        )
    tables.append(
        "CREATE TABLE IF NOT EXISTS panics (mdt_id TEXT NOT NULL, unit_id TEXT NOT NULL, address TEXT,"
        " actor_discord_id TEXT, ts TEXT NOT NULL, PRIMARY KEY (mdt_id, unit_id));"
    )
    return "\n".join(tables)
