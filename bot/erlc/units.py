"""Units that follow the game: the MDT shows what happens in the ER:LC server.

Callsign from the game: while a verified member is on duty and has a callsign in game, that is the unit of their
shift (a shift started then takes it at once: `InGameGate.game_callsign`), unless they chose one for the shift
(`/shift start callsign:`: a shift callsign that is neither the profile's nor one the member had in game during the
shift). A callsign changed in game moves the unit: the shift's callsign is compared and set (one process moves it,
and never onto another officer's callsign), then the status service records the current status again under the new
unit and releases the old one with the off-duty code, as a callsign changed in a profile releases it.

Status from the game (`erlc.status_from_game`, off by default): a member on duty who joined a duty team (Police,
Sheriff, Fire, DOT) is set to the on-duty code; one who left the game to the off-duty code (with gamelock on, only
past its grace: the gamelock end sets it, so a short disconnect changes nothing), unless the officer chose a status
since the game's moment. Each decision reads the unit's current state, so looking twice sends nothing twice.

No Northca request is made here: every change goes through the status service and its coalescer (one request per
MDT per window, each unit at its newest version). It runs inside the gamelock job's look at a guild (scheduled work
under the scheduler lease, woken by the `erlc` topic), before gamelock ends anything.
"""

from __future__ import annotations

import logging

from bot.core.profiles import ProfileStore
from bot.core.settings.records import SettingsSource
from bot.core.settings.service import ERLC_DUTY_TEAMS
from bot.core.shifts.records import ShiftRecord
from bot.core.shifts.service import ShiftService
from bot.core.unit_status.service import StatusService
from bot.erlc.duty import unit_id
from bot.erlc.records import PresenceEntry
from bot.erlc.store import ErlcStore

log = logging.getLogger(__name__)


class GameUnits:
    """Moves units to members' in-game callsigns and sets statuses from the game, for one guild at a time."""

    def __init__(
        self,
        shifts: ShiftService,
        store: ErlcStore,
        status: StatusService,
        profiles: ProfileStore,
        settings: SettingsSource,
    ) -> None:
        self.shifts = shifts
        self.store = store
        self.status = status
        self.profiles = profiles
        self.settings = settings
        self.moved = 0  # units moved to an in-game callsign (the bench and tests read it)
        self.statuses = 0  # statuses set from the game

    async def look(self, guild_id: int) -> None:
        """Brings the units of the guild's members on duty in line with the game (the server connected)."""
        shifts = await self.shifts.open_in_guild(guild_id)
        if not shifts:
            return
        by_member = {link.discord_id: link.roblox_id for link in await self.store.links(guild_id)}
        if not by_member:
            return
        presence = {entry.user_id: entry for entry in await self.store.presence(guild_id)}
        settings = self.settings.get(guild_id)
        # Read for the whole guild at once (a look covers every member on duty): when each player's team began, and
        # each unit's status now (a unit already in the code the game asks for needs nothing: the common case).
        team_starts: dict[int, int] = {}
        statuses: dict[int, str] = {}
        if settings.erlc_status_from_game:
            team_starts = await self.store.team_starts(guild_id)
            statuses = {u.member_id: u.status for u in await self.status.store.in_guild(guild_id)}
        for shift in shifts:
            roblox_id = by_member.get(shift.member_id)
            if roblox_id is None:
                continue
            entry = presence.get(roblox_id)
            try:
                # The status first: a callsign moved next carries it to the new unit.
                if settings.erlc_status_from_game:
                    await self._status(
                        shift, roblox_id, entry, settings.erlc_gamelock_minutes, team_starts.get(roblox_id),
                        statuses.get(shift.member_id),
                    )  # fmt: skip
                if entry is not None:
                    await self._callsign(shift, roblox_id, entry)
            except Exception:  # one member's trouble (the database a moment) does not stop the others
                log.exception("unit of member %s in guild %s not brought in line with the game", shift.member_id,
                              guild_id)  # fmt: skip

    async def _status(
        self, shift: ShiftRecord, roblox_id: int, entry: PresenceEntry | None, grace_min: int, since: int | None,
        status_now: str | None,
    ) -> None:  # fmt: skip
        guild_id = shift.guild_id
        codes = self.status.config
        if entry is not None:
            if entry.team not in ERLC_DUTY_TEAMS or since is None or status_now == codes.on_duty_code:
                return
            if await self.status.set_from_game(guild_id, shift.member_id, True, since) is not None:
                self.statuses += 1
            return
        if grace_min > 0 or status_now == codes.off_duty_code:
            return  # gamelock ends the shift past its grace, and the end sets the off-duty code
        left = await self.store.last_leave_ms(guild_id, roblox_id)
        if left is None or left < shift.started_ms:
            return  # not in game during this shift: nothing the game says about it
        if await self.status.set_from_game(guild_id, shift.member_id, False, left) is not None:
            self.statuses += 1

    async def _callsign(self, shift: ShiftRecord, roblox_id: int, entry: PresenceEntry) -> None:
        game = unit_id(entry.callsign)
        if game is None or game == shift.callsign:
            return
        if shift.callsign is not None:
            profile = await self.profiles.get(shift.guild_id, shift.member_id)
            if shift.callsign != profile.callsign:
                seen = {unit_id(c) for c in await self.store.callsigns_since(shift.guild_id, roblox_id,
                                                                            shift.started_ms)}  # fmt: skip
                if shift.callsign not in seen:
                    return  # chosen for the shift: the member's choice stands
        moved = await self.shifts.store.move_callsign(shift.id, shift.callsign, game)
        if moved is None:
            # Looked at again at every look while it lasts: not worth a line each time.
            log.debug("unit of member %s in guild %s not moved to %s: taken, or moved already", shift.member_id,
                     shift.guild_id, game)  # fmt: skip
            return
        self.moved += 1
        log.info("shift %s: unit %s -> %s (callsign in game)", shift.id, shift.callsign, game)
        await self.status.follow_unit(shift.guild_id, shift.member_id)
