"""The wording of activity reports and the activity settings."""

from __future__ import annotations

import re

import discord

from bot.core.duty import ActivityLine, Period, page_of
from bot.core.rosters import AttendanceCounts, AttendanceStatus
from bot.core.settings.records import GuildSettings
from bot.core.timefmt import duration_text, to_ms
from bot.discord.discord_text import length, span_days_text
from cogs.activity.report import ActivityReport
from cogs.style import BRAND

PER_PAGE = 20
# A posted report is at most this many messages; the rest is named, not listed.
MAX_REPORT_MESSAGES = 10
SCHEDULED_TITLE = "Activity report: the period has ended"
# The posted report's marker: its footer ends with these words and the period's days (see scheduled_page).
PERIOD_FOOTER = "activity period"
# The marker of reports posted before: the footer ended so, and the embed's timestamp was the period's start.
PERIOD_MARK = "activity period starting"
_PAGE_OF = re.compile(r"^Page (\d+) of (\d+) · ")


ATTENDANCE_WORDS: dict[AttendanceStatus, str] = {
    "present": "present",
    "late": "late",
    "left_early": "left early",
    "absent": "absent",
    "excused": "excused",
}
ROSTER_FIELD_LIMIT = 1024  # Discord's limit for a field's value


def attendance_text(counts: AttendanceCounts) -> str:
    """E.g. "📅 3 present, 1 late, 1 absent" (statuses with none are left out)."""
    parts = [f"{n} {ATTENDANCE_WORDS[status]}" for status, n in counts.counts().items() if n]
    return "📅 " + ", ".join(parts)


def line_text(line: ActivityLine, attendance: AttendanceCounts | None = None) -> str:
    mark = "🌴 on leave" if line.on_leave else ("✅ met" if line.met else "❌ not met")
    running = " · on duty now" if line.open else ""
    roster = f" · {attendance_text(attendance)}" if attendance is not None else ""
    if line.quota_in_game:
        # The quota counts the time in game: that figure is measured against it, the duty time shown beside.
        return (
            f"<@{line.member_id}>: {duration_text(line.counted_ms)} in game of {duration_text(line.quota_ms)} "
            f"({duration_text(line.duty_ms)} on duty) — {mark}{running}{roster}"
        )
    in_game = "" if line.in_game_ms is None else f" ({duration_text(line.in_game_ms)} in game)"
    return (
        f"<@{line.member_id}>: {duration_text(line.duty_ms)}{in_game} of {duration_text(line.quota_ms)} — "
        f"{mark}{running}{roster}"
    )


def roster_only_text(report: ActivityReport) -> str | None:
    """Members with scheduled shifts but no quota line, fitted to one field ("… and N more")."""
    members = report.roster_only()
    lines: list[str] = []
    for i, member_id in enumerate(members):
        line = f"<@{member_id}>: {attendance_text(report.attendance[member_id])}"
        tail = f"… and {len(members) - i} more: see /roster attendance"
        # Discord counts UTF-16 units (📅 is two): measured as it does.
        if sum(length(x) + 1 for x in lines) + length(line) + 1 + length(tail) > ROSTER_FIELD_LIMIT:
            lines.append(tail)
            break
        lines.append(line)
    return "\n".join(lines) or None


def _ts(ms: int | None, style: str = "f") -> str:
    return f"<t:{(ms or 0) // 1000}:{style}>"


def period_text(report: ActivityReport) -> str:
    """The period's days in the server's time zone ("6–12 Jan 2025, 7 days"): a period is whole local days."""
    period = report.period
    if period.start_ms is None or period.end_ms is None:
        return "All time"
    return span_days_text(period.start_ms, period.end_ms, report.timezone)


def report_embed(report: ActivityReport, page: int, *, title: str = "Activity report") -> discord.Embed:
    shown = page_of(report.lines, page, PER_PAGE)
    met = sum(1 for line in report.lines if line.met and not line.on_leave)
    leave = sum(1 for line in report.lines if line.on_leave)
    header = period_text(report)
    if report.role_id is not None:
        header += f"\nMembers of <@&{report.role_id}>"
    body = (
        "\n".join(line_text(line, report.attendance.get(line.member_id)) for line in shown.items)
        or "Nobody holds a role with a quota."
    )
    embed = discord.Embed(title=title, description=f"{header}\n\n{body}", colour=BRAND)
    embed.add_field(name="Met", value=str(met))
    embed.add_field(name="Not met", value=str(len(report.lines) - met - leave))
    embed.add_field(name="On leave (exempt)", value=str(leave))
    roster_only = roster_only_text(report) if shown.number == 0 else None
    if roster_only is not None:
        embed.add_field(name="Roster attendance (no quota role)", value=roster_only, inline=False)
    embed.set_footer(text=f"Page {shown.number + 1} of {shown.pages} · {shown.total} members")
    return embed


def _members(n: int) -> str:
    return f"{n} member" + ("" if n == 1 else "s")


def report_summary(report: ActivityReport) -> str:
    """The first line of the posted report: what a supervisor wants to know before reading the list."""
    if not report.lines:
        return "📊 **Activity report**: nobody holds a role with a quota this period."
    met = sum(1 for line in report.lines if line.met and not line.on_leave)
    leave = sum(1 for line in report.lines if line.on_leave)
    short = len(report.lines) - met - leave
    text = f"📊 **Activity report**: {met} of {_members(len(report.lines))} met their quota"
    if short:
        text += f", {short} did not"
    if leave:
        text += f", {leave} on leave"
    return text + "."


def scheduled_report_embed(report: ActivityReport, page: int) -> discord.Embed:
    """A page of the posted report, marked with its period: the footer ends with "activity period" and the
    period's days ("6–12 Jan 2025, 7 days"), in the server's time zone. (No embed timestamp: Discord would show
    the period's start, a local midnight, in each reader's zone, a day early west of the server.)"""
    embed = report_embed(report, page, title=SCHEDULED_TITLE)
    embed.set_footer(text=f"{embed.footer.text} · {PERIOD_FOOTER} {period_text(report)}")
    return embed


def scheduled_page(embed: discord.Embed, period: Period, zone: str) -> tuple[int, int] | None:
    """(page index, pages) when the embed is a page of the posted report of `period` (`zone`: the server's time
    zone, in which the footer names the period); None otherwise."""
    footer = embed.footer.text or ""
    page = _PAGE_OF.match(footer)
    if page is None or period.start_ms is None or period.end_ms is None:
        return None
    if footer.endswith(f" · {PERIOD_FOOTER} {span_days_text(period.start_ms, period.end_ms, zone)}"):
        return int(page[1]) - 1, int(page[2])
    # A page posted before the footer named the days: marked by its timestamp, the period's start.
    if not footer.endswith(PERIOD_MARK) or embed.timestamp is None:
        return None
    if abs(to_ms(embed.timestamp) - period.start_ms) >= 1000:
        return None  # within a second: a float round trip; periods start on whole seconds, days apart
    return int(page[1]) - 1, int(page[2])


def report_pages(report: ActivityReport) -> int:
    return page_of(report.lines, 0, PER_PAGE).pages


def settings_text(settings: GuildSettings, period_end_ms: int | None) -> str:
    quotas = ", ".join(f"<@&{rid}>: {hours:g} h" for rid, hours in settings.role_quotas) or "none"
    return (
        f"Activity period: **{settings.activity_period}** (this one ends {_ts(period_end_ms, 'R')}, "
        f"time zone {settings.timezone}). Approved leave blocks going on duty: "
        f"**{'yes' if settings.leave_blocks_duty else 'no'}**. Role quotas: {quotas}."
    )
