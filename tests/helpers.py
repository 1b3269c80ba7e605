"""Shared test helpers and constants (fixtures live in conftest.py).

Ids and keys every test agrees on, state-waiting helpers (never fixed sleeps), builders of configs,
"link the guild", and small fakes more than one test module uses.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.bot import NorthcaBot
from bot.config import Config, ShiftConfig, parse_config
from bot.links import LinkService, LinkStore
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.profiles import ProfileStore
from bot.services import build_shift_service
from bot.shifts import ShiftRecord, ShiftService
from bot.storage import Database
from tests.harness import Harness, Recorded, builders
from tests.spec import validate_request

# --- ids and keys ---------------------------------------------------------------------------

GUILD = 111111111111111111
OWNER = 222222222222222222
ADMIN = 333333333333333333
OFFICER = 444444444444444444
OTHER = 555555555555555555
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
KEY = "test-partner-key-d0n0tl0g"

# What an ordinary member may do in a channel: view, send, embed, read history, use app commands.
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
ADMIN_PERMS = MEMBER_PERMS | builders.MANAGE_GUILD

ADMIN_M = builders.member(ADMIN, permissions=ADMIN_PERMS, username="admin")
OFFICER_M = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer", nick="Ofc. Bubbleton")

# `start_bot` returns one of these: call it to start the real bot, get a Harness back.
BotStarter = Callable[..., Awaitable[Harness]]


# --- configs and links ----------------------------------------------------------------------


def database_section(db_path: Path | str) -> dict[str, str]:
    """[database] for the `db_path` fixture: a SQLite file, or a PostgreSQL URL on the PostgreSQL pass. With a URL,
    `path` too, in a folder of that test database's own: the demo sandbox keeps its state beside [database] path
    on PostgreSQL as well, and one test's links must not show in another's."""
    if not isinstance(db_path, str):
        return {"path": str(db_path)}
    folder = Path(tempfile.gettempdir()) / "northca-test-databases" / db_path.rsplit("/", 1)[-1]
    return {"url": db_path, "path": str(folder / "bot.sqlite3")}


def make_config(sandbox: NorthcaSandbox, db_path: Path | str, **sections: dict[str, Any]) -> Config:
    """The bot's config against `sandbox` and a database at `db_path`; `sections` override per section."""
    data: dict[str, Any] = {
        "discord": {"token": "test-bot-token"},
        "northca": {"base_url": sandbox.base_url, "partner_key": KEY, "timeout_seconds": 2.0, "deadline_seconds": 5.0},
        "database": database_section(db_path),
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, env={})


async def link_guild_in(db: Database, sandbox: NorthcaSandbox, guild_id: int = GUILD, mdt_id: str = MDT) -> None:
    """An approved link, as left by /link and the owner's approval (for tests of other commands)."""
    sandbox.link(guild_id, mdt_id)
    await LinkStore(db).save_request(guild_id, mdt_id, "test-request", "approved", OWNER, ADMIN, None)


async def link_guild(bot: NorthcaBot, sandbox: NorthcaSandbox, guild_id: int = GUILD, mdt_id: str = MDT) -> None:
    """`link_guild_in` on a running bot's database."""
    await link_guild_in(bot.db, sandbox, guild_id, mdt_id)


# --- waiting on state -----------------------------------------------------------------------


async def until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait for real state (the sandbox's, or the database's with an async predicate) to become true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _holds(predicate):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _holds(predicate: Callable[[], Any]) -> bool:
    result = predicate()
    return bool(await result if inspect.isawaitable(result) else result)


async def settled(service: ShiftService, shift_id: str, timeout: float = 10.0) -> ShiftRecord:
    """The shift once it is synced or failed (each verdict in between is waited on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    since = 0
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            current = await service.store.get(shift_id)
            raise AssertionError(f"shift {shift_id} not synced or failed within {timeout}s: {current}")
        shift = await service.wait_for_sync(shift_id, remaining, since_ms=since)
        if shift is not None and shift.sync_state in ("synced", "failed"):
            return shift
        if shift is not None and shift.last_attempt_ms is not None:
            since = shift.last_attempt_ms + 1


# --- what the sandbox received / holds ------------------------------------------------------


def iso_z(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shift_posts(sandbox: NorthcaSandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/shifts")]


def shift_gets(sandbox: NorthcaSandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method == "GET" and r.path.endswith("/shifts")]


def unit_puts(sandbox: NorthcaSandbox, since: int = 0) -> list[list[dict[str, Any]]]:
    """The unit lists of the PUTs the sandbox received (from the `since`-th on), in order."""
    return [json.loads(r.body)["units"] for r in sandbox.requests if r.method == "PUT"][since:]


def plant_backlog(
    sandbox: NorthcaSandbox,
    count: int,
    *,
    updated_at: datetime | None = None,
    status: str = "completed",
    department: str = "Patrol",
) -> None:
    """Shifts other bots wrote to the MDT (a backlog after an outage), newest by default."""
    stamp = iso_z(updated_at or datetime.now(UTC))
    for i in range(count):
        sandbox.plant_shift(
            MDT,
            {
                "id": str(uuid.uuid4()),
                "officer_name": f"Backlog {i}",
                "status": status,
                "department": department,
                "start_time": stamp,
                "end_time": stamp,
                "duration_ms": 60_000,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )


# --- the status panel, driven through the harness -------------------------------------------


def set_id(code: str) -> str:
    """The custom id of the status panel's button for `code`."""
    return f"northca:status:set:{code}"


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}


