"""Rosters: scheduled shift templates, their computed occurrences, reminders, attendance, the week picture.

- records.py: templates, assignments, parsing and validation of what people type;
- occurrences.py: when a template runs (overnight, daylight-saving rules);
- store.py: the roster tables (migrations 017, 023, 027) and the read of recorded shifts for attendance;
- service.py: the rules behind /roster (audited admin actions, exactly-once reminders, attendance);
- reminders.py: the worker sending due reminders (claim lease, look before sending again, retries);
- attendance.py: present / late / left early / excused / absent for one occurrence;
- render.py: the PNG timetable and the paginated text fallback.

Built by bot.services.build_services; nothing here knows about Discord. The guild's time zone and
role members are parameters (the settings and the Discord side own them).
"""

from bot.core.rosters.attendance import (
    Attendance,
    AttendanceCounts,
    AttendanceRules,
    AttendanceStatus,
    DutySpan,
    classify,
)
from bot.core.rosters.occurrences import Occurrence, local_start, occurrences_between, occurrences_of, week_start
from bot.core.rosters.records import (
    MAX_TEMPLATES_PER_GUILD,
    Assignment,
    RosterTemplate,
    TargetKind,
    TemplateDraft,
    parse_date,
    parse_days,
    parse_duration,
    parse_start,
    validate_template,
)
from bot.core.rosters.render import RenderedWeek, render_week, week_text
from bot.core.rosters.service import REMINDER_CUTOFF_MS, DueReminder, OccurrenceAttendance, RosterService, zone_of
from bot.core.rosters.store import RosterStore

__all__ = [
    "MAX_TEMPLATES_PER_GUILD",
    "REMINDER_CUTOFF_MS",
    "Assignment",
    "Attendance",
    "AttendanceCounts",
    "AttendanceRules",
    "AttendanceStatus",
    "DueReminder",
    "DutySpan",
    "Occurrence",
    "OccurrenceAttendance",
    "RenderedWeek",
    "RosterService",
    "RosterStore",
    "RosterTemplate",
    "TargetKind",
    "TemplateDraft",
    "classify",
    "local_start",
    "occurrences_between",
    "occurrences_of",
    "parse_date",
    "parse_days",
    "parse_duration",
    "parse_start",
    "render_week",
    "validate_template",
    "week_start",
    "week_text",
    "zone_of",
]
