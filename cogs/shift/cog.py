"""The /shift commands and listeners. The Discord side of bot/shifts/: answering at once, the
On Duty role, and the shift-log channel (subscribed to the shift events of the hub)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ShiftConfig
from bot.discord_text import fit_choices, quoted
from bot.interactions import answer, post, require_guild
from bot.links import Linkage
from bot.shifts import ShiftEvent, ShiftRecord, ShiftService
from bot.shifts.records import ShiftEventKind
from bot.timefmt import discord_ts, duration_text
from cogs.shift.buttons import ShiftActionButton, list_message, pending_view
from cogs.shift.embeds import PENDING_SHOWN, REASON_TEXT, pending_embed, started_embed, status_embed
from cogs.shift.flows import NO_MENTIONS, break_flow, end_flow, require_shift_supervisor, send

if TYPE_CHECKING:
    from bot.bot import NorthcaBot

log = logging.getLogger(__name__)


class ShiftCog(commands.Cog):
    shift = app_commands.Group(
        name="shift", description="Go on and off duty, take breaks, see shifts.", guild_only=True
    )
    admin = app_commands.Group(
        name="admin", description="Supervisors: end someone's shift, see what waits for Northca.", parent=shift
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot
        self.service: ShiftService = bot.shifts
        self.config: ShiftConfig = bot.shifts.config

    async def cog_load(self) -> None:
        self.bot.events.shifts.subscribe(self.on_shift_event)

    async def cog_unload(self) -> None:
        self.bot.events.shifts.unsubscribe(self.on_shift_event)

    # --- flows shared by commands and buttons ---

    # --- commands ---

    @shift.command(name="start", description="Go on duty: start your shift.")
    @app_commands.describe(
        department="Department for this shift (default: your profile's)",
        callsign="Your unit for this shift, e.g. ADAM-12 (default: your profile's)",
    )
    async def start(
        self,
        interaction: discord.Interaction[NorthcaBot],
        department: app_commands.Range[str, 1, 40] | None = None,
        callsign: app_commands.Range[str, 1, 16] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        if await self.bot.links.linkage(guild_id) is Linkage.UNDECIDED:
            # The link may be checked live on Northca: acknowledge first.
            await interaction.response.defer(ephemeral=True, thinking=True)
        shift = await self.service.start(
            guild_id,
            interaction.user.id,
            display_name=interaction.user.display_name,
            department=department,
            callsign=callsign,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(ShiftActionButton("break", interaction.user.id))
        view.add_item(ShiftActionButton("end", interaction.user.id))
        await send(
            interaction,
            content=f"You are on duty since {discord_ts(shift.started_at)}.",
            embed=started_embed(shift),
            view=view,
        )

    @start.autocomplete("department")
    async def department_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return fit_choices(
            [
                app_commands.Choice(name=d, value=d)
                for d in self.service.department_choices(require_guild(interaction), current)
            ]
        )

    @shift.command(name="break", description="Start or end a break (not counted as duty time).")
    async def break_(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        await break_flow(interaction)

    @shift.command(name="end", description="Go off duty: end your shift and send it to Northca.")
    async def end(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        await end_flow(interaction, interaction.user.id, reason="member")

    @shift.command(name="status", description="Your open shift, and your duty time today and this week.")
    async def status(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        shift = await self.service.open_shift(guild_id, interaction.user.id)
        totals = await self.service.totals(guild_id, interaction.user.id)
        await send(interaction, embed=status_embed(shift, totals.today_ms, totals.week_ms))

    @shift.command(name="list", description="Recent shifts on this server's Northca MDT.")
    @app_commands.describe(
        member="Only this member's shifts",
        department="Only this department",
        limit="How many shifts (1–100, default 25)",
    )
    async def list_(
        self,
        interaction: discord.Interaction[NorthcaBot],
        member: discord.User | None = None,
        department: app_commands.Range[str, 1, 40] | None = None,
        limit: app_commands.Range[int, 1, 100] = 25,
    ) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        member_id = member.id if member is not None else None
        dept = self.service.match_department(guild_id, department, strict=False)
        remote = await self.service.list_remote(
            guild_id, interaction.user.id, limit=limit, department=dept, member_id=member_id
        )
        embed, view = list_message(remote, self.config.end_status, 0, limit, member_id, dept)
        await answer(interaction, embed=embed, view=view or discord.utils.MISSING)

    @list_.autocomplete("department")
    async def list_department_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return fit_choices(
            [
                app_commands.Choice(name=d, value=d)
                for d in self.service.department_choices(require_guild(interaction), current)
            ]
        )

    @admin.command(name="end", description="End another member's shift (e.g. one they forgot).")
    @app_commands.describe(member="Whose shift to end", reason="Why (kept with the shift)")
    async def admin_end(
        self,
        interaction: discord.Interaction[NorthcaBot],
        member: discord.User,
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        require_shift_supervisor(interaction, "end someone else's shift")
        note = " ".join(reason.split()) if reason else None
        await end_flow(interaction, member.id, reason="admin", note=note or None)

    @admin.command(name="pending", description="Shifts waiting for Northca or refused by it, with a retry button.")
    async def admin_pending(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_shift_supervisor(interaction, "see the shifts waiting for Northca")
        guild_id = require_guild(interaction)
        rows = await self.service.outbox(guild_id, PENDING_SHOWN)
        embed = pending_embed(rows, await self.service.store.outbox_count(guild_id))
        view = pending_view(rows) or discord.utils.MISSING
        await send(interaction, embed=embed, view=view, allowed_mentions=NO_MENTIONS)

    # --- every exit path closes the shift ---

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        shift = await self.service.end_if_open(payload.guild_id, payload.user.id, reason="left")
        if shift is not None:
            log.info("member %s left guild %s mid-shift: shift %s ended", payload.user.id, payload.guild_id, shift.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        ended = await self.service.end_all_in_guild(guild.id, "bot_removed")
        if ended:
            log.info("removed from guild %s: ended %d open shifts", guild.id, len(ended))

    # --- side effects: the On Duty role and the shift-log channel ---

    async def on_shift_event(self, notice: ShiftEvent) -> None:
        event, shift = notice.kind, notice.shift
        if event == "start":
            await self._sync_duty_roles(shift, event)
            await self._log(
                shift.guild_id,
                f"🟢 <@{shift.member_id}> is on duty"
                f" ({discord.utils.escape_markdown(shift.department or 'no department')})"
                f" since {discord_ts(shift.started_at)}.",
            )
        elif event == "break":
            await self._sync_duty_roles(shift, event)
        elif event == "end":
            if shift.end_reason not in ("left", "bot_removed"):
                await self._sync_duty_roles(shift, event)
            how = REASON_TEXT.get(shift.end_reason or "", "")
            if shift.end_reason == "admin" and shift.ended_by:
                how = f"ended by <@{shift.ended_by}>"
            if shift.end_note:
                how += f": {discord.utils.escape_markdown(shift.end_note)}"
            await self._log(
                shift.guild_id,
                f"🔴 <@{shift.member_id}> is off duty after {duration_text(shift.duration_ms or 0)} ({how}).",
            )
        elif event == "sync_unconfirmed":
            await self._log(
                shift.guild_id,
                f"❓ The shift of <@{shift.member_id}> may already be on Northca, but the bot cannot confirm it:"
                " it is not sent again by itself."
                " A supervisor checks it on Northca, then decides in /shift admin pending.",
            )
        elif event == "sync_failed":
            await self._log(
                shift.guild_id,
                f"⚠️ The shift of <@{shift.member_id}> could not be sent to Northca:"
                f" {discord.utils.escape_markdown(quoted(shift.last_error or 'refused'))}. "
                "It is kept; a supervisor can retry it from /shift admin pending.",
            )

    async def _sync_duty_roles(self, shift: ShiftRecord, kind: ShiftEventKind) -> None:
        """The guild's duty roles, by the member's state now (a quick start-end-start leaves them right):
        On Duty while on duty, On Break during a break, a department's role while on duty in it."""
        settings = self.service.guild_settings(shift.guild_id)
        open_now = await self.service.open_shift(shift.guild_id, shift.member_id)
        wanted: dict[int, bool] = {}
        for dept in settings.departments:
            if dept.role_id is not None:
                in_it = open_now is not None and (open_now.department or "").lower() == dept.name.lower()
                wanted[dept.role_id] = wanted.get(dept.role_id, False) or in_it
        if settings.on_duty_role_id is not None:
            wanted[settings.on_duty_role_id] = open_now is not None
        if settings.on_break_role_id is not None:
            wanted[settings.on_break_role_id] = open_now is not None and open_now.on_break
        # Only the roles this event can change: a department role is touched only for the shift's department.
        touched = {settings.on_duty_role_id, settings.on_break_role_id}
        shift_dept = settings.department(shift.department)
        if shift_dept is not None:
            touched.add(shift_dept.role_id)
        for role_id, give in wanted.items():
            # An event only moves its own way (start gives, end removes): a late start event for a shift
            # already ended takes nothing away (and a member who left has nobody to take it from).
            if role_id in touched and (kind == "break" or give == (kind == "start")):
                await self._set_role(shift, role_id, give)

    async def _set_role(self, shift: ShiftRecord, role_id: int, give: bool) -> None:
        guild = self.bot.get_guild(shift.guild_id)
        if guild is None:
            return
        role = guild.get_role(role_id)
        if role is None:
            log.warning("guild %s: the duty role %s no longer exists; skipped", guild.id, role_id)
            return
        me = guild.me
        verb = "give" if give else "remove"
        if me is None or not me.guild_permissions.manage_roles:
            log.warning("guild %s: cannot %s the duty role %s: the bot lacks Manage Roles", guild.id, verb, role_id)
            return
        if role >= me.top_role:
            log.warning("guild %s: the duty role %s is not below the bot's highest role; skipped", guild.id, role.id)
            return
        try:
            if give:
                await self.bot.http.add_role(guild.id, shift.member_id, role.id, reason="Shift started")
            else:
                await self.bot.http.remove_role(guild.id, shift.member_id, role.id, reason="Shift ended")
        except discord.HTTPException as exc:
            log.warning(
                "guild %s: could not %s the duty role %s of %s (%s)", guild.id, verb, role_id, shift.member_id, exc
            )

    async def _log(self, guild_id: int, text: str) -> None:
        channel_id = self.service.guild_settings(guild_id).shift_log_channel_id
        if channel_id is None:
            return
        channel = self.bot.get_channel(channel_id)
        if (
            not isinstance(channel, discord.abc.Messageable)
            or getattr(getattr(channel, "guild", None), "id", None) != guild_id
        ):
            return  # not a channel of this server
        try:
            await post(channel, text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not post to the shift-log channel %s (%s)", channel_id, exc)
