"""Officer profiles: callsign (the unit id on Northca), badge, rank, department, name."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.sanitize import northca_text
from bot.core.timefmt import from_ms, now_ms, to_iso
from bot.storage import INTEGRITY_ERRORS, Database
from bot.storage.grouped import GROUP_READ_KEYS, GroupReader, rows_by_pair
from bot.storage.turns import callsign_turn, take_turn

CALLSIGN_MAX = 16
_CALLSIGN = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_TEXT_MAX = {"badge": 16, "rank": 32, "department": 40, "name": 64}
OFFICER_NAME_MAX = 64


def officer_name(member_id: int, *candidates: str | None) -> str:
    """The name Northca shows for an officer: the first candidate with visible text (a name of
    invisible characters only is no name), else `Member <id>`. The one fallback rule, shared by
    shifts and unit status."""
    for candidate in candidates:
        text = northca_text(candidate or "")
        if text:
            return text[:OFFICER_NAME_MAX]
    return f"Member {member_id}"


@dataclass(frozen=True)
class OfficerProfile:
    guild_id: int
    member_id: int
    callsign: str | None = None
    badge: str | None = None
    rank: str | None = None
    department: str | None = None
    name: str | None = None


def normalise_callsign(raw: str) -> str:
    value = raw.strip().upper()
    if not value:
        raise InvalidInput(ErrorKind.CALLSIGN_EMPTY)
    if len(value) > CALLSIGN_MAX:
        raise InvalidInput(ErrorKind.CALLSIGN_TOO_LONG, most=CALLSIGN_MAX)
    if not _CALLSIGN.match(value):
        raise InvalidInput(ErrorKind.CALLSIGN_MALFORMED)
    return value


def clean_text(field_name: str, raw: str) -> str | None:
    """Trimmed text without invisible characters (see bot.sanitize), or None to clear the field
    (an empty value or `-`)."""
    value = northca_text(raw)
    if value in ("", "-"):
        return None
    limit = _TEXT_MAX[field_name]
    if len(value) > limit:
        raise InvalidInput(ErrorKind.PROFILE_FIELD_TOO_LONG, field=field_name, most=limit)
    return value


_PROFILE_FIELDS = tuple(f.name for f in fields(OfficerProfile))


class ProfileStore:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        # Every /shift start reads its member's profile: the reads of one moment share a statement.
        self._reads: GroupReader[tuple[int, int], OfficerProfile | None] = GroupReader(
            db, self._get_group, missing=lambda: None, max_items=GROUP_READ_KEYS, name="profile-group-read"
        )

    async def get(self, guild_id: int, member_id: int) -> OfficerProfile:
        profile = await self._reads.read((guild_id, member_id))
        return profile if profile is not None else OfficerProfile(guild_id, member_id)

    async def _get_group(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], OfficerProfile | None]:
        rows = await rows_by_pair(self.db, "officer_profiles", "guild_id", "member_id", keys)
        return {key: OfficerProfile(**{name: row[name] for name in _PROFILE_FIELDS}) for key, row in rows.items()}

    async def update(self, guild_id: int, member_id: int, **changes: str | None) -> OfficerProfile:
        """Set the given fields (None clears one); fields not given keep their value."""
        unknown = set(changes) - {"callsign", "badge", "rank", "department", "name"}
        if unknown:
            raise ValueError(f"unknown profile fields {unknown}")
        try:
            async with self.db.transaction() as tx:
                # Turns (bot/storage/turns.py): the member's profile, so two edits at once each keep the other's
                # fields; then the callsign's (shift starts take the same one), so the check below against
                # other members' open shifts cannot be raced by a start in another process.
                await take_turn(tx, guild_id, f"profile:{member_id}")
                current = await self.get(guild_id, member_id)
                merged = {f.name: getattr(current, f.name) for f in fields(OfficerProfile)} | changes
                callsign = merged["callsign"]
                if callsign is not None:
                    await take_turn(tx, guild_id, callsign_turn(callsign))
                # One statement: a callsign that is the unit of another member's open shift is refused too.
                written = await tx.execute(
                    "INSERT INTO officer_profiles"
                    " (guild_id, member_id, callsign, badge, rank, department, name, updated_at)"
                    " SELECT ?,?,?,?,?,?,?,? WHERE CAST(?3 AS TEXT) IS NULL"
                    " OR NOT EXISTS (SELECT 1 FROM shifts s WHERE s.guild_id = ?1"
                    " AND s.callsign = ?3 AND s.member_id != ?2 AND s.ended_ms IS NULL)"
                    " ON CONFLICT (guild_id, member_id) DO UPDATE SET callsign=excluded.callsign,"
                    " badge=excluded.badge, rank=excluded.rank, department=excluded.department, name=excluded.name,"
                    " updated_at=excluded.updated_at",
                    (
                        guild_id,
                        member_id,
                        callsign,
                        merged["badge"],
                        merged["rank"],
                        merged["department"],
                        merged["name"],
                        to_iso(from_ms(self.clock())),
                    ),
                )
                if written and callsign != current.callsign:
                    # An open shift on the profile's callsign follows it (a shift's own callsign stays).
                    await tx.execute(
                        "UPDATE shifts SET callsign = ? WHERE guild_id = ? AND member_id = ? AND ended_ms IS NULL"
                        " AND callsign IS NOT DISTINCT FROM ?",
                        (callsign, guild_id, member_id, current.callsign),
                    )
        except INTEGRITY_ERRORS:
            written = 0
        if written == 0:
            raise Conflict(ErrorKind.CALLSIGN_TAKEN, callsign=merged["callsign"])
        return await self.get(guild_id, member_id)

    async def by_callsign(self, guild_id: int, callsign: str) -> OfficerProfile | None:
        row = await self.db.fetchone(
            "SELECT member_id FROM officer_profiles WHERE guild_id = ? AND callsign = ?", (guild_id, callsign)
        )
        return None if row is None else await self.get(guild_id, row["member_id"])
