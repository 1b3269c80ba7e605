"""The wording of /roster: template summaries, audit lines, reminders, attendance pages."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import discord

from bot.core.rosters import Attendance, Occurrence, OccurrenceAttendance, RosterTemplate
from bot.core.rosters.records import days_text, minute_text
from bot.core.rosters.render import DISCORD_MESSAGE_LIMIT, paginate
from bot.core.timefmt import duration_text, to_ms
from bot.discord.discord_text import discord_ts

REMINDER_MARK = "Scheduled shift reminder"
NOT_REMINDED = "⚠️ reminder could not be delivered"
STATUS_TEXT = {
    "present": "✅ present",
    "late": "🕒 late",
    "left_early": "↩️ left early",
    "excused": "🏖️ excused (on leave)",
    "absent": "❌ absent",
}


def template_summary(t: RosterTemplate) -> str:
    """`Night patrol: 22:00 for 8 h, Mon, Fri (Patrol), from 2026-12-01`."""
    parts = [f"**{t.name}**: {minute_text(t.start_minute)} for {duration_text(t.duration_minutes * 60_000)}"]
    parts.append(days_text(t.days_mask))
    text = ", ".join(parts)
    if t.department:
        text += f" ({t.department})"
    if t.valid_from:
        text += f", from {t.valid_from}"
    if t.valid_until:
        text += f", until {t.valid_until}"
    return text


def choice_name(t: RosterTemplate) -> str:
    """One autocomplete line: `Night patrol · 22:00 · 8 h · every day`."""
    length = duration_text(t.duration_minutes * 60_000)
    return f"{t.name} · {minute_text(t.start_minute)} · {length} · {days_text(t.days_mask)}"


def audit_line(actor_id: int, what: str) -> str:
    return f"🗓️ Roster: <@{actor_id}> {what}"


def reminder_text(o: Occurrence) -> str:
    extra = f" ({o.department})" if o.department else ""
    return (
        f"⏰ Reminder: your scheduled shift **{o.name}**{extra} starts {discord_ts(o.start, 'R')}"
        f" ({discord_ts(o.start, 't')} to {discord_ts(o.end, 't')})."
    )


def reminder_embed(o: Occurrence) -> discord.Embed:
    """The reminder's marker: its scheduled shift's name in the footer and start as the timestamp (each member's
    viewer shows it in their own time). A sender that takes over a reminder looks for it by this before sending."""
    embed = discord.Embed(timestamp=o.start)
    embed.set_footer(text=f"{REMINDER_MARK} · {o.name}")
    return embed


def is_reminder_of(embed: discord.Embed, o: Occurrence) -> bool:
    """The embed marks the reminder of occurrence `o` (within a second: a float round trip)."""
    return (
        embed.footer.text == f"{REMINDER_MARK} · {o.name}"
        and embed.timestamp is not None
        and abs(to_ms(embed.timestamp) - o.start_ms) < 1000
    )


def reports_reminder_text(member_id: int, o: Occurrence) -> str:
    return f"<@{member_id}> {reminder_text(o)} (Your DMs are closed to this server, so the reminder is here.)"


def _member_line(a: Attendance, not_reminded: bool) -> str:
    text = f"- <@{a.member_id}>: {STATUS_TEXT[a.status]}"
    if a.attended:
        text += f", {duration_text(a.on_duty_ms)} on duty"
        if a.first_on_duty_ms is not None:
            text += f", from <t:{a.first_on_duty_ms // 1000}:t>"
    if not_reminded:
        text += f" ({NOT_REMINDED})"
    return text


def attendance_pages(
    results: Sequence[OccurrenceAttendance], zone: ZoneInfo, title: str, member_id: int | None
) -> list[str]:
    """The attendance of each occurrence, one line per member, paginated to Discord messages."""
    lines = [title]
    shown = 0
    for r in results:
        members = [a for a in r.members if member_id is None or a.member_id == member_id]
        if not members:
            continue
        shown += 1
        start = r.occurrence.start.astimezone(zone)
        lines.append(f"**{r.occurrence.name}** {start:%a %d %b %H:%M} ({discord_ts(r.occurrence.start, 'f')})")
        lines.extend(_member_line(a, a.member_id in r.not_reminded) for a in members)
    if not shown:
        lines.append("No finished scheduled shifts with assigned members in this period.")
    return paginate(lines, 1900)


def page_footer(page: int, pages: int) -> str:
    return f"\n-# Page {page + 1} of {pages}" if pages > 1 else ""


def upcoming_text(occurrences: Sequence[Occurrence], limit: int = DISCORD_MESSAGE_LIMIT) -> str:
    """A member's next shifts (`/roster mine`), with Discord timestamps: each reader sees them in
    their own time zone. At most `limit` characters (the rest is counted, not listed)."""
    if not occurrences:
        return "You have no scheduled shifts in the next two weeks."
    lines = ["Your next scheduled shifts:"]
    for i, o in enumerate(occurrences):
        extra = f" ({o.department})" if o.department else ""
        line = f"- {o.name}{extra}: {discord_ts(o.start, 'F')} to {discord_ts(o.end, 't')}, {discord_ts(o.start, 'R')}"
        rest = f"… and {len(occurrences) - i} more"
        if len("\n".join([*lines, line, rest])) > limit:
            lines.append(rest)
            break
        lines.append(line)
    return "\n".join(lines)
