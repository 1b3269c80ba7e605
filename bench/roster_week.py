"""Roster week: a server with 100 scheduled shifts and 500 members; compute and render one week.

A real SQLite file holds the templates and assignments (made through the roster service, as
/roster create and /roster assign make them). Timed: reading them back, computing the week's
occurrences (Europe/London, a week with no clock change), finding the viewer's own, and rendering
the PNG timetable and the text fallback. Printed: each step's time and the total (goal: well under
one second); nothing is asserted.

Run:  python -m bench.roster_week   or   python bench/roster_week.py  [--templates N] [--members N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.rosters import TemplateDraft, parse_days, render_week, week_text
from bot.ops.services import build_roster_service
from bot.storage import Database

GUILD = 111111111111111111
ADMIN = 333333333333333333
FIRST_MEMBER = 900000000000000000
DAY_SETS = ("mon-fri", "sat,sun", None, "mon,wed,fri", "tue,thu")


async def run(templates: int, members: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.sqlite3")
        await db.open()
        rosters = build_roster_service(db)
        rosters.max_templates = max(templates, rosters.max_templates)
        for i in range(templates):
            start = (i * 97) % (24 * 60)  # spread over the day, some overnight
            duration = 60 * (2 + i % 7)
            draft = TemplateDraft(f"Shift {i:03d}", f"Dept {i % 6}", start, duration, parse_days(DAY_SETS[i % 5]))
            template = await rosters.create(GUILD, ADMIN, draft)
            for member in range(5):  # 500 members over 100 templates
                await rosters.assign(GUILD, ADMIN, template.id, "member", FIRST_MEMBER + (i * 5 + member) % members)
        zone, viewer = ZoneInfo("Europe/London"), FIRST_MEMBER + 7

        began = time.perf_counter()
        week = await rosters.week(GUILD, zone, date(2026, 12, 2))
        assignments = await rosters.store.assignments(GUILD)
        mine = {a.template_id for a in assignments if a.target_kind == "member" and a.target_id == viewer}
        computed = time.perf_counter()
        picture = render_week(week, date(2026, 11, 30), zone, mine=mine)
        rendered = time.perf_counter()
        pages = week_text(week, date(2026, 11, 30), zone, mine=mine)
        done = time.perf_counter()
        await db.close()

    print(f"templates {templates}, members {members}: {len(week)} occurrences, {len(picture.blocks)} blocks drawn")
    print(f"  read + compute the week : {(computed - began) * 1000:7.1f} ms")
    print(f"  render the PNG          : {(rendered - computed) * 1000:7.1f} ms ({len(picture.png) // 1024} KiB)")
    print(f"  text fallback           : {(done - rendered) * 1000:7.1f} ms ({len(pages)} messages)")
    print(f"  total                   : {(done - began) * 1000:7.1f} ms (goal: well under 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=100)
    parser.add_argument("--members", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(run(args.templates, args.members))


if __name__ == "__main__":
    main()
