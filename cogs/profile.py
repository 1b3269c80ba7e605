"""/profile set and /profile show: the officer details shifts and unit status use."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.departments import Departments
from bot.core.errors import InvalidInput
from bot.core.profiles import CALLSIGN_MAX, OfficerProfile, ProfileStore, clean_text, normalise_callsign
from bot.discord.interactions import answer, require_guild
from cogs.department_choices import department_autocomplete
from cogs.style import BRAND

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

FIELDS = ("callsign", "badge", "rank", "department", "name")


def profile_embed(profile: OfficerProfile, who: str, status_line: str | None = None) -> discord.Embed:
    embed = discord.Embed(title="Officer profile", description=who, colour=BRAND)
    embed.add_field(name="Callsign", value=f"`{profile.callsign}`" if profile.callsign else "not set", inline=True)
    embed.add_field(name="Badge", value=profile.badge or "not set", inline=True)
    embed.add_field(name="Rank", value=profile.rank or "not set", inline=True)
    embed.add_field(name="Department", value=profile.department or "not set", inline=True)
    embed.add_field(name="Name", value=profile.name or "not set (your server nickname is used)", inline=True)
    if status_line:
        embed.add_field(name="Status", value=status_line, inline=False)
    if not profile.callsign:
        embed.set_footer(text="No callsign yet: set one with /profile set callsign:ADAM-12 to use /status.")
    else:
        embed.set_footer(text="Change a field with /profile set; clear one by giving -")
    return embed


class ProfileCog(commands.Cog):
    profile_group = app_commands.Group(
        name="profile", description="Your officer profile: callsign, badge, rank, department, name.", guild_only=True
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    @property
    def profiles(self) -> ProfileStore:
        return self.bot.profiles

    def departments(self, guild_id: int) -> Departments:
        # The same rule /shift start uses: the guild's departments.
        return self.bot.shifts.department_rule(guild_id)

    async def _status_line(self, guild_id: int, member_id: int) -> str | None:
        svc = self.bot.unit_status
        current = await svc.status_of(guild_id, member_id)
        if current is None:
            return None
        code = svc.codes(guild_id).get(current.status)
        label = f" {code.label}" if code is not None else ""
        return f"**{current.status}**{label} (unit `{current.callsign}`)"

    @profile_group.command(
        name="set", description="Set your callsign, badge, rank, department or name (give - to clear one)."
    )
    @app_commands.describe(
        callsign=f"Your unit id on Northca, for example ADAM-12 (letters, digits, dashes; at most {CALLSIGN_MAX})",
        badge="Badge number",
        rank="Rank, for example PO or SGT",
        department="Department, for example Patrol",
        name="Officer name shown on Northca (default: your server nickname)",
    )
    @app_commands.autocomplete(department=department_autocomplete)
    async def set_(
        self,
        interaction: discord.Interaction[NorthcaBot],
        callsign: app_commands.Range[str, 1, 40] | None = None,
        badge: app_commands.Range[str, 1, 40] | None = None,
        rank: app_commands.Range[str, 1, 60] | None = None,
        department: app_commands.Range[str, 1, 80] | None = None,
        name: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        changes: dict[str, str | None] = {}
        if callsign is not None:
            changes["callsign"] = None if callsign.strip() in ("", "-") else normalise_callsign(callsign)
        for field_name, raw in (("badge", badge), ("rank", rank), ("name", name)):
            if raw is not None:
                changes[field_name] = clean_text(field_name, raw)
        if department is not None:
            changes["department"] = self.departments(guild_id).match(department)
        if not changes:
            raise InvalidInput.said(
                "Give at least one field to change, for example `/profile set callsign:ADAM-12`."
                " See yours with /profile show."
            )
        before = await self.profiles.get(guild_id, interaction.user.id)
        profile = await self.profiles.update(guild_id, interaction.user.id, **changes)
        changed = [f for f in FIELDS if getattr(before, f) != getattr(profile, f)]
        svc = self.bot.unit_status
        if changed:
            # The unit on Northca carries these details: queue the current status again with them
            # (local work only; Northca follows in the background).
            await svc.refresh_profile(guild_id, interaction.user.id, interaction.user.display_name)
        text = (
            f"Profile updated ({', '.join(changed)})."
            if changed
            else "Nothing changed: your profile already says that."
        )
        await answer(
            interaction,
            text,
            embed=profile_embed(
                profile, interaction.user.mention, await self._status_line(guild_id, interaction.user.id)
            ),
        )

    @profile_group.command(name="show", description="See your officer profile, or another member's.")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def show(self, interaction: discord.Interaction[NorthcaBot], member: discord.Member | None = None) -> None:
        guild_id = require_guild(interaction)
        target: discord.abc.User = member or interaction.user
        profile = await self.profiles.get(guild_id, target.id)
        embed = profile_embed(profile, target.mention, await self._status_line(guild_id, target.id))
        if target.id != interaction.user.id and not profile.callsign:
            embed.set_footer(text="This member has no callsign yet.")
        await answer(interaction, embed=embed)


async def setup(bot: NorthcaBot) -> None:
    await bot.add_cog(ProfileCog(bot))
