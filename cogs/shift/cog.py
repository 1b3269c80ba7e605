"""The /shift commands and listeners. The Discord side of bot/core/shifts/: answering at once, the
On Duty role, and the shift-log channel (subscribed to the shift events of the hub)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.config import ShiftConfig
from bot.core.duty import period_for
from bot.core.duty.own import own_duty, parse_duration_ms
from bot.core.duty.records import DutyAdjusted
from bot.core.duty.store import recent_ended_shifts
from bot.core.errors import Conflict, InvalidInput
from bot.core.shifts import ShiftEvent, ShiftRecord, ShiftService
from bot.core.shifts.records import ShiftEventKind
from bot.core.timefmt import duration_text
from bot.discord.discord_text import counted, discord_ts, fit_choices, quoted
from bot.discord.interactions import answer, defer, post, require_guild, require_manage_guild
from cogs.department_choices import department_autocomplete
from cogs.shift.board import BoardUpdater, board_embed
from cogs.shift.buttons import list_message, pending_view, shift_buttons
from cogs.shift.duty_buttons import VoidConfirmButton, guild_clock, history_message, leaderboard_message
from cogs.shift.duty_embeds import (
    ADJUSTMENT_DEPARTMENT_TEXT,
    NOT_ON_NORTHCA,
    PERIOD_OPTIONS,
    adjustment_line,
    export_name,
    period_choice,
    shift_choice_label,
    void_confirm_embed,
)
from cogs.shift.embeds import PENDING_SHOWN, REASON_TEXT, pending_embed, status_embed
from cogs.shift.flows import NO_MENTIONS, break_flow, end_flow, require_shift_supervisor, send, shift_log, start_flow
from cogs.shift.panel import panel_flow

if TYPE_CHECKING:
    from bot.core.changes import AdminChange
    from bot.discord.bot import NorthcaBot

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
        self.boards = BoardUpdater(bot)

    async def cog_load(self) -> None:
        self.bot.events.shifts.subscribe(self.on_shift_event)
        self.bot.events.changes.subscribe(self.on_admin_change)
        # Started with the bot's background services (not in `northca-bot sync`, which has no database).
        self.bot.add_service(self.boards)

    async def cog_unload(self) -> None:
        self.bot.events.shifts.unsubscribe(self.on_shift_event)
        self.bot.events.changes.unsubscribe(self.on_admin_change)
        await self.boards.stop()

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
        await start_flow(interaction, shift_buttons(interaction.user.id), department=department, callsign=callsign)

    start.autocomplete("department")(department_autocomplete)

    @shift.command(name="break", description="Start or end a break (not counted as duty time).")
    async def break_(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        await break_flow(interaction)

    @shift.command(name="end", description="Go off duty: end your shift and send it to Northca.")
    async def end(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        await end_flow(interaction, interaction.user.id, reason="member")

    @shift.command(name="panel", description="Your shift panel: go on duty, take a break, go off duty.")
    async def panel(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        await panel_flow(interaction)

    @shift.command(name="board", description='Managers: post an "On duty now" board that updates itself.')
    @app_commands.describe(channel="Where to post it (default: this channel)")
    async def board(
        self, interaction: discord.Interaction[NorthcaBot], channel: discord.TextChannel | None = None
    ) -> None:
        require_manage_guild(interaction, "post an on-duty board")
        guild_id = require_guild(interaction)
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel) or target.guild.id != guild_id:
            raise InvalidInput.said("Pick a text channel of this server for the board.")
        message = await post(target, embed=board_embed(await self.service.open_in_guild(guild_id), self.bot.app_emojis),
                             allowed_mentions=NO_MENTIONS)  # fmt: skip
        replaced = await self.bot.boards.put(guild_id, target.id, message.id, interaction.user.id)
        if replaced is not None and replaced.message_id != message.id:
            try:
                await target.get_partial_message(replaced.message_id).delete()
            except discord.HTTPException:
                log.info("board: the replaced board %s was already gone", replaced.message_id)
        await send(interaction, content=f"Posted the on-duty board in {target.mention}; it updates itself.")
        await self._log(guild_id, f"📋 <@{interaction.user.id}> posted an on-duty board in {target.mention}.")

    @shift.command(name="status", description="Your open shift, and your duty time today and this week.")
    async def status(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        shift = await self.service.open_shift(guild_id, interaction.user.id)
        settings = self.bot.settings.get(guild_id)
        tz, week_start = guild_clock(settings)
        own = await own_duty(self.bot.duty, guild_id, interaction.user.id, tz, week_start, self.bot.clock())
        await send(interaction, embed=status_embed(shift, own.today_ms, own.week_ms, settings, self.bot.clock()))

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
        await defer(interaction, ephemeral=True, thinking=True)
        member_id = member.id if member is not None else None
        dept = self.service.match_department(guild_id, department, strict=False)
        remote = await self.service.list_remote(
            guild_id, interaction.user.id, limit=limit, department=dept, member_id=member_id
        )
        embed, view = list_message(remote, self.config.end_status, 0, limit, member_id, dept)
        await answer(interaction, embed=embed, view=view or discord.utils.MISSING)

    list_.autocomplete("department")(department_autocomplete)

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

    # --- duty management: leaderboard, adjustments, export (the rules in bot/core/duty/) ---

    @shift.command(name="leaderboard", description="Who has the most duty time in a period.")
    @app_commands.describe(period="Which period (default: this week)", department="Only shifts in this department")
    @app_commands.choices(period=PERIOD_OPTIONS)
    async def leaderboard(
        self,
        interaction: discord.Interaction[NorthcaBot],
        period: str = "this_week",
        department: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        dept = self.service.match_department(guild_id, department) if department else None
        embed, view = await leaderboard_message(self.bot, guild_id, period_choice(period), 0, dept)
        await send(interaction, embed=embed, view=view or discord.utils.MISSING, allowed_mentions=NO_MENTIONS)

    leaderboard.autocomplete("department")(department_autocomplete)

    @shift.command(name="export", description="Supervisors: a CSV of shifts and time adjustments.")
    @app_commands.describe(period="Which period (default: this month)", member="Only this member")
    @app_commands.choices(period=PERIOD_OPTIONS)
    async def export(
        self,
        interaction: discord.Interaction[NorthcaBot],
        period: str = "this_month",
        member: discord.User | None = None,
    ) -> None:
        require_shift_supervisor(interaction, "export duty time")
        guild_id = require_guild(interaction)
        await defer(interaction, ephemeral=True, thinking=True)
        tz, week_start = guild_clock(self.bot.settings.get(guild_id))
        current = self.bot.clock()
        chosen = period_for(
            period_choice(period), current, tz, week_start, self.bot.settings.get(guild_id).activity_period
        )
        exported = await self.bot.duty.export_csv(
            guild_id, chosen, member_id=member.id if member else None, now=current
        )
        log.info("duty: %s exported %s (member %s) in guild %s", interaction.user.id, chosen.label,
                 member.id if member else "all", guild_id)  # fmt: skip
        text = f"{chosen.label}: {counted(exported.shifts, 'shift')} and {counted(exported.adjustments, 'adjustment')}."
        if exported.truncated:
            text += " The file reached Discord's size limit: narrow the period or pick a member for the rest."
        await answer(
            interaction,
            text,
            file=discord.File(io.BytesIO(exported.data), filename=export_name(chosen.label)),
            ephemeral=True,
        )

    @admin.command(name="add", description="Add duty time to a member (kept here; Northca is not changed).")
    @app_commands.describe(
        member="Whose time",
        duration="How much, e.g. 30m or 1h30m",
        reason="Why (kept and shown)",
        department=ADJUSTMENT_DEPARTMENT_TEXT,
    )
    async def admin_add(
        self,
        interaction: discord.Interaction[NorthcaBot],
        member: discord.User,
        duration: app_commands.Range[str, 1, 20],
        reason: app_commands.Range[str, 1, 300],
        department: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        await self._adjust(interaction, member, duration, reason, department, add=True)

    admin_add.autocomplete("department")(department_autocomplete)

    @admin.command(name="subtract", description="Subtract duty time from a member (kept here; Northca is not changed).")
    @app_commands.describe(
        member="Whose time",
        duration="How much, e.g. 30m or 1h30m",
        reason="Why (kept and shown)",
        department=ADJUSTMENT_DEPARTMENT_TEXT,
    )
    async def admin_subtract(
        self,
        interaction: discord.Interaction[NorthcaBot],
        member: discord.User,
        duration: app_commands.Range[str, 1, 20],
        reason: app_commands.Range[str, 1, 300],
        department: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        await self._adjust(interaction, member, duration, reason, department, add=False)

    admin_subtract.autocomplete("department")(department_autocomplete)

    async def _adjust(
        self,
        interaction: discord.Interaction[NorthcaBot],
        member: discord.User,
        duration: str,
        reason: str,
        department: str | None,
        *,
        add: bool,
    ) -> None:
        require_shift_supervisor(interaction, "adjust duty time")
        guild_id = require_guild(interaction)
        amount = parse_duration_ms(duration)
        # The one department rule: an unknown department is refused before anything is stored.
        dept = self.service.match_department(guild_id, department) if department else None
        act = self.bot.duty.add_time if add else self.bot.duty.subtract_time
        done = await act(guild_id, member.id, amount, reason, interaction.user.id, dept)
        await send(interaction, content=f"{adjustment_line(done)} for <@{member.id}>.\n{NOT_ON_NORTHCA}",
                   allowed_mentions=NO_MENTIONS)  # fmt: skip
        await self._log(guild_id, f"🕒 <@{member.id}>: {adjustment_line(done)}")

    @admin.command(name="void", description="Leave a shift out of every total (kept, marked voided).")
    @app_commands.describe(shift="The shift (pick a recent one, or paste its id)", reason="Why (kept and shown)")
    async def admin_void(
        self,
        interaction: discord.Interaction[NorthcaBot],
        shift: app_commands.Range[str, 1, 64],
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        require_shift_supervisor(interaction, "void a shift")
        guild_id = require_guild(interaction)
        span = await self.bot.duty.store.shift(guild_id, shift.strip())
        if span is None:
            raise InvalidInput.said(f"There is no shift `{shift.strip()[:64]}` in this server: pick one from the list.")
        if span.ended_ms is None:
            raise Conflict.said("That shift is still open: end it first (/shift admin end), then void it.")
        if await self.bot.duty.store.voided([span.id]):
            raise Conflict.said("That shift is already voided: see /shift admin history.")
        why = " ".join(reason.split())
        zone = self.bot.settings.get(guild_id).timezone
        embed = void_confirm_embed(shift_choice_label(self.bot.get_guild(guild_id), span, zone), span.member_id, why)
        view = discord.ui.View(timeout=None)
        view.add_item(VoidConfirmButton(span.id))
        await send(interaction, embed=embed, view=view, allowed_mentions=NO_MENTIONS)

    @admin_void.autocomplete("shift")
    async def void_shift_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        guild_id = require_guild(interaction)
        recent = await recent_ended_shifts(self.bot.duty.store.db, guild_id, None, 100)
        wanted = current.strip().lower()
        zone = self.bot.settings.get(guild_id).timezone
        choices = []
        for span in recent:
            label = shift_choice_label(self.bot.get_guild(guild_id), span, zone)
            if wanted in label.lower() or span.id.startswith(wanted):
                choices.append(app_commands.Choice(name=label, value=span.id))
        return fit_choices(choices)

    @admin.command(name="history", description="A member's time adjustments, newest first.")
    @app_commands.describe(member="Whose adjustments")
    async def admin_history(self, interaction: discord.Interaction[NorthcaBot], member: discord.User) -> None:
        require_shift_supervisor(interaction, "see time adjustments")
        embed, view = await history_message(self.bot, require_guild(interaction), member.id, 0)
        await send(interaction, embed=embed, view=view or discord.utils.MISSING, allowed_mentions=NO_MENTIONS)

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
            if shift.end_reason == "left_game":
                await self._tell_member_left_game(shift)
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
        """The roles this event gives or takes back (the rule: ShiftService.role_changes): a role is recorded with
        the shift before it is given, and forgotten once taken back. A member who left, or a server the bot left,
        has nobody to take a role from: the records go."""
        gone = kind == "end" and shift.end_reason in ("left", "bot_removed")
        for change in await self.service.role_changes(shift, kind):
            if change.give:
                await self.service.record_given_role(shift.id, change)
                if not await self._set_role(shift, change.role_id, True):
                    await self.service.forget_given_role(shift.id, change.role_id)
            else:
                if not gone:
                    await self._set_role(shift, change.role_id, False)
                await self.service.forget_given_role(shift.id, change.role_id)

    async def _set_role(self, shift: ShiftRecord, role_id: int, give: bool) -> bool:
        """Whether Discord took the change."""
        guild = self.bot.get_guild(shift.guild_id)
        if guild is None:
            return False
        role = guild.get_role(role_id)
        if role is None:
            log.warning("guild %s: the duty role %s no longer exists; skipped", guild.id, role_id)
            return False
        me = guild.me
        verb = "give" if give else "remove"
        if me is None or not me.guild_permissions.manage_roles:
            log.warning("guild %s: cannot %s the duty role %s: the bot lacks Manage Roles", guild.id, verb, role_id)
            return False
        if role >= me.top_role:
            log.warning("guild %s: the duty role %s is not below the bot's highest role; skipped", guild.id, role.id)
            return False
        try:
            if give:
                await self.bot.http.add_role(guild.id, shift.member_id, role.id, reason="Shift started")
            else:
                await self.bot.http.remove_role(guild.id, shift.member_id, role.id, reason="Shift ended")
        except discord.HTTPException as exc:
            log.warning(
                "guild %s: could not %s the duty role %s of %s (%s)", guild.id, verb, role_id, shift.member_id, exc
            )
            return False
        return True

    async def _tell_member_left_game(self, shift: ShiftRecord) -> None:
        """Gamelock ended the shift: the member is told by DM (the shift-log line says it to everyone else)."""
        guild = self.bot.get_guild(shift.guild_id)
        member = guild.get_member(shift.member_id) if guild is not None else None
        if guild is None or member is None or shift.ended_at is None:
            return
        try:
            await post(
                member,
                f"Your shift in **{discord.utils.escape_markdown(guild.name)}** ended at "
                f"{discord_ts(shift.ended_at)} because you left the game (ER:LC) for longer than the server allows. "
                f"On duty: {duration_text(shift.duration_ms or 0)}. Use /shift start to go on duty again.",
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.info("gamelock: could not DM member %s of guild %s: %s", shift.member_id, shift.guild_id, exc.status)

    async def on_admin_change(self, change: AdminChange) -> None:
        """A time adjustment or void made on the dashboard: its shift-log line, as /shift admin posts its own."""
        if isinstance(change, DutyAdjusted) and change.source == "dashboard":
            done = change.adjustment
            await self._log(change.guild_id, f"🕒 <@{done.member_id}>: {adjustment_line(done)} (on the dashboard)")

    async def _log(self, guild_id: int, text: str) -> None:
        await shift_log(self.bot, guild_id, text)