def panel_fields(embed: dict[str, Any]) -> dict[str, str]:
    """The status panel's fields (one per code someone is on), named without the mark of their kind (🟢 🔵 ⚫ 🚨)."""
    return {f["name"].split(" ", 1)[1]: f["value"] for f in embed.get("fields", [])}


async def settle(h: Harness) -> None:
    """Wait until shift listeners, Northca updates and panel renders have all run."""
    await h.bot.shifts.drain()
    assert await h.bot.unit_status.coalescer.flush()
    assert await h.bot.unit_status.wait_rendered()


async def post_panel(h: Harness) -> dict[str, Any]:
    """/status panel as the admin; returns the panel message (as the fake holds it)."""
    first = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD)
    assert first.callback_type == 5 and first.ephemeral
    done = await first.final()
    assert done.ephemeral and "Status panel posted" in done.content
    [panel] = await h.bot.unit_status.panels(GUILD)
    message: dict[str, Any] = h.fake.messages[panel.message_id]
    return message


def _holds_for(predicate: Callable[[dict[str, str]], bool], shown: dict[str, str]) -> bool:
    try:
        return predicate(shown)
    except KeyError:  # a code nobody is on has no field (folded into one line)
        return False


async def wait_panel_edit(
    h: Harness, message_id: int, predicate: Callable[[dict[str, str]], bool], since: int = 0
) -> Recorded:
    """The first successful edit of the panel (from the `since`-th request on) whose fields match."""

    def matches(rec: Recorded) -> bool:
        return (
            rec.method == "PATCH"
            and rec.path.endswith(f"/messages/{message_id}")
            and rec.ok
            and _holds_for(predicate, panel_fields((rec.json.get("embeds") or [{"fields": []}])[0]))
        )

    return await h.fake.wait_for(matches, timeout=10, since=since)


# --- a Northca that answers too much --------------------------------------------------------


class HugeAnswer:
    """A Northca that answers GET shifts with a body of `size` bytes, streamed, and notes how
    much of it it managed to send."""

    def __init__(self, size: int, *, announce_length: bool) -> None:
        self.size = size
        self.announce_length = announce_length
        self.sent: list[int] = []  # bytes sent, per answer
        self.finished = asyncio.Event()
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/mdts/{m}/shifts", self._shifts)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _shifts(self, request: web.Request) -> web.StreamResponse:
        validate_request(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        self.requests += 1
        resp = web.StreamResponse(headers={"content-type": "application/json"})
        if self.announce_length:
            resp.content_length = self.size
        await resp.prepare(request)
        item = json.dumps({"id": "x" * 40, "officer_name": "y" * 200, "status": "completed"}).encode() + b","
        head = b'{"ok": true, "data": ['
        chunk = item * (64 * 1024 // len(item))
        sent = 0
        try:
            await resp.write(head)
            sent = len(head)
            while sent < self.size - len(chunk):
                await resp.write(chunk)
                sent += len(chunk)
            await resp.write(b" " * (self.size - sent - 2) + b"]}")
            sent = self.size
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what was sent is noted
        finally:
            self.sent.append(sent)
            self.finished.set()
        return resp


def make_service(db: Database, client: NorthcaClient, **config: Any) -> ShiftService:
    config.setdefault("sync_interval_seconds", 0.05)
    return build_shift_service(db, LinkService(LinkStore(db), client), ProfileStore(db), client, ShiftConfig(**config))


async def refuse_inserts_of(db: Database, member_id: int) -> None:
    """The database itself fails any statement that would store a shift of `member_id` (a trigger)."""
    if db.engine == "postgresql":
        await db.execute(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.member_id = {member_id} THEN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full';"
            " END IF; RETURN NEW; END $$"
        )
        await db.execute("CREATE TRIGGER refuse_one BEFORE INSERT ON shifts FOR EACH ROW EXECUTE FUNCTION refuse_one()")
    else:
        await db.execute(
            f"CREATE TRIGGER refuse_one BEFORE INSERT ON shifts WHEN NEW.member_id = {member_id}"
            " BEGIN SELECT RAISE(ABORT, 'could not extend file'); END"
        )


def running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return False
    return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


# --- forged payloads ------------------------------------------------------------------------


def forged_message(h: Harness, custom_ids: list[str], guild_id: int = GUILD, component_type: int = 2) -> dict[str, Any]:
    """A message of the bot carrying buttons (or string selects: `component_type` 3) with these custom ids, none made
    by the bot: what a forged (or outdated) client's click arrives on. Discord sends the message a click was made on
    with the click."""
    assert h.bot.user is not None
    guild = h.bot.get_guild(guild_id)
    channel_id = guild.text_channels[0].id if guild is not None and guild.text_channels else 1
    if component_type == 3:
        option = {"label": "x", "value": "x"}
        rows = [{"type": 1, "components": [{"type": 3, "custom_id": c, "options": [option]}]} for c in custom_ids]
    else:
        buttons = [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id} for custom_id in custom_ids]
        rows = [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]
    return builders.message_payload(
        builders.snowflake(),
        channel_id,
        components=rows,
        guild_id=guild_id,
        author=builders.user(h.bot.user.id, h.bot.user.name, bot=True),
        application_id=h.app_id,
    )


async def click_forged(
    h: Harness,
    custom_id: str,
    *,
    member: dict[str, Any],
    guild_id: int = GUILD,
    values: list[str] | None = None,
    timeout: float | None = None,
) -> Any:
    """Click a button (or pick `values` in a select) whose custom id no component of the bot carries (see
    `forged_message`); the bot's answer."""
    kind = 2 if values is None else 3
    message = forged_message(h, [custom_id], guild_id, kind)
    return await h.click(custom_id, message=message, member=member, guild_id=guild_id, values=values, timeout=timeout)
