"""/shift start | break | end | status | list, /shift admin end | pending, and their
persistent buttons. The rules live in bot/shifts.py; this is the Discord side:
answering at once, the On Duty role, and the shift-log channel."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import ShiftConfig
from bot.errors import MissingPermission
from bot.discord_text import fit_choices, quoted
from bot.interactions import answer, edit_answer, guarded, post, require_guild, require_supervisor
from bot.links import Linkage
from bot.northca.models import Shift
from bot.shifts import Decision, RemoteShifts, ShiftRecord, ShiftService, ShiftWorker, from_ms, now_ms
from bot.timefmt import duration_text
from bot.timefmt import discord_ts

if TYPE_CHECKING:
    from bot.bot import NorthcaBot

log = logging.getLogger(__name__)

# How long /shift end waits for Northca before it says "it will be sent automatically".
# The answer itself never waits: it goes out first, and is edited when the verdict comes.
END_VERDICT_WAIT = 2.0
RETRY_VERDICT_WAIT = 3.0
PAGE_SIZE = 10
PENDING_SHOWN = 15
# Unconfirmed shifts offered with decision buttons at once (one row each; a message holds 5 rows).
DECISIONS_SHOWN = 4
NO_MENTIONS = discord.AllowedMentions.none()

REASON_TEXT = {
    "member": "ended by the officer",
    "admin": "ended by a supervisor",
    "auto": "auto-ended at the maximum shift length",
    "left": "ended because the member left the server",
    "bot_removed": "ended because the bot was removed from the server",
}


def service_of(client: discord.Client) -> ShiftService:
    svc = getattr(client, "shifts", None)
    if svc is None:
        raise RuntimeError("cogs.shift is not loaded")
    return svc


def sync_sentence(shift: ShiftRecord | None, pending_text: str = "Sending to Northca…") -> str:
    """What the officer reads about Northca, from the shift after its first attempt (or None)."""
    if shift is None:
        return "Northca is slow to answer; it will be sent automatically."
    if shift.sync_state == "synced":
        return "Synced to Northca ✅"
    if shift.unconfirmed:
        return (
            "Northca may already have it, but the bot cannot confirm it, so it is not sent again by itself."
            " A supervisor checks it on Northca from /shift admin pending."
        )
    if shift.sync_state == "failed":
        return f"Northca refused it ({quoted(shift.last_error or 'refused')}). It is kept, and admins see it in /shift admin pending."
    if shift.last_attempt_ms is not None:
        return "Northca is unreachable; it will be sent automatically."
    return pending_text


# --- embeds ---------------------------------------------------------------------------


def started_embed(shift: ShiftRecord) -> discord.Embed:
    embed = discord.Embed(title="On duty", colour=discord.Colour.green(), description=f"Shift started {discord_ts(shift.started_at)}.")
    embed.add_field(name="Started", value=discord_ts(shift.started_at, "f"), inline=True)
    embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department or "—"), inline=True)
    officer = discord.utils.escape_markdown(shift.officer_name)
    if shift.officer_badge:
        officer += f" (badge {discord.utils.escape_markdown(shift.officer_badge)})"
    embed.add_field(name="Officer", value=officer, inline=True)
    if shift.callsign:
        embed.add_field(name="Callsign", value=f"`{shift.callsign}`", inline=True)
    embed.set_footer(text="Use /shift break for a break, /shift end to go off duty.")
    return embed


def ended_embed(shift: ShiftRecord, sync: str) -> discord.Embed:
    colour = discord.Colour.red() if shift.sync_state == "failed" else discord.Colour.dark_grey()
    embed = discord.Embed(title="Off duty", colour=colour, description=f"On duty for **{duration_text(shift.duty_ms())}**.")
    embed.add_field(name="Started", value=discord_ts(shift.started_at, "f"), inline=True)
    if shift.ended_at is not None:
        embed.add_field(name="Ended", value=discord_ts(shift.ended_at, "f"), inline=True)
    if shift.break_count:
        embed.add_field(name="Breaks", value=f"{shift.break_count} ({duration_text(shift.break_ms)}, not counted)", inline=True)
    if shift.department:
        embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department), inline=True)
    how = REASON_TEXT.get(shift.end_reason or "", shift.end_reason or "")
    if shift.end_reason == "admin" and shift.ended_by:
        how = f"ended by <@{shift.ended_by}>"
    if shift.end_note:
        how += f": {discord.utils.escape_markdown(shift.end_note)}"
    embed.add_field(name="How", value=how[:1024], inline=False)
    embed.add_field(name="Northca", value=sync[:1024], inline=False)
    return embed


def status_embed(shift: ShiftRecord | None, today_ms: int, week_ms: int) -> discord.Embed:
    if shift is None:
        embed = discord.Embed(title="Off duty", colour=discord.Colour.dark_grey(), description="You have no open shift. /shift start puts you on duty.")
    else:
        embed = discord.Embed(title="On duty", colour=discord.Colour.green(), description=f"On duty since {discord_ts(shift.started_at)}.")
        embed.add_field(name="Elapsed on duty", value=duration_text(shift.duty_ms()), inline=True)
        embed.add_field(name="On break", value=f"Yes, since {discord_ts(shift.break_started_at)}" if shift.break_started_at else "No", inline=True)
        embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department or "—"), inline=True)
    embed.add_field(name="Today (UTC)", value=duration_text(today_ms), inline=True)
    embed.add_field(name="This week (UTC, from Monday)", value=duration_text(week_ms), inline=True)
    return embed


def remote_line(shift: Shift, end_status: str) -> str:
    name = discord.utils.escape_markdown((shift.officer_name or "Unknown officer")[:40])
    if shift.officer_badge:
        name += f" ({discord.utils.escape_markdown(shift.officer_badge[:16])})"
    parts = [f"**{name}**", discord.utils.escape_markdown((shift.department or "no department")[:40])]
    parts.append(discord_ts(shift.start_time, "f") if shift.start_time else "start unknown")
    if shift.duration_ms is not None:
        parts.append(duration_text(shift.duration_ms))
    elif shift.start_time and shift.end_time:
        parts.append(duration_text(int((shift.end_time - shift.start_time).total_seconds() * 1000)))
    else:
        parts.append("in progress")
    if shift.status and shift.status != end_status:
        parts.append(discord.utils.escape_markdown(shift.status[:20]))
    return " · ".join(parts)


def list_embed(
    shifts: list[Shift], page: int, end_status: str, member_id: int | None, department: str | None, skipped: int = 0
) -> discord.Embed:
    pages = max(1, -(-len(shifts) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    shown = shifts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    filters = []
    if member_id:
        filters.append(f"<@{member_id}>")
    if department:
        filters.append(discord.utils.escape_markdown(department))
    title = "Recent shifts on Northca" + (f" ({', '.join(filters)})" if filters and not member_id else "")
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    if not shown:
        embed.description = "No shifts found." + (f" Filter: {', '.join(filters)}." if filters else "")
    else:
        head = f"Filter: {', '.join(filters)}\n" if filters else ""
        embed.description = head + "\n".join(remote_line(s, end_status) for s in shown)
    footer = f"Page {page + 1} of {pages} · {len(shifts)} shifts, most recently updated first"
    if skipped:
        footer += f" · {skipped} record(s) from Northca could not be read and are left out"
    embed.set_footer(text=footer)
    return embed


def pending_embed(rows: list[ShiftRecord], counts: tuple[int, int, int]) -> discord.Embed:
    waiting, failed, unconfirmed = counts
    if not rows:
        return discord.Embed(
            title="Shifts waiting for Northca", colour=discord.Colour.green(),
            description="Nothing is waiting: every ended shift is on Northca.",
        )
    lines = []
    number = 0
    for s in rows:
        ended = discord_ts(s.ended_at) if s.ended_at else "?"
        head = f"<@{s.member_id}> · ended {ended} · {duration_text(s.duration_ms or 0)}"
        if s.unconfirmed:
            number += 1
            tag = f"#{number} " if number <= DECISIONS_SHOWN else ""
            lines.append(
                f"❓ **{tag}unconfirmed: check on Northca** · {head}\n"
                f"  {discord.utils.escape_markdown(quoted(s.unconfirmed_reason or ''))}"
            )
        elif s.sync_state == "failed":
            lines.append(f"⛔ **failed** · {head}\n  Northca: {discord.utils.escape_markdown(quoted(s.last_error or 'refused'))}")
        else:
            retry = f", next try {discord_ts(from_ms(s.next_attempt_ms))}" if s.next_attempt_ms else ""  # type: ignore[arg-type]
            error = f" (last error: {discord.utils.escape_markdown(quoted(s.last_error))})" if s.last_error else ""
            lines.append(f"⏳ **waiting** · {head}\n  attempt {s.sync_attempts}{retry}{error}")
    embed = discord.Embed(
        title="Shifts waiting for Northca",
        colour=discord.Colour.red() if failed or unconfirmed else discord.Colour.gold(),
        description="\n".join(lines)[:4000],
    )
    more = waiting + failed + unconfirmed - len(rows)
    footer = f"{unconfirmed} unconfirmed, {failed} failed, {waiting} waiting"
    footer += f" ({more} more not shown)" if more > 0 else ""
    footer += ". Failed ones wait for you: fix the cause (e.g. /link), then press Retry now."
    if unconfirmed:
        footer += (
            " Unconfirmed ones may already be on Northca: look for the shift there, then press"
            " “It is on Northca” or “Send anyway” for its number."
        )
    embed.set_footer(text=footer[:2048])
    return embed


# --- persistent buttons -----------------------------------------------------------------


class ShiftActionButton(discord.ui.DynamicItem[discord.ui.Button], template=r"northca:shift:(?P<action>break|end):(?P<member_id>\d{1,20})"):
    """Break / End on the /shift start answer. Only the shift's officer may press them."""

    def __init__(self, action: str, member_id: int) -> None:
        self.action = action
        self.member_id = member_id
        label, style, emoji = ("Break", discord.ButtonStyle.secondary, "☕") if action == "break" else ("End shift", discord.ButtonStyle.danger, "🛑")
        super().__init__(discord.ui.Button(label=label, style=style, emoji=emoji, custom_id=f"northca:shift:{action}:{member_id}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> "ShiftActionButton":
        return cls(match["action"], int(match["member_id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        require_guild(interaction)
        if interaction.user.id != self.member_id:
            raise MissingPermission(f"This button belongs to <@{self.member_id}>'s shift. Use /shift {self.action} for your own.")
        cog: ShiftCog = interaction.client.get_cog("ShiftCog")  # type: ignore[assignment]
        if self.action == "break":
            await cog.break_flow(interaction)
        else:
            await cog.end_flow(interaction, interaction.user.id, reason="member")


class RetrySyncButton(discord.ui.DynamicItem[discord.ui.Button], template=r"northca:shift:retry:(?P<target>all|[0-9a-f-]{36})"):
    """On /shift admin pending: send failed and waiting shifts again now. Supervisors only."""

    def __init__(self, target: str = "all") -> None:
        self.target = target
        super().__init__(discord.ui.Button(label="Retry now", style=discord.ButtonStyle.primary, emoji="🔁", custom_id=f"northca:shift:retry:{target}"))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> "RetrySyncButton":
        return cls(match["target"])

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        cog: ShiftCog = interaction.client.get_cog("ShiftCog")  # type: ignore[assignment]
        require_supervisor(interaction, cog.config.supervisor_role_ids, "retry shifts waiting for Northca")
        await cog.retry_flow(interaction, None if self.target == "all" else self.target)


class UnconfirmedDecisionButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"northca:shift:decide:(?P<decision>send|found):(?P<shift_id>[0-9a-f-]{36})",
):
    """On /shift admin pending: a supervisor's decision about one unconfirmed shift."""

    def __init__(self, decision: str, shift_id: str, number: int = 0, row: int | None = None) -> None:
        self.decision = decision
        self.shift_id = shift_id
        prefix = f"#{number}: " if number else ""
        if decision == "send":
            label, style, emoji = f"{prefix}Send anyway", discord.ButtonStyle.danger, "📤"
        else:
            label, style, emoji = f"{prefix}It is on Northca", discord.ButtonStyle.success, "✅"
        super().__init__(
            discord.ui.Button(
                label=label, style=style, emoji=emoji, row=row, custom_id=f"northca:shift:decide:{decision}:{shift_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> "UnconfirmedDecisionButton":
        return cls(match["decision"], match["shift_id"])

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        cog: ShiftCog = interaction.client.get_cog("ShiftCog")  # type: ignore[assignment]
        # Re-checked on every press: the message may outlive the presser's role.
        require_supervisor(interaction, cog.config.supervisor_role_ids, "decide about an unconfirmed shift")
        decision: Decision = "send_anyway" if self.decision == "send" else "on_northca"
        await cog.decide_flow(interaction, self.shift_id, decision)


class ShiftPageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"northca:shift:page:(?P<dir>prev|next):(?P<page>\d{1,2}):(?P<limit>\d{1,3}):(?P<member>\d{1,20}|-):(?P<dept>.{0,40})",
):
    """Previous / Next on /shift list: fetches the list again and shows another page."""

    def __init__(self, direction: str, page: int, limit: int, member_id: int | None, department: str | None, disabled: bool = False) -> None:
        self.direction, self.page, self.limit, self.member_id, self.department = direction, page, limit, member_id, department
        custom_id = f"northca:shift:page:{direction}:{page}:{limit}:{member_id or '-'}:{department or ''}"
        super().__init__(
            discord.ui.Button(
                label="Previous" if direction == "prev" else "Next", emoji="◀️" if direction == "prev" else "▶️",
                style=discord.ButtonStyle.secondary, custom_id=custom_id, disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> "ShiftPageButton":
        member = None if match["member"] == "-" else int(match["member"])
        return cls(match["dir"], int(match["page"]), max(1, min(100, int(match["limit"]))), member, match["dept"] or None)

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        cog: ShiftCog = interaction.client.get_cog("ShiftCog")  # type: ignore[assignment]
        await interaction.response.defer()
        remote = await cog.service.list_remote(
            guild_id, interaction.user.id, limit=self.limit, department=self.department, member_id=self.member_id
        )
        embed, view = cog.list_message(remote, self.page, self.limit, self.member_id, self.department)
        await edit_answer(interaction, embed=embed, view=view)


def page_view(page: int, pages: int, limit: int, member_id: int | None, department: str | None) -> discord.ui.View | None:
    if pages <= 1:
        return None
    prev = ShiftPageButton("prev", max(0, page - 1), limit, member_id, department, disabled=page == 0)
    nxt = ShiftPageButton("next", min(pages - 1, page + 1), limit, member_id, department, disabled=page >= pages - 1)
    if len(prev.item.custom_id or "") > 100:
        return None  # a very long department filter: first page only
    view = discord.ui.View(timeout=None)
    view.add_item(prev)
    view.add_item(nxt)
    return view


def pending_view(rows: list[ShiftRecord]) -> discord.ui.View | discord.utils._MissingSentinel:
    """Retry now (when anything but unconfirmed shifts waits), and a decision row per unconfirmed shift."""
    if not rows:
        return discord.utils.MISSING
    view = discord.ui.View(timeout=None)
    if any(not s.unconfirmed for s in rows):
        view.add_item(RetrySyncButton("all"))
    unconfirmed = [s for s in rows if s.unconfirmed][:DECISIONS_SHOWN]
    for number, shift in enumerate(unconfirmed, start=1):
        view.add_item(UnconfirmedDecisionButton("found", shift.id, number, row=number))
        view.add_item(UnconfirmedDecisionButton("send", shift.id, number, row=number))
    return view


async def send(interaction: discord.Interaction, **kwargs: Any) -> None:
    """The first answer if there was none yet, else a followup; always private (fitted to Discord's limits)."""
    await answer(interaction, ephemeral=True, **kwargs)


# --- the cog ------------------------------------------------------------------------------


class ShiftCog(commands.Cog):
    shift = app_commands.Group(name="shift", description="Go on and off duty, take breaks, see shifts.", guild_only=True)
    admin = app_commands.Group(name="admin", description="Supervisors: end someone's shift, see what waits for Northca.", parent=shift)

    def __init__(self, bot: NorthcaBot, service: ShiftService) -> None:
        self.bot = bot
        self.service = service
        self.config: ShiftConfig = service.config

    # --- flows shared by commands and buttons ---

    async def break_flow(self, interaction: discord.Interaction) -> None:
        shift = await self.service.toggle_break(require_guild(interaction), interaction.user.id)
        if shift.on_break:
            text = f"☕ On break since {discord_ts(shift.break_started_at)}. Breaks are not counted as duty time. Use /shift break again when you are back."
        else:
            text = f"Back on duty. Breaks this shift: {shift.break_count} ({duration_text(shift.break_ms)}). On duty so far: {duration_text(shift.duty_ms())}."
        await send(interaction, content=text)

    async def end_flow(self, interaction: discord.Interaction, member_id: int, *, reason: str, note: str | None = None) -> None:
        guild_id = require_guild(interaction)
        # One local transaction, then the answer: Northca is only called after both.
        shift = await self.service.end(guild_id, member_id, reason=reason, ended_by=interaction.user.id, note=note)  # type: ignore[arg-type]
        own = member_id == interaction.user.id
        lead = "Shift ended" if own else f"Ended <@{member_id}>'s shift"
        await send(interaction, content=f"{lead}: {duration_text(shift.duty_ms())}. Sending to Northca…", embed=ended_embed(shift, "Sending to Northca…"), allowed_mentions=NO_MENTIONS)
        verdict = await self.service.wait_for_sync(shift.id, END_VERDICT_WAIT)
        current = verdict or shift
        sentence = sync_sentence(verdict)
        try:
            await edit_answer(
                interaction, f"{lead}: {duration_text(current.duty_ms())}. {sentence}", embed=ended_embed(current, sentence),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            log.warning("could not update the answer to the end of shift %s", shift.id, exc_info=True)

    async def decide_flow(self, interaction: discord.Interaction, shift_id: str, decision: Decision) -> None:
        guild_id = require_guild(interaction)
        since = now_ms()
        shift = await self.service.decide(guild_id, shift_id, interaction.user.id, decision)
        ended = discord_ts(shift.ended_at) if shift.ended_at else "?"
        what = f"<@{shift.member_id}>'s shift (ended {ended}, {duration_text(shift.duration_ms or 0)})"
        if decision == "on_northca":
            await send(
                interaction,
                content=f"✅ Marked {what} as on Northca: the bot will not send it. Your decision is recorded.",
                allowed_mentions=NO_MENTIONS,
            )
            return
        await send(
            interaction, content=f"📤 Sending {what} to Northca now, as you chose. Your decision is recorded.",
            allowed_mentions=NO_MENTIONS,
        )
        verdict = await self.service.wait_for_sync(shift.id, RETRY_VERDICT_WAIT, since_ms=since)
        try:
            await edit_answer(
                interaction, f"📤 Sent {what} as you chose: {sync_sentence(verdict)}", allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException:
            log.warning("could not update the answer to Send anyway for shift %s", shift.id, exc_info=True)

    async def retry_flow(self, interaction: discord.Interaction, shift_id: str | None) -> None:
        guild_id = require_guild(interaction)
        since = now_ms()
        rows = await self.service.retry(guild_id, shift_id)
        if not rows:
            await send(interaction, content="Nothing to retry: no shift of this server is waiting for Northca.")
            return
        await send(interaction, content=f"🔁 Retrying {len(rows)} shift(s)…")
        verdicts = await asyncio.gather(*(self.service.wait_for_sync(r.id, RETRY_VERDICT_WAIT, since_ms=since) for r in rows))
        synced = sum(1 for v in verdicts if v is not None and v.sync_state == "synced")
        failed = sum(1 for v in verdicts if v is not None and v.sync_state == "failed")
        waiting = len(rows) - synced - failed
        summary = f"Retried {len(rows)} shift(s): {synced} synced to Northca, {failed} refused again, {waiting} still waiting."
        embed = pending_embed(await self.service.outbox(guild_id, PENDING_SHOWN), await self.service.store.outbox_count(guild_id))
        try:
            await edit_answer(interaction, summary, embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not update the retry answer", exc_info=True)

    def list_message(
        self, remote: RemoteShifts, page: int, limit: int, member_id: int | None, department: str | None
    ) -> tuple[discord.Embed, discord.ui.View | discord.utils._MissingSentinel]:
        shifts = remote.shifts
        pages = max(1, -(-len(shifts) // PAGE_SIZE))
        page = max(0, min(page, pages - 1))
        embed = list_embed(shifts, page, self.config.end_status, member_id, department, remote.skipped)
        return embed, page_view(page, pages, limit, member_id, department) or discord.utils.MISSING

    # --- commands ---

    @shift.command(name="start", description="Go on duty: start your shift.")
    @app_commands.describe(department="Department for this shift (default: your profile's)", callsign="Your unit for this shift, e.g. ADAM-12 (default: your profile's)")
    async def start(
        self,
        interaction: discord.Interaction,
        department: app_commands.Range[str, 1, 40] | None = None,
        callsign: app_commands.Range[str, 1, 16] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        if await self.bot.links.linkage(guild_id) is Linkage.UNDECIDED:  # type: ignore[union-attr]
            # The link may be checked live on Northca: acknowledge first.
            await interaction.response.defer(ephemeral=True, thinking=True)
        shift = await self.service.start(
            guild_id, interaction.user.id, display_name=interaction.user.display_name, department=department, callsign=callsign
        )
        view = discord.ui.View(timeout=None)
        view.add_item(ShiftActionButton("break", interaction.user.id))
        view.add_item(ShiftActionButton("end", interaction.user.id))
        await send(interaction, content=f"You are on duty since {discord_ts(shift.started_at)}.", embed=started_embed(shift), view=view)

    @start.autocomplete("department")
    async def department_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return fit_choices([app_commands.Choice(name=d, value=d) for d in self.service.department_choices(current)])

    @shift.command(name="break", description="Start or end a break (not counted as duty time).")
    async def break_(self, interaction: discord.Interaction) -> None:
        await self.break_flow(interaction)

    @shift.command(name="end", description="Go off duty: end your shift and send it to Northca.")
    async def end(self, interaction: discord.Interaction) -> None:
        await self.end_flow(interaction, interaction.user.id, reason="member")

    @shift.command(name="status", description="Your open shift, and your duty time today and this week.")
    async def status(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        shift = await self.service.open_shift(guild_id, interaction.user.id)
        totals = await self.service.totals(guild_id, interaction.user.id)
        await send(interaction, embed=status_embed(shift, totals.today_ms, totals.week_ms))

    @shift.command(name="list", description="Recent shifts on this server's Northca MDT.")
    @app_commands.describe(member="Only this member's shifts", department="Only this department", limit="How many shifts (1–100, default 25)")
    async def list_(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        department: app_commands.Range[str, 1, 40] | None = None,
        limit: app_commands.Range[int, 1, 100] = 25,
    ) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        member_id = member.id if member is not None else None
        dept = self.service.match_department(department, strict=False)
        remote = await self.service.list_remote(
            guild_id, interaction.user.id, limit=limit, department=dept, member_id=member_id
        )
        embed, view = self.list_message(remote, 0, limit, member_id, dept)
        await answer(interaction, embed=embed, view=view)

    @list_.autocomplete("department")
    async def list_department_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return fit_choices([app_commands.Choice(name=d, value=d) for d in self.service.department_choices(current)])

    @admin.command(name="end", description="End another member's shift (e.g. one they forgot).")
    @app_commands.describe(member="Whose shift to end", reason="Why (kept with the shift)")
    async def admin_end(
        self, interaction: discord.Interaction, member: discord.User, reason: app_commands.Range[str, 1, 200] | None = None
    ) -> None:
        require_supervisor(interaction, self.config.supervisor_role_ids, "end someone else's shift")
        note = " ".join(reason.split()) if reason else None
        await self.end_flow(interaction, member.id, reason="admin", note=note or None)

    @admin.command(name="pending", description="Shifts waiting for Northca or refused by it, with a retry button.")
    async def admin_pending(self, interaction: discord.Interaction) -> None:
        require_supervisor(interaction, self.config.supervisor_role_ids, "see the shifts waiting for Northca")
        guild_id = require_guild(interaction)
        rows = await self.service.outbox(guild_id, PENDING_SHOWN)
        embed = pending_embed(rows, await self.service.store.outbox_count(guild_id))
        await send(interaction, embed=embed, view=pending_view(rows), allowed_mentions=NO_MENTIONS)

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

    async def on_shift_event(self, event: str, shift: ShiftRecord) -> None:
        if event == "start":
            await self._set_duty_role(shift, True)
            await self._log(shift.guild_id, f"🟢 <@{shift.member_id}> is on duty ({discord.utils.escape_markdown(shift.department or 'no department')}) since {discord_ts(shift.started_at)}.")
        elif event == "end":
            if shift.end_reason not in ("left", "bot_removed"):
                await self._set_duty_role(shift, False)
            how = REASON_TEXT.get(shift.end_reason or "", "")
            if shift.end_reason == "admin" and shift.ended_by:
                how = f"ended by <@{shift.ended_by}>"
            if shift.end_note:
                how += f": {discord.utils.escape_markdown(shift.end_note)}"
            await self._log(shift.guild_id, f"🔴 <@{shift.member_id}> is off duty after {duration_text(shift.duration_ms or 0)} ({how}).")
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
                f"⚠️ The shift of <@{shift.member_id}> could not be sent to Northca: {discord.utils.escape_markdown(quoted(shift.last_error or 'refused'))}. "
                "It is kept; a supervisor can retry it from /shift admin pending.",
            )

    async def _set_duty_role(self, shift: ShiftRecord, on_duty: bool) -> None:
        role_id = self.config.on_duty_role_id
        guild = self.bot.get_guild(shift.guild_id)
        if role_id is None or guild is None:
            return
        role = guild.get_role(role_id)
        if role is None:
            return  # the configured role belongs to another server
        me = guild.me
        if me is None or not me.guild_permissions.manage_roles:
            log.warning("guild %s: cannot %s the On Duty role: the bot lacks Manage Roles", guild.id, "give" if on_duty else "remove")
            return
        if role >= me.top_role:
            log.warning("guild %s: the On Duty role %s is not below the bot's highest role; skipped", guild.id, role.id)
            return
        # By state, not by event: a quick start-end-start leaves the role right.
        open_now = await self.service.open_shift(shift.guild_id, shift.member_id)
        if (open_now is not None) != on_duty:
            return
        try:
            if on_duty:
                await self.bot.http.add_role(guild.id, shift.member_id, role.id, reason="Shift started")
            else:
                await self.bot.http.remove_role(guild.id, shift.member_id, role.id, reason="Shift ended")
        except discord.HTTPException as exc:
            log.warning("guild %s: could not %s the On Duty role of %s (%s)", guild.id, "give" if on_duty else "remove", shift.member_id, exc)

    async def _log(self, guild_id: int, text: str) -> None:
        channel_id = self.config.log_channel_id
        if channel_id is None:
            return
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable) or getattr(getattr(channel, "guild", None), "id", None) != guild_id:
            return  # not a channel of this server
        try:
            await post(channel, text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not post to the shift-log channel %s (%s)", channel_id, exc)


async def setup(bot: NorthcaBot) -> None:
    assert bot.northca is not None and bot.links is not None and bot.profiles is not None
    service = ShiftService(bot.db, bot.links, bot.profiles, bot.northca, bot.config.shifts)
    bot.shifts = service
    cog = ShiftCog(bot, service)
    service.add_shift_listener(cog.on_shift_event)
    bot.add_service(ShiftWorker(service))
    bot.add_dynamic_items(ShiftActionButton, RetrySyncButton, ShiftPageButton, UnconfirmedDecisionButton)
    await bot.add_cog(cog)
