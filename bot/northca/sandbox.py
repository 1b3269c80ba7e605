"""A local, spec-faithful Northca for tests, benchmarks, demos and development.

It implements the documented endpoints (those of the project's copy of the spec,
bot/northca/openapi.yaml, that the bot uses) with the documented validation and
error messages, keeps its state in SQLite (in memory, or a file given on start),
and can inject faults at run time so the bot's retry and exactly-once logic can
be proven against real HTTP.

Where the public docs are silent the sandbox makes the smallest choice and says
so in a comment marked "assumption".

Run alone: `northca-bot sandbox --port 8787` or `python -m bot.northca.sandbox`.

Sandbox-only helpers, for tests and demos (never part of the API):

- `plant_shift(mdt_id, record)` (and `POST /_sandbox/mdts/{mdt_id}/shifts` with the record
  as JSON) stores a shift record as given, unvalidated: a badly typed one (to see how
  the bot reads a malformed item) or one with old `updated_at` / `created_at` (a backlog
  with a history). Missing times default to now.
- `accept_duplicate_shift_ids()` drops the assumed refusal of a second shift with an id the
  MDT already has, so a test can prove the bot itself never writes a shift twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sqlite3
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

DEFAULT_SANDBOX_KEY = "sandbox-partner-key"


class SandboxMdt(BaseModel):
    id: str = Field(min_length=1)
    owner_discord_id: str | None = None
    name: str | None = None


class SandboxConfig(BaseModel):
    partner_key: str = DEFAULT_SANDBOX_KEY
    # Approve pending link requests by themselves after this many seconds (None: never).
    auto_approve_after: float | None = 1.0
    link_request_ttl_seconds: float = 15 * 60
    db_path: str = ":memory:"
    mdts: list[SandboxMdt] = Field(default_factory=lambda: [SandboxMdt(id="demo-mdt", name="Demo MDT")])
    record_requests: bool = True


# "error": answers `status` with `message` as the error text (e.g. a very long one).
FAULT_KINDS = ("500", "429", "html502", "hang", "commit_then_500", "empty200", "error")


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: re.Pattern[str] | None = None
    method: str | None = None
    retry_after: float = 1.0
    hang_seconds: float = 60.0
    status: int = 400
    message: str = "Refused"

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return self.path is None or bool(self.path.search(path))


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0


@dataclass
class Hold:
    """Holds the next matching request(s) before they are served, until released: lets a test
    interleave a call with others deterministically (sandbox-only, like latency)."""

    path: re.Pattern[str]
    method: str | None = None
    times: int = 1
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class Faults:
    """Fault injection, switchable at run time (from Python or `POST /_sandbox/faults`)."""

    latency: float = 0.0
    queue: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    # Sandbox-only: the status new link requests start with. The spec says `pending`; another
    # value rehearses a status Northca may add later (e.g. `in_review`).
    link_request_status: str = "pending"

    def hold(self, path: str, *, method: str | None = None, times: int = 1) -> Hold:
        held = Hold(re.compile(path), method.upper() if method else None, times)
        self.holds.append(held)
        return held

    def release_all(self) -> None:
        for held in self.holds:
            held.release()
        self.holds.clear()

    def take_hold(self, method: str, path: str) -> Hold | None:
        for held in self.holds:
            if (held.method is None or held.method == method) and held.path.search(path):
                held.times -= 1
                if held.times <= 0:
                    self.holds.remove(held)
                return held
        return None

    def add(
        self,
        kind: str,
        times: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        retry_after: float = 1.0,
        hang_seconds: float = 60.0,
        status: int = 400,
        message: str = "Refused",
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be 1 or more (a fault with times 0 would never be wanted)")
        self.queue.append(
            Fault(
                kind, times, re.compile(path) if path else None, method.upper() if method else None,
                retry_after, hang_seconds, status, message,
            )
        )

    def clear(self) -> None:
        self.queue.clear()
        self.latency = 0.0
        self.release_all()
        self.link_request_status = "pending"

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.queue:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.queue.remove(fault)
                return fault
        return None


class DecisionRefused(Exception):
    """A link request that is no longer pending cannot be decided otherwise (e.g. expiring an approved one)."""


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without offset")
    return parsed


_SCHEMA = """
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

