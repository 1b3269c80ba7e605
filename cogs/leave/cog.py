"""/loa request | end | list, and the on-leave role (the handler of bot.leave.LeaveWorker)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import MissingPermission
from bot.core.leave import RoleAction
from bot.core.leave.records import LeaveDecided
from bot.discord.interactions import answer, has_any_role, require_guild
from cogs.guild_channels import NO_MENTIONS, post_in, shift_log
from cogs.leave.buttons import decision_view, list_view
from cogs.leave.embeds import list_embed, request_embed, span_text

if TYPE_CHECKING:
    from bot.core.changes import AdminChange
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)


class LeaveCog(commands.Cog):
    loa = app_commands.Group(name="loa", description="Leave of absence: ask for it, end it, see who is away.",
                             guild_only=True)  # fmt: skip

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.events.changes.subscribe(self.on_admin_change)

    async def cog_unload(self) -> None:
        self.bot.events.changes.unsubscribe(self.on_admin_change)

    async def on_admin_change(self, change: AdminChange) -> None:
        """A leave decided on the dashboard: the on-leave role now (when the leave has started) and the shift-log
        line, as the Approve / Deny buttons do."""
        if not isinstance(change, LeaveDecided) or change.source != "dashboard":
            return
        leave = change.leave
        await self.bot.leave_worker.run_once()
        await shift_log(
            self.bot, change.guild_id,
            f"🌴 <@{change.actor_id}> {leave.status} the leave of <@{leave.member_id}> (request `{leave.id[:8]}`)"
            " on the dashboard.",
        )  # fmt: skip

    def _is_supervisor(self, interaction: discord.Interaction[NorthcaBot], guild_id: int) -> bool:
        perms = interaction.permissions
        roles = list(self.bot.settings.get(guild_id).supervisor_role_ids)
        return bool(perms.manage_guild or perms.administrator or has_any_role(interaction, roles))

    @loa.command(name="request", description="Ask for leave of absence (whole days in the server's time zone).")
    @app_commands.describe(
        start="First day of leave: YYYY-MM-DD, today or tomorrow",
        end="Last day of leave: YYYY-MM-DD, today or tomorrow",
        reason="Why (supervisors read it)",
    )
    async def request(
        self,
        interaction: discord.Interaction[NorthcaBot],
        start: app_commands.Range[str, 1, 20],
        end: app_commands.Range[str, 1, 20],
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        guild_id = require_guild(interaction)
        leave = await self.bot.leave.request(guild_id, interaction.user.id, start, end, reason)
        settings = self.bot.settings.get(guild_id)
        zone = settings.timezone
        posted = await post_in(
            self.bot, guild_id, settings.reports_channel_id, embed=request_embed(leave, zone),
            view=decision_view(leave.id),
        )  # fmt: skip
        if posted is not None:
            await answer(
                interaction,
                f"Your leave request ({span_text(leave, zone)}) is posted in <#{posted.channel.id}> for a supervisor"
                " to decide.",
            )
            return
        # No reports channel: the request goes where the command ran.
        await answer(
            interaction, embed=request_embed(leave, zone), view=decision_view(leave.id), ephemeral=False,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    @loa.command(name="end", description="End your leave now (supervisors: someone else's).")
    @app_commands.describe(member="Whose leave to end (supervisors only; default: yours)")
    async def end(self, interaction: discord.Interaction[NorthcaBot], member: discord.Member | None = None) -> None:
        guild_id = require_guild(interaction)
        target = member.id if member is not None else interaction.user.id
        supervisor = self._is_supervisor(interaction, guild_id)
        if target != interaction.user.id and not supervisor:
            raise MissingPermission.said(
                "You need the Manage Server permission or a supervisor role to end someone's leave."
            )
        leave = await self.bot.leave.end(guild_id, target, interaction.user.id, supervisor=supervisor)
        await self.bot.leave_worker.run_once()
        await shift_log(self.bot, guild_id, f"🌴 <@{interaction.user.id}> ended the leave of <@{target}> early.")
        await answer(
            interaction,
            f"The leave of <@{target}> has ended ({span_text(leave, self.bot.settings.get(guild_id).timezone)}).",
        )

    @loa.command(name="list", description="Current and upcoming leave.")
    async def list_(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        leaves = await self.bot.leave.listed(guild_id)
        await answer(
            interaction,
            embed=list_embed(leaves, 0, self.bot.leave.clock(), self.bot.settings.get(guild_id).timezone),
            view=list_view(len(leaves), 0),
        )


class DiscordLeaveRoles:
    """The `RoleApplier` port (bot/core/ports.py) on Discord: the on-leave role given and taken back."""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def apply_role(self, action: RoleAction) -> bool:
        """The on-leave role given or taken back; False when the guild is not in the cache yet (just started: the
        leave worker retries it), so a leave that ended while the bot was down still loses its role."""
        leave = action.leave
        role_id = action.role_id  # recorded with the leave: not the setting now (it may have changed meanwhile)
        guild = self.bot.get_guild(leave.guild_id)
        if guild is None:
            return False
        if role_id is None:
            return True
        try:
            if action.kind == "give":
                await self.bot.http.add_role(guild.id, leave.member_id, role_id, reason="Leave of absence started")
            else:
                await self.bot.http.remove_role(guild.id, leave.member_id, role_id, reason="Leave of absence ended")
        except discord.HTTPException as exc:
            log.warning(
                "guild %s: could not %s the on-leave role of %s (%s)", guild.id, action.kind, leave.member_id, exc
            )
        return True
