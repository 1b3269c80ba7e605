"""The duty pages of the dashboard in a real browser (headless Chromium through Playwright): leaderboard and its
chart, shifts with the supervisors' time edits, leave decisions, rosters, the CSV export. Each change is made on
the web and checked where a user would see it: the page, the bot in Discord (the shift-log line, `/loa list`),
the audit (who, "from the dashboard"). A screenshot of each page is kept (tests/artifacts/dashboard/)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.duty import period_for
from bot.core.rosters.records import TemplateDraft
from tests.harness import builders
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import LEAVE_ROLE, QUOTA_ROLE, boot_duty_guild
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, LOG_CH, MEMBER_PERMS, OFFICER
from tests.helpers.posts import posts_to, role_changes

WED = datetime(2025, 1, 15, 10, tzinfo=UTC)  # a Wednesday
H = timedelta(hours=1)
SCRIPT_NAME = "<script>alert('pwned')</script>Ofc. Bobby"
OFFICER_M = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer", nick=SCRIPT_NAME, roles=[QUOTA_ROLE])


async def setup(start_dashboard: Any, start_bot: Any, sandbox: Any, clock: Clock) -> Any:
    """The bot with its dashboard and a configured server (shift log, reports, on-leave role), ADMIN its owner."""
    rig = await start_dashboard(clock=clock)
    await boot_duty_guild(start_bot, sandbox, [ADMIN_M, OFFICER_M], clock=clock, harness=rig.h)
    return rig


async def worked(rig: Any, start: datetime, hours: float, name: str = SCRIPT_NAME) -> str:
    """A shift of OFFICER made through the real shift service; its id."""
    shifts = rig.h.bot.shifts
    await shifts.start(GUILD, OFFICER, display_name=name, at=start)
    ended = await shifts.end(GUILD, OFFICER, at=start + timedelta(hours=hours))
    return str(ended.id)


def no_dialogs(page: Any) -> list[str]:
    """Every JavaScript dialog the page opens (a <script> name that ran would open one)."""
    opened: list[str] = []

    async def dismiss(dialog: Any) -> None:
        opened.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


async def board_duty(page: Any) -> str:
    return str(await page.inner_text(f"#leaderboard tr[data-member='{OFFICER}'] td.duty"))


async def test_a_time_edit_on_the_web_changes_the_leaderboard_and_shows_in_discord(
    start_dashboard: Any, start_bot: Any, sandbox: Any, page: Any
) -> None:
    clock = Clock(WED)
    rig = await setup(start_dashboard, start_bot, sandbox, clock)
    shift_id = await worked(rig, WED - 3 * H, 1)
    dialogs = no_dialogs(page)
    await rig.login(page)
    await page.goto(rig.url(f"/g/{GUILD}/leaderboard"))
    await rig.shot(page, "leaderboard-before")
    assert await board_duty(page) == "1 h"
    # The chart: an accessible picture, and the same numbers as a table.
    assert await page.get_attribute("svg.chart", "role") == "img"
    cells = page.locator("#weekly-hours-table tbody tr:last-child td")
    assert await cells.all_text_contents() == ["13 Jan", "1 h"]  # weeks start on Monday (the server's setting)
    assert await page.locator("#weekly-hours-table tbody tr").count() == 12

    await page.click("text=Shifts")
    await page.wait_for_url(rig.url(f"/g/{GUILD}/shifts"))
    assert await page.locator(f"tr[data-shift='{shift_id}']").count() == 1
    await page.select_option("#a-kind", "add")
    await page.fill("#a-member", str(OFFICER))
    await page.fill("#a-duration", "2h")
    await page.fill("#a-reason", "court appearance")
    await page.click("text=Save the change")
    await page.wait_for_selector(".notice")
    await rig.shot(page, "shifts-after-add")
    assert "Time added" in await page.inner_text(".notice")

    await page.goto(rig.url(f"/g/{GUILD}/leaderboard"))
    assert await board_duty(page) == "3 h"
    await rig.shot(page, "leaderboard-after")

    # Void the shift: kept in the list (marked), left out of the totals.
    await page.goto(rig.url(f"/g/{GUILD}/shifts?member={OFFICER}"))
    await page.fill(f"#reason-{shift_id}", "duplicate of another shift")
    await page.click(f"tr[data-shift='{shift_id}'] button:has-text('Void')")
    await page.wait_for_selector(".notice")
    assert "voided" in await page.inner_text(f"tr[data-shift='{shift_id}']")
    await page.goto(rig.url(f"/g/{GUILD}/leaderboard"))
    assert await board_duty(page) == "2 h"

    # In Discord: the shift-log lines, posted by the bot; in the audit: who, and from where.
    logged = [
        r.json["content"] for r in posts_to(rig.h, LOG_CH) if "on the dashboard" in (r.json or {}).get("content", "")
    ]
    if len(logged) < 2:
        await rig.h.fake.wait_for(lambda r: "Voided" in str(r.json), method="POST", path=rf"/channels/{LOG_CH}/")
        logged = [r.json["content"] for r in posts_to(rig.h, LOG_CH) if "on the dashboard" in r.json.get("content", "")]
    assert any("court appearance" in line and f"<@{ADMIN}>" in line for line in logged)
    audit = await rig.h.bot.duty.store.db.execute_fetchall(
        "SELECT kind, actor_id, source FROM duty_adjustments WHERE guild_id = ? AND member_id = ? ORDER BY id",
        (GUILD, OFFICER),
    )
    assert [tuple(r) for r in audit] == [("add", ADMIN, "dashboard"), ("void", ADMIN, "dashboard")]
    # The member's name, <script> and all, is text everywhere.
    assert dialogs == []
    html = await page.content()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


async def test_a_leave_approved_on_the_web_is_approved_in_the_bot(
    start_dashboard: Any, start_bot: Any, sandbox: Any, page: Any
) -> None:
    clock = Clock(WED)
    rig = await setup(start_dashboard, start_bot, sandbox, clock)
    h = rig.h
    asked = await h.slash("loa request", member=OFFICER_M, guild_id=GUILD, start="today", end="2025-01-17",
                          reason="family <b>visit</b>")  # fmt: skip
    assert asked.ephemeral
    await rig.login(page)
    await page.goto(rig.url(f"/g/{GUILD}/leave"))
    await rig.shot(page, "leave-pending")
    assert "family <b>visit</b>" in await page.inner_text("#pending")
    await page.click("#pending button:has-text('Approve')")
    await page.wait_for_selector(".notice")
    await rig.shot(page, "leave-approved")
    assert await page.inner_text(".notice") == "Leave approved."
    assert "No request is waiting." in await page.inner_text("main")

    # The bot sees it: /loa list, the role given now (the leave has started), the shift-log line.
    listed = await h.slash("loa list", member=OFFICER_M, guild_id=GUILD)
    listed = await listed.final()
    [shown] = listed.embeds
    assert shown["description"].startswith(f"LOA #1 · <@{OFFICER}>:") and shown["description"].endswith("on leave now")
    [leave] = await h.bot.leave.listed(GUILD)
    assert (leave.status, leave.decided_by) == ("approved", ADMIN)
    [source] = await h.bot.duty.store.db.execute_fetchall("SELECT decided_source FROM leaves WHERE id = ?", (leave.id,))
    assert source[0] == "dashboard"
    await h.fake.wait_for(lambda r: "on the dashboard" in str(r.json), method="POST", path=rf"/channels/{LOG_CH}/")
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1


async def test_the_csv_download_has_the_rows_of_the_bots_export(
    start_dashboard: Any, start_bot: Any, sandbox: Any, page: Any
) -> None:
    clock = Clock(WED)
    rig = await setup(start_dashboard, start_bot, sandbox, clock)
    shift_id = await worked(rig, WED - 5 * H, 2, name='=HYPERLINK("x")')
    await rig.h.bot.duty.add_time(GUILD, OFFICER, 30 * 60_000, "=cmd|' /C calc'!A0", ADMIN)
    await rig.login(page)
    await page.goto(rig.url(f"/g/{GUILD}/exports"))
    await rig.shot(page, "exports")
    await page.select_option("#e-period", "this_week")
    async with page.expect_download() as info:
        await page.click("#download")
    download = await info.value
    assert download.suggested_filename == "duty-this-week.csv"
    data = Path(await download.path()).read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    shifts = [r for r in rows if r["record"] == "shift"]
    adjustments = [r for r in rows if r["record"] == "adjustment"]
    assert [(r["shift_id"], r["member_id"], r["duty_s"]) for r in shifts] == [(shift_id, str(OFFICER), "7200")]
    assert [(r["kind"], r["amount_s"], r["reason"]) for r in adjustments] == [("add", "1800", "'=cmd|' /C calc'!A0")]
    # The same file the bot attaches for /shift export of this week.
    bot_file = await rig.h.bot.duty.export_csv(GUILD, period_for("this_week", clock(), ZoneInfo("UTC"), 0))
    assert data == bot_file.data


async def test_rosters_week_calendar_assign_and_unassign(
    start_dashboard: Any, start_bot: Any, sandbox: Any, page: Any
) -> None:
    clock = Clock(WED)
    rig = await setup(start_dashboard, start_bot, sandbox, clock)
    template = await rig.h.bot.rosters.create(GUILD, ADMIN, TemplateDraft("Morning <i>patrol</i>", None, 8 * 60, 240))
    await rig.login(page)
    await page.goto(rig.url(f"/g/{GUILD}/rosters"))
    assert "Morning <i>patrol</i>" in await page.inner_text("#calendar")
    assert await page.locator("#calendar thead th").count() == 7
    await page.select_option("#r-template", str(template.id))
    await page.fill("#r-member", str(OFFICER))
    await page.click("button:has-text('Assign')")
    await page.wait_for_selector(".notice")
    await rig.shot(page, "rosters-assigned")
    assert await page.inner_text(".notice") == "Assigned."
    assert SCRIPT_NAME not in await page.inner_text("#calendar")  # no shift yet: the id is the name
    assert str(OFFICER) in await page.inner_text("#calendar")
    audit = await rig.h.bot.duty.store.db.execute_fetchall(
        "SELECT action, actor_id, source FROM roster_audit WHERE guild_id = ? ORDER BY id DESC LIMIT 1", (GUILD,)
    )
    assert tuple(audit[0]) == ("assign", ADMIN, "dashboard")
    await rig.h.fake.wait_for(lambda r: "on the dashboard" in str(r.json), method="POST", path=rf"/channels/{LOG_CH}/")
    await page.click("#assignments button:has-text('Unassign')")
    await page.wait_for_selector(".notice")
    assert await page.inner_text(".notice") == "Unassigned."
    assert "nobody assigned" in await page.inner_text("#calendar")
    assert [e.action for e in await rig.h.bot.rosters.history(GUILD)][:2] == ["unassign", "assign"]


async def test_the_activity_period_shows_each_members_quota(start_dashboard: Any, start_bot: Any, sandbox: Any) -> None:
    """The activity period's board: the quota of the member's roles (2 h for the quota role), met or not."""
    clock = Clock(WED)
    rig = await setup(start_dashboard, start_bot, sandbox, clock)
    await worked(rig, WED - 3 * H, 1)
    admin = await rig.client(ADMIN)

    async def quota_cell() -> str:
        async with admin.get(rig.url(f"/g/{GUILD}/leaderboard?period=activity")) as response:
            text = await response.text()
        assert response.status == 200, text[:300]
        found = re.search(rf'<tr data-member="{OFFICER}">.*?</tr>', text, re.S)
        assert found, text[:500]
        return found.group(0)

    assert "not met (quota 2 h)" in await quota_cell()
    await rig.h.bot.duty.add_time(GUILD, OFFICER, 3600_000, "training", ADMIN)
    row = await quota_cell()
    assert "met (quota 2 h)" in row and "not met" not in row