_SHIFT_FIELDS = ("id", "officer_name", "officer_badge", "status", "start_time", "end_time", "duration_ms", "department")
_UNIT_FIELDS = ("id", "officer_name", "officer_badge", "department", "rank", "status")
_UNIT_TEXT = _UNIT_FIELDS[1:]

# --- dispatch (the recovered endpoints of `northca-more-endpoints.md`, "Known, for later") ---------
# Every field is optional and nullable; only `units_assigned` (string array) and the panic `address`
# (string|null) have documented types. assumption: the other fields are texts (strings).
_CALL_FIELDS = (
    "id", "classification", "description", "location", "status", "call_type", "priority", "units_assigned",
    "created_by",
)
# Only these are applied by PATCH /mdts/{mdtId}/calls/{callId} (documented).
_CALL_PATCHABLE = ("classification", "description", "location", "status", "call_type", "priority", "units_assigned")
_SCENE_REPORT_FIELDS = (
    "id", "title", "description", "location", "date", "time", "officer_name", "officer_badge", "status",
    "dispatch_call_id",
)
_TICKET_FIELDS = (
    "id", "title", "description", "officer_name", "officer_badge", "officer_callsign", "status", "priority",
)
# table -> (fields, documented default status)
_DISPATCH_RECORDS = {
    "calls": (_CALL_FIELDS, "open"),
    "scene_reports": (_SCENE_REPORT_FIELDS, "DRAFT"),
    "tickets": (_TICKET_FIELDS, "open"),
}
_LIST_FIELDS = frozenset({"units_assigned"})


def _dispatch_schema() -> str:
    # One table per record kind; `units_assigned` is kept as JSON text. The unique (mdt_id, id) index makes
    # a repeated id fail as for shifts (see _create_dispatch_record).
    tables = []
    for table, (fields, _default) in _DISPATCH_RECORDS.items():
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

Handler = Callable[[web.Request, str, str | None], Awaitable[Any]]


