"""Shift services without Discord: one built as bot/ops/services.py builds it, and a database that refuses to store a
given member's shift (a full disk, a trigger)."""

from __future__ import annotations

from bot.core.config import ShiftConfig
from bot.core.links import LinkService, LinkStore
from bot.core.profiles import ProfileStore
from bot.core.shifts import ShiftService
from bot.northca.client import NorthcaClient
from bot.ops.services import build_shift_service
from bot.storage import Database


def make_service(db: Database, client: NorthcaClient, **config: object) -> ShiftService:
    """The shift service on `db` against `client`, with [shifts] `config` (syncing every 50 ms unless it says)."""
    shift_config = ShiftConfig.model_validate({"sync_interval_seconds": 0.05, **config})
    return build_shift_service(db, LinkService(LinkStore(db), client), ProfileStore(db), client, shift_config)


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
