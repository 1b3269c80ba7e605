"""Duty from the game: the in-game-required gate on going on duty, and the department of the member's team.

`InGameGate` is a `DutyGate` (bot/core/shifts/service.py): with the server's `erlc.in_game_required` on, a member goes
on
duty only when linked to a Roblox account (/erlc verify) and in the game server now, as the presence store says
(the last poll or webhook). Off (the default), it holds nobody back and reads nothing.
"""

from __future__ import annotations

from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.profiles import normalise_callsign
from bot.core.settings.records import SettingsSource
from bot.erlc.records import PresenceEntry
from bot.erlc.store import ErlcStore


class InGameGate:
    """Refuses going on duty to a member who is not verified or not in game, when the server requires it."""

    def __init__(self, store: ErlcStore, settings: SettingsSource) -> None:
        self.store = store
        self.settings = settings

    async def in_game_entry(self, guild_id: int, member_id: int) -> PresenceEntry | None:
        """The member's presence in game now (None: not linked, or not in game)."""
        link = await self.store.link_of(guild_id, member_id)
        if link is None:
            return None
        return next((p for p in await self.store.presence(guild_id) if p.user_id == link.roblox_id), None)

    async def blocking_reason(self, guild_id: int, member_id: int) -> Conflict | None:
        if not self.settings.get(guild_id).erlc_in_game_required:
            return None
        link = await self.store.link_of(guild_id, member_id)
        if link is None:
            return Conflict(ErrorKind.ERLC_NOT_VERIFIED)
        server = await self.store.server(guild_id)
        if server is None or not server.connected:
            return Conflict(ErrorKind.ERLC_GAME_NOT_CONNECTED)
        if not any(p.user_id == link.roblox_id for p in await self.store.presence(guild_id)):
            return Conflict(ErrorKind.ERLC_NOT_IN_GAME, roblox_id=link.roblox_id)
        return None

    async def team_department(self, guild_id: int, member_id: int) -> str | None:
        """The department mapped to the team the member is on in game now (None: none mapped, or not in game)."""
        settings = self.settings.get(guild_id)
        if not settings.erlc_team_departments:
            return None
        entry = await self.in_game_entry(guild_id, member_id)
        return settings.team_department(entry.team) if entry is not None else None

    async def game_callsign(self, guild_id: int, member_id: int) -> str | None:
        """The member's callsign in game now, as a unit id (None: not verified, not in game, none set, or not a valid
        unit id): their unit for a shift started without one chosen."""
        link = await self.store.link_of(guild_id, member_id)
        if link is None:
            return None  # (one read for a member of a server without the game)
        server = await self.store.server(guild_id)
        if server is None or not server.connected:
            return None
        entry = next((p for p in await self.store.presence(guild_id) if p.user_id == link.roblox_id), None)
        return unit_id(entry.callsign) if entry is not None else None


def unit_id(game_callsign: str | None) -> str | None:
    """An in-game callsign as a unit id (upper case, the profile rules); None when it is not one."""
    if not game_callsign:
        return None
    try:
        return normalise_callsign(game_callsign)
    except InvalidInput:
        return None