class NorthcaSandbox:
    """The sandbox's state and its aiohttp application."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.faults = Faults()
        self.requests: deque[RecordedRequest] = deque(maxlen=100_000)
        self.db = sqlite3.connect(self.config.db_path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(_SCHEMA)
        self.db.executescript(_dispatch_schema())
        for mdt in self.config.mdts:
            self.add_mdt(mdt.id, mdt.owner_discord_id, mdt.name)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    # --- running -------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the `/v1` base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}/v1"
        log.info("Northca sandbox listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.db.close()

    async def __aenter__(self) -> "NorthcaSandbox":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- state, for tests and the admin routes ------------------------------

    def add_mdt(self, mdt_id: str, owner_discord_id: str | int | None = None, name: str | None = None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO mdts (id, owner_discord_id, name) VALUES (?, ?, ?)",
            (mdt_id, None if owner_discord_id is None else str(owner_discord_id), name),
        )

    def link(self, guild_id: str | int, mdt_id: str) -> None:
        """Link directly, as if a request had been approved."""
        owner = self.db.execute("SELECT owner_discord_id FROM mdts WHERE id = ?", (mdt_id,)).fetchone()
        self.db.execute(
            "INSERT OR REPLACE INTO links (guild_id, mdt_id, owner_discord_id) VALUES (?, ?, ?)",
            (str(guild_id), mdt_id, owner[0] if owner else None),
        )

    def unlink(self, guild_id: str | int, mdt_id: str) -> None:
        self.db.execute("DELETE FROM links WHERE guild_id = ? AND mdt_id = ?", (str(guild_id), mdt_id))

    def is_linked(self, guild_id: str | int, mdt_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM links WHERE guild_id = ? AND mdt_id = ?", (str(guild_id), mdt_id)).fetchone()
        return row is not None

    def decide(self, request_id: str, status: str) -> dict[str, Any]:
        """Approve, deny or expire a link request (the sandbox-only admin path)."""
        if status not in ("approved", "denied", "expired"):
            raise ValueError(status)
        row = self._link_request(request_id)
        if row is None:
            raise KeyError(request_id)
        if row["status"] != "pending" and row["status"] != status:
            raise DecisionRefused(f"Link request already {row['status']}")
        self.db.execute(
            "UPDATE link_requests SET status = ?, decided_at = ?, auto_approve_at = NULL WHERE id = ?",
            (status, _iso(_now()), request_id),
        )
        if status == "approved":
            self.db.execute(
                "INSERT OR REPLACE INTO links (guild_id, mdt_id, owner_discord_id, request_id) VALUES (?, ?, ?, ?)",
                (row["guild_id"], row["mdt_id"], row["owner_discord_id"], request_id),
            )
        return self._link_request_json(self._link_request(request_id))

    def link_requests(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM link_requests ORDER BY created_at")]
        return [self._link_request_json(self._link_request(i)) for i in ids]

    def shifts(self, mdt_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM shifts WHERE mdt_id = ? ORDER BY seq", (mdt_id,)).fetchall()
        return [self._shift_json(r) for r in rows]

    def plant_shift(self, mdt_id: str, record: dict[str, Any]) -> None:
        """Store a shift record as given, unvalidated (sandbox-only; see the module docstring)."""
        now = _iso(_now())
        values = {name: record.get(name) for name in _SHIFT_FIELDS}
        if values["id"] is None:
            values["id"] = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO shifts (mdt_id, id, officer_name, officer_badge, status, start_time, end_time, duration_ms,"
            " department, created_by_discord_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                mdt_id, *(_plain(values[name]) for name in _SHIFT_FIELDS), _plain(record.get("created_by_discord_id")),
                _plain(record.get("created_at", now)), _plain(record.get("updated_at", record.get("created_at", now))),
            ),
        )

    def accept_duplicate_shift_ids(self) -> None:
        """From now on a second shift with an id the MDT has is stored too (sandbox-only)."""
        self.db.execute("DROP INDEX IF EXISTS shifts_mdt_id")
        self.db.execute("CREATE INDEX IF NOT EXISTS shifts_mdt_id_any ON shifts (mdt_id, id)")

    def units(self, mdt_id: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM units WHERE mdt_id = ? ORDER BY id", (mdt_id,)).fetchall()
        return {r["id"]: self._unit_json(r) for r in rows}

    # --- the application -----------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**2)
        v1 = [
            ("POST", "/v1/link-requests", self._create_link_request),
            ("POST", "/v1/link-requests/{request_id}/confirm", self._confirm_link_request),
            ("GET", "/v1/guilds/{guild_id}/mdts", self._guild_mdts),
            ("POST", "/v1/mdts/{mdt_id}/unlink", self._unlink),
            ("POST", "/v1/mdts/{mdt_id}/shifts", self._create_shift),
            ("GET", "/v1/mdts/{mdt_id}/shifts", self._list_shifts),
            ("PUT", "/v1/mdts/{mdt_id}/units/active", self._upsert_units),
        ]
        for method, path, handler in v1:
            app.router.add_route(method, path, self._api(handler))
        self._add_dispatch_routes(app)
        app.router.add_post("/_sandbox/link-requests/{request_id}/{decision}", self._admin_decide)
        app.router.add_post("/_sandbox/faults", self._admin_faults)
        app.router.add_post("/_sandbox/mdts/{mdt_id}/shifts", self._admin_plant_shift)
        app.router.add_get("/_sandbox/state", self._admin_state)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        record = None
        if self.config.record_requests:
            record = RecordedRequest(
                request.method, request.raw_path.split("?")[0], dict(request.query), {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
            )
            self.requests.append(record)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        held = self.faults.take_hold(request.method, request.path)
        if held is not None:
            held.arrived.set()
            await held.released.wait()
        fault = self.faults.take(request.method, request.path)
        response = await self._with_fault(fault, request, handler)
        if record is not None:
            record.status = response.status
        return response

    async def _with_fault(self, fault: Fault | None, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if fault is None:
            return await handler(request)
        log.info("sandbox fault %s on %s %s", fault.kind, request.method, request.path)
        if fault.kind == "500":
            return _envelope_error(500, "Internal server error")
        if fault.kind == "429":
            resp = _envelope_error(429, "Too many requests")
            resp.headers["Retry-After"] = f"{fault.retry_after:g}"
            return resp
        if fault.kind == "html502":
            return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html")
        if fault.kind == "error":
            return _envelope_error(fault.status, fault.message)
        if fault.kind == "empty200":
            return web.Response(status=200, body=b"")
        if fault.kind == "hang":
            await asyncio.sleep(fault.hang_seconds)
            return _envelope_error(504, "Gateway timeout")
        # commit_then_500: the write happens, the answer is lost.
        await handler(request)
        return _envelope_error(500, "Internal server error")

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                self._approve_due_requests()
                guild, actor = self._authenticate(request)
                status, data = await handler(request, guild, actor)
            except ApiError as exc:
                return _envelope_error(exc.status, exc.message)
            return _json(status, {"ok": True, "data": data})

        return wrapped

    def _authenticate(self, request: web.Request) -> tuple[str, str | None]:
        if request.headers.get("x-partner-key") != self.config.partner_key:
            raise ApiError(401, "Unauthorized")
        guild = request.headers.get("x-discord-guild", "").strip()
        if not guild:
            raise ApiError(401, "Unauthorized")
        actor = request.headers.get("x-discord-actor", "").strip() or None
        return guild, actor

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(400, "Invalid JSON") from None

    def _require_link(self, guild: str, mdt_id: str) -> None:
        if not self.is_linked(guild, mdt_id):
            raise ApiError(403, "MDT not linked to this guild")

    # --- link requests -------------------------------------------------------

    def _approve_due_requests(self) -> None:
        """Demo auto-approval: pending requests whose time has come are approved before any call is served."""
        due = self.db.execute(
            "SELECT id FROM link_requests WHERE status = 'pending' AND auto_approve_at IS NOT NULL AND auto_approve_at <= ?",
            (time.time(),),
        ).fetchall()
        for row in due:
            self.decide(row["id"], "approved")

    def _link_request(self, request_id: str) -> sqlite3.Row | None:
        row = self.db.execute("SELECT * FROM link_requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return None
        if row["status"] == "pending" and _parse_dt(row["expires_at"]) <= _now():
            self.db.execute("UPDATE link_requests SET status = 'expired' WHERE id = ?", (request_id,))
            return self._link_request(request_id)
        return row

    @staticmethod
    def _link_request_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "partner": "sandbox",
            "mdt_id": row["mdt_id"],
            "guild_id": row["guild_id"],
            "status": row["status"],
            "requester_discord_id": row["requester_discord_id"],
            "owner_discord_id": row["owner_discord_id"],
            "created_at": row["created_at"],
            "expires_at": row["expires_at"],
            "decided_at": row["decided_at"],
        }

    async def _create_link_request(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        _refuse_unknown(body, ("mdt_id",))
        if body.get("mdt_id") in (None, ""):
            raise ApiError(400, "Missing required fields: mdt_id")
        mdt_id = body["mdt_id"]
        mdt = self.db.execute("SELECT * FROM mdts WHERE id = ?", (mdt_id,)).fetchone() if isinstance(mdt_id, str) else None
        if mdt is None:
            raise ApiError(400, "Invalid mdt_id")
        now = _now()
        request_id = str(uuid.uuid4())
        auto = self.config.auto_approve_after
        self.db.execute(
            "INSERT INTO link_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                request_id, mdt_id, guild, self.faults.link_request_status, actor, mdt["owner_discord_id"], _iso(now),
                _iso(now + timedelta(seconds=self.config.link_request_ttl_seconds)), None if auto is None else time.time() + auto,
            ),
        )
        # The request is created `pending`; auto-approval happens later, on the next read.
        row = self.db.execute("SELECT * FROM link_requests WHERE id = ?", (request_id,)).fetchone()
        return 201, self._link_request_json(row)

    async def _confirm_link_request(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        row = self._link_request(request.match_info["request_id"])
        # assumption: an unknown request id answers 404.
        if row is None:
            raise ApiError(404, "Link request not found")
        if row["guild_id"] != guild or actor is None or actor != row["owner_discord_id"]:
            raise ApiError(403, "Forbidden")
        if row["status"] == "expired":
            raise ApiError(410, "Link request expired")
        if row["status"] == "denied":
            raise ApiError(409, "Link request denied")
        if row["status"] == "approved":
            return 200, {"already": True}
        return 200, self.decide(row["id"], "approved")

    async def _guild_mdts(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        if request.match_info["guild_id"] != guild:
            raise ApiError(403, "Forbidden")
        rows = self.db.execute("SELECT mdt_id FROM links WHERE guild_id = ? ORDER BY mdt_id", (guild,)).fetchall()
        return 200, [{"mdt_id": r["mdt_id"]} for r in rows]

    async def _unlink(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        owner = self.db.execute(
            "SELECT owner_discord_id FROM links WHERE guild_id = ? AND mdt_id = ?", (guild, mdt_id)
        ).fetchone()[0]
        if actor is None or actor != owner:
            raise ApiError(403, "Forbidden")
        self.unlink(guild, mdt_id)
        return 200, {"unlinked": True}  # assumption: the answer's shape was not recovered.

    # --- shifts ---------------------------------------------------------------

    @staticmethod
    def _shift_json(row: sqlite3.Row) -> dict[str, Any]:
        data = {name: row[name] for name in _SHIFT_FIELDS}
        data.update(
            mdt_code=row["mdt_id"], created_by_discord_id=row["created_by_discord_id"],
            created_at=row["created_at"], updated_at=row["updated_at"],
        )
        return data

    async def _create_shift(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        _refuse_unknown(body, _SHIFT_FIELDS)
        for name in ("id", "officer_name", "officer_badge", "status", "department", "start_time", "end_time"):
            if name in body and not (isinstance(body[name], str) or (body[name] is None and name != "id")):
                raise ApiError(400, f"Invalid {name}")
        for name in ("start_time", "end_time"):
            if body.get(name) is not None:
                try:
                    _parse_dt(body[name])
                except ValueError:
                    raise ApiError(400, f"Invalid {name}") from None
        duration = body.get("duration_ms")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
            raise ApiError(400, "Invalid duration_ms")
        now = _iso(_now())
        shift_id = body.get("id") or str(uuid.uuid4())
        try:
            cursor = self.db.execute(
                "INSERT INTO shifts (mdt_id, id, officer_name, officer_badge, status, start_time, end_time, duration_ms,"
                " department, created_by_discord_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    mdt_id, shift_id, body.get("officer_name"), body.get("officer_badge"), body.get("status") or "active",
                    body.get("start_time") or now, body.get("end_time"), duration, body.get("department"), actor, now, now,
                ),
            )
        except sqlite3.IntegrityError:
            # assumption: a second shift with an id the MDT already has fails as a unique key
            # would in the real service, with a plain server error; it is never stored twice.
            raise ApiError(500, "Internal server error") from None
        row = self.db.execute("SELECT * FROM shifts WHERE seq = ?", (cursor.lastrowid,)).fetchone()
        return 201, self._shift_json(row)

    async def _list_shifts(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise ApiError(400, "Invalid limit") from None
        if limit < 1:
            raise ApiError(400, "Invalid limit")
        sql, args = "SELECT * FROM shifts WHERE mdt_id = ?", [mdt_id]
        for name in ("department", "status"):
            if request.query.get(name):
                sql += f" AND {name} = ?"
                args.append(request.query[name])
        sql += " ORDER BY updated_at DESC, seq DESC LIMIT ?"
        args.append(min(limit, 200))
        return 200, [self._shift_json(r) for r in self.db.execute(sql, args).fetchall()]

    # --- active units ---------------------------------------------------------

    @staticmethod
    def _unit_json(row: sqlite3.Row) -> dict[str, Any]:
        data = {name: row[name] for name in _UNIT_FIELDS}
        data.update(
            mdt_code=row["mdt_id"], last_seen=row["last_seen"], created_by_discord_id=row["created_by_discord_id"],
            created_at=row["created_at"], updated_at=row["updated_at"],
        )
        return data

    async def _upsert_units(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("units"), list):
            raise ApiError(400, "Expected { units: [...] }")
        _refuse_unknown(body, ("units",))
        seen: set[str] = set()
        for unit in body["units"]:
            if not isinstance(unit, dict) or not isinstance(unit.get("id"), str) or not unit["id"].strip():
                raise ApiError(400, "Each unit must include a non-empty id")
            if unit["id"] in seen:
                raise ApiError(400, "Duplicate unit id in request body")
            seen.add(unit["id"])
            _refuse_unknown(unit, _UNIT_FIELDS)
            for name in _UNIT_TEXT:
                if unit.get(name) is not None and not isinstance(unit[name], str):
                    raise ApiError(400, f"Invalid {name}")
        now = _iso(_now())
        out = []
        for unit in body["units"]:
            existing = self.db.execute("SELECT * FROM units WHERE mdt_id = ? AND id = ?", (mdt_id, unit["id"])).fetchone()
            # Unset values are stored as "" (documented); a field left out keeps its value.
            values = {n: (unit.get(n) or "") if n in unit else (existing[n] if existing else "") for n in _UNIT_TEXT}
            self.db.execute(
                "INSERT INTO units (mdt_id, id, officer_name, officer_badge, department, rank, status, last_seen,"
                " created_by_discord_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (mdt_id, id) DO UPDATE SET officer_name=excluded.officer_name,"
                " officer_badge=excluded.officer_badge, department=excluded.department, rank=excluded.rank,"
                " status=excluded.status, last_seen=excluded.last_seen, updated_at=excluded.updated_at",
                (mdt_id, unit["id"], *values.values(), now, actor, now, now),
            )
            row = self.db.execute("SELECT * FROM units WHERE mdt_id = ? AND id = ?", (mdt_id, unit["id"])).fetchone()
            out.append(self._unit_json(row))
        return 200, out

    # --- dispatch: panic, calls, scene reports, tickets ---------------------

    def _add_dispatch_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/mdts/{mdt_id}/units/active/{unit_id}/panic", self._panic),
            ("POST", "/v1/mdts/{mdt_id}/calls", self._create_call),
            ("PATCH", "/v1/mdts/{mdt_id}/calls/{call_id}", self._update_call),
            ("POST", "/v1/mdts/{mdt_id}/scene-reports", self._create_scene_report),
            ("POST", "/v1/mdts/{mdt_id}/tickets", self._create_ticket),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._api(handler))

    def dispatch_records(self, table: str, mdt_id: str) -> list[dict[str, Any]]:
        """The calls, scene_reports or tickets an MDT holds, oldest first."""
        fields = _DISPATCH_RECORDS[table][0]
        rows = self.db.execute(f"SELECT * FROM {table} WHERE mdt_id = ? ORDER BY seq", (mdt_id,)).fetchall()
        return [_dispatch_json(row, fields) for row in rows]

    def calls(self, mdt_id: str) -> list[dict[str, Any]]:
        return self.dispatch_records("calls", mdt_id)

    def panics(self, mdt_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM panics WHERE mdt_id = ? ORDER BY unit_id", (mdt_id,)).fetchall()
        return [dict(unit_id=r["unit_id"], address=r["address"], actor_discord_id=r["actor_discord_id"], ts=r["ts"])
                for r in rows]

    def _dispatch_state(self, mdt_ids: list[str]) -> dict[str, Any]:
        state: dict[str, Any] = {
            table: {m: self.dispatch_records(table, m) for m in mdt_ids} for table in _DISPATCH_RECORDS
        }
        state["panics"] = {m: self.panics(m) for m in mdt_ids}
        return state

    async def _panic(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id, unit_id = request.match_info["mdt_id"], request.match_info["unit_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        # assumption: no body reads as `{}` (the address is optional).
        body = {} if body is None else body
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        _refuse_unknown(body, ("address",))
        _check_texts(body, ("address",))
        ts = _iso(_now())
        # assumption: a unit is in panic or not; a repeat refreshes its panic (address, time) and never
        # adds a second one. The unit need not be an active unit (not documented either way).
        self.db.execute(
            "INSERT INTO panics (mdt_id, unit_id, address, actor_discord_id, ts) VALUES (?,?,?,?,?)"
            " ON CONFLICT (mdt_id, unit_id) DO UPDATE SET address=excluded.address,"
            " actor_discord_id=excluded.actor_discord_id, ts=excluded.ts",
            (mdt_id, unit_id, body.get("address"), actor, ts),
        )
        return 200, {"panicked": True, "unit_id": unit_id, "ts": ts}

    async def _create_call(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "calls")

    async def _create_scene_report(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "scene_reports")

    async def _create_ticket(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "tickets")

    async def _create_dispatch_record(self, request: web.Request, guild: str, table: str) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        fields, default_status = _DISPATCH_RECORDS[table]
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        _refuse_unknown(body, fields)
        _check_texts(body, fields)
        values = {name: body.get(name) for name in fields}
        values["id"] = values["id"] or str(uuid.uuid4())  # documented: the server generates one
        values["status"] = values["status"] or default_status
        now = _iso(_now())
        try:
            cursor = self.db.execute(
                f"INSERT INTO {table} (mdt_id, {', '.join(fields)}, created_at, updated_at)"
                f" VALUES ({', '.join('?' * (len(fields) + 3))})",
                (mdt_id, *(_dispatch_column(name, values[name]) for name in fields), now, now),
            )
        except sqlite3.IntegrityError:
            # assumption: as for shifts, a second record with an id the MDT already has fails as a unique
            # key would in the real service, with a plain server error; it is never stored twice.
            raise ApiError(500, "Internal server error") from None
        row = self.db.execute(f"SELECT * FROM {table} WHERE seq = ?", (cursor.lastrowid,)).fetchone()
        return 201, _dispatch_json(row, fields)

    async def _update_call(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id, call_id = request.match_info["mdt_id"], request.match_info["call_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        # Documented: only these fields are applied; any other field is left out, not refused.
        changes = {name: body[name] for name in _CALL_PATCHABLE if name in body}
        _check_texts(changes, _CALL_PATCHABLE)
        row = self.db.execute("SELECT seq FROM calls WHERE mdt_id = ? AND id = ?", (mdt_id, call_id)).fetchone()
        if row is None:
            # assumption: an unknown call id answers 404.
            raise ApiError(404, "Call not found")
        if changes:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            self.db.execute(
                f"UPDATE calls SET {assignments}, updated_at = ? WHERE seq = ?",
                (*(_dispatch_column(n, v) for n, v in changes.items()), _iso(_now()), row["seq"]),
            )
        updated = self.db.execute("SELECT * FROM calls WHERE seq = ?", (row["seq"],)).fetchone()
        return 200, _dispatch_json(updated, _CALL_FIELDS)

    # --- sandbox-only admin routes -----------------------------------------

    async def _admin_decide(self, request: web.Request) -> web.Response:
        decision = {"approve": "approved", "deny": "denied", "expire": "expired"}.get(request.match_info["decision"])
        if decision is None:
            return _envelope_error(404, "Unknown decision: use approve, deny or expire")
        try:
            return _json(200, {"ok": True, "data": self.decide(request.match_info["request_id"], decision)})
        except KeyError:
            return _envelope_error(404, "Link request not found")
        except DecisionRefused as exc:
            return _envelope_error(409, str(exc))

    async def _admin_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _envelope_error(400, f"Malformed fault request: send a JSON object. {_FAULTS_USAGE}")
        if not isinstance(body, dict):
            return _envelope_error(400, f"Malformed fault request: send a JSON object. {_FAULTS_USAGE}")
        try:
            options = _fault_options(body)
        except (ValueError, TypeError):
            return _envelope_error(400, f"Malformed fault request: wrong value types. {_FAULTS_USAGE}")
        try:
            if body.get("clear"):
                self.faults.clear()
            if "link_request_status" in body:
                self.faults.link_request_status = str(body["link_request_status"])
            if "latency_ms" in body:
                self.faults.latency = options["latency_ms"] / 1000
            if "fault" in body:
                self.faults.add(
                    str(body["fault"]), int(options["times"]), path=body.get("path"), method=body.get("method"),
                    retry_after=options["retry_after"], hang_seconds=options["hang_seconds"],
                    status=int(body.get("status", 400)), message=str(body.get("message", "Refused")),
                )
        except ValueError as exc:  # our own messages (unknown fault, times < 1)
            return _envelope_error(400, str(exc))
        except re.error:
            return _envelope_error(400, "Malformed fault request: path is not a valid regular expression.")
        return _json(200, {"ok": True, "data": {"latency_ms": self.faults.latency * 1000, "queued": len(self.faults.queue)}})

    async def _admin_plant_shift(self, request: web.Request) -> web.Response:
        try:
            record = await request.json()
        except ValueError:
            return _envelope_error(400, "Invalid JSON")
        if not isinstance(record, dict):
            return _envelope_error(400, "Expected a JSON object")
        self.plant_shift(request.match_info["mdt_id"], record)
        return _json(201, {"ok": True, "data": {"planted": True}})

    async def _admin_state(self, request: web.Request) -> web.Response:
        mdts = [dict(r) for r in self.db.execute("SELECT * FROM mdts ORDER BY id")]
        links = [dict(r) for r in self.db.execute("SELECT guild_id, mdt_id, owner_discord_id FROM links")]
        data = {
            "mdts": mdts,
            "links": links,
            "link_requests": self.link_requests(),
            "shifts": {m["id"]: self.shifts(m["id"]) for m in mdts},
            "units": {m["id"]: list(self.units(m["id"]).values()) for m in mdts},
        }
        data.update(self._dispatch_state([m["id"] for m in mdts]))
        return _json(200, {"ok": True, "data": data})


def _plain(value: Any) -> Any:
    # A planted value SQLite cannot hold as such (a list, an object) is kept as its JSON text.
    return value if value is None or isinstance(value, (str, int, float)) else json.dumps(value)


_FAULTS_USAGE = (
    'Example: {"fault": "500", "times": 2, "path": "/shifts$", "method": "POST"} or {"latency_ms": 150} '
    'or {"clear": true}. Faults: ' + ", ".join(FAULT_KINDS) + "."
)


def _fault_options(body: dict[str, Any]) -> dict[str, float]:
    """The numeric options of a fault request; ValueError/TypeError when one is not a number."""
    def number(name: str, default: float) -> float:
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(name)
        return float(value)

    for name in ("path", "method"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise TypeError(name)
    times = number("times", 1)
    if times != int(times):
        raise ValueError("times")
    return {"latency_ms": number("latency_ms", 0), "times": times,
            "retry_after": number("retry_after", 1.0), "hang_seconds": number("hang_seconds", 60.0)}


def _check_texts(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    """400 for a dispatch field of the wrong type: texts are strings, `units_assigned` an array of strings;
    every one may be null (documented for calls; assumption for scene reports and tickets)."""
    for name in fields:
        value = body.get(name)
        if value is None:
            continue
        if name in _LIST_FIELDS:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise ApiError(400, f"Invalid {name}")


def _dispatch_column(name: str, value: Any) -> Any:
    return json.dumps(value) if name in _LIST_FIELDS and value is not None else value


def _dispatch_json(row: sqlite3.Row, fields: tuple[str, ...]) -> dict[str, Any]:
    # assumption: the answer's schema was not recovered; the sandbox echoes the documented fields only.
    return {
        name: (json.loads(row[name]) if name in _LIST_FIELDS and row[name] is not None else row[name])
        for name in fields
    }


def _refuse_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        # assumption: the message for additionalProperties=false is not documented.
        raise ApiError(400, f"Unknown fields: {', '.join(unknown)}")


def _json(status: int, payload: Any) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode(), content_type="application/json")


def _envelope_error(status: int, message: str) -> web.Response:
    return _json(status, {"ok": False, "error": message})


async def serve(config: SandboxConfig, host: str, port: int) -> None:
    sandbox = NorthcaSandbox(config)
    base_url = await sandbox.start(host, port)
    print(f"Northca sandbox on {base_url}  (send the headers x-partner-key: {config.partner_key}, "
          "x-discord-guild: <server id>, and x-discord-actor: <user id> where an actor is needed)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def config_from_args(db: str, mdt_specs: list[str], *, auto_approve: bool) -> SandboxConfig:
    """The sandbox's configuration from its command line. MDTs given with --mdt are seeded; without --mdt a
    state file that already exists keeps its MDTs and their owners (only a new one gets the demo MDT)."""
    config = SandboxConfig(db_path=db, auto_approve_after=1.0 if auto_approve else None)
    if mdt_specs:
        config.mdts = [
            SandboxMdt(id=s.split(":", 1)[0], owner_discord_id=(s.split(":", 1) + [None])[1]) for s in mdt_specs
        ]
    elif db != ":memory:" and Path(db).exists() and Path(db).stat().st_size > 0:
        config.mdts = []
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="northca-sandbox", description="Run the local Northca sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--db", default=":memory:", help="SQLite file for the sandbox's state (default: memory)")
    parser.add_argument("--mdt", action="append", default=[], metavar="ID[:OWNER_DISCORD_ID]", help="seed an MDT")
    parser.add_argument("--no-auto-approve", action="store_true", help="leave link requests pending")
    args = parser.parse_args(argv)
    config = config_from_args(args.db, args.mdt, auto_approve=not args.no_auto_approve)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve(config, args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
