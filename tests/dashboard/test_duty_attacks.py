"""The duty pages refuse what they must and change nothing then: a user of another server changing the server id
in the URL, or a shift, leave or scheduled-shift id (or a member or role of another server) in a form of their
own server; a form without the right CSRF token; a supervisor deciding their own leave; bad query values; and
names carrying markup, shown as text."""

from __future__ import annotations

from typing import Any

from bot.core.rosters.records import TemplateDraft
from tests.dashboard.helpers import A_DUTY, CITY, COUNTY
from tests.dashboard.test_attacks import post, rig_with_servers
from tests.helpers.bot import link_guild_in
from tests.helpers.ids import ADMIN, OFFICER, OTHER

COUNTY_PAGES = ("leaderboard", "shifts", "leave", "rosters", "exports", "exports/duty.csv")


async def county_records(rig: Any, sandbox: Any) -> tuple[str, str, int]:
    """In County A: an ended shift of OFFICER (named like a script), a pending leave of OFFICER, a scheduled
    shift. Their ids."""
    bot = rig.h.bot
    await link_guild_in(bot.db, sandbox, guild_id=COUNTY)
    await bot.shifts.start(COUNTY, OFFICER, display_name="<script>alert(1)</script>")
    shift = await bot.shifts.end(COUNTY, OFFICER)
    leave = await bot.leave.request(COUNTY, OFFICER, "today", "tomorrow", "exams")
    template = await bot.rosters.create(COUNTY, ADMIN, TemplateDraft("Night", None, 22 * 60, 480))
    return str(shift.id), leave.id, template.id


async def nothing_changed(rig: Any, leave_id: str) -> None:
    db = rig.h.bot.db
    assert await db.execute_fetchall("SELECT id FROM duty_adjustments") == []
    [status] = await db.execute_fetchall("SELECT status FROM leaves WHERE id = ?", (leave_id,))
    assert status[0] == "pending"
    assert await db.execute_fetchall("SELECT template_id FROM roster_assignments") == []


async def test_a_user_of_another_server_changes_nothing_by_url_or_by_ids_in_a_form(
    start_dashboard: Any, sandbox: Any
) -> None:
    rig = await rig_with_servers(start_dashboard)
    shift_id, leave_id, template_id = await county_records(rig, sandbox)
    other = await rig.client(OTHER)  # owns City B only
    csrf = await rig.csrf(other)
    for page in COUNTY_PAGES:
        async with other.get(rig.url(f"/g/{COUNTY}/{page}")) as response:
            text = await response.text()
            assert response.status == 403, page
            assert "exams" not in text and "Night" not in text and shift_id not in text
    writes = {
        "shifts/adjust": {"kind": "add", "member": str(OFFICER), "duration": "5h", "reason": "x"},
        "shifts/void": {"shift": shift_id, "reason": "x"},
        "leave/decide": {"leave": leave_id, "decision": "approve"},
        "rosters/assign": {"template": str(template_id), "member": str(OFFICER)},
    }
    for path, form in writes.items():
        status, _ = await post(other, rig.url(f"/g/{COUNTY}/{path}"), {**form, "csrf": csrf})
        assert status == 403, path
    # Their own server's forms, naming County A's records: each refused as not this server's.
    refusals = {
        "shifts/void": ({"shift": shift_id, "reason": "x"}, "There is no shift"),
        "leave/decide": ({"leave": leave_id, "decision": "approve"}, "does not exist in this server"),
        "rosters/assign": ({"template": str(template_id), "member": str(OFFICER)}, "is not on this server"),
        "shifts/adjust": (
            {"kind": "add", "member": str(ADMIN), "duration": "5h", "reason": "x"},
            "not a member of this server",
        ),
    }
    for path, (form, said) in refusals.items():
        status, text = await post(other, rig.url(f"/g/{CITY}/{path}"), {**form, "csrf": csrf, "guild_id": str(COUNTY)})
        assert status == 400 and said in text, (path, text[:300])
    city_template = await rig.h.bot.rosters.create(CITY, OTHER, TemplateDraft("Day", None, 8 * 60, 480))
    status, text = await post(
        other,
        rig.url(f"/g/{CITY}/rosters/assign"),
        {"template": str(city_template.id), "role": str(A_DUTY), "csrf": csrf},
    )
    assert status == 400 and "not one of this server" in text
    await nothing_changed(rig, leave_id)


async def test_a_form_without_the_right_csrf_token_changes_nothing(start_dashboard: Any, sandbox: Any) -> None:
    rig = await rig_with_servers(start_dashboard)
    shift_id, leave_id, template_id = await county_records(rig, sandbox)
    admin = await rig.client(ADMIN)
    csrf = await rig.csrf(admin)
    writes = {
        "shifts/adjust": {"kind": "add", "member": str(OFFICER), "duration": "5h", "reason": "x"},
        "shifts/void": {"shift": shift_id, "reason": "x"},
        "leave/decide": {"leave": leave_id, "decision": "approve"},
        "rosters/assign": {"template": str(template_id), "member": str(OFFICER)},
    }
    for path, form in writes.items():
        for token in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
            status, text = await post(admin, rig.url(f"/g/{COUNTY}/{path}"), {**form, **token})
            assert status == 403 and "did not come from this page" in text, (path, token)
    await nothing_changed(rig, leave_id)
    # The same form with the token goes through: the refusals above were the token's.
    status, _ = await post(admin, rig.url(f"/g/{COUNTY}/leave/decide"), {**writes["leave/decide"], "csrf": csrf})
    assert status == 303


async def test_a_supervisor_cannot_decide_their_own_leave_on_the_web(start_dashboard: Any, sandbox: Any) -> None:
    rig = await rig_with_servers(start_dashboard)
    own = await rig.h.bot.leave.request(COUNTY, ADMIN, "today", "tomorrow", "holiday")
    admin = await rig.client(ADMIN)
    async with admin.get(rig.url(f"/g/{COUNTY}/leave")) as response:
        text = await response.text()
    assert "Your own request: another supervisor decides." in text and f'value="{own.id}"' not in text
    csrf = await rig.csrf(admin)
    status, text = await post(
        admin, rig.url(f"/g/{COUNTY}/leave/decide"), {"leave": own.id, "decision": "approve", "csrf": csrf}
    )
    assert status == 400 and "cannot decide your own leave request" in text
    [leave] = await rig.h.bot.leave.listed(COUNTY)
    assert leave.status == "pending"


async def test_names_with_markup_are_text_and_bad_query_values_are_refused_plainly(
    start_dashboard: Any, sandbox: Any
) -> None:
    rig = await rig_with_servers(start_dashboard)
    await county_records(rig, sandbox)
    admin = await rig.client(ADMIN)
    for page in ("leaderboard", "shifts"):
        async with admin.get(rig.url(f"/g/{COUNTY}/{page}")) as response:
            text = await response.text()
        assert response.status == 200 and "<script>alert(1)" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, page
    for path, said in (
        ("leaderboard?period=forever", "Pick a period from the list"),
        ("leaderboard?department=<b>Nope</b>", "Nope"),
        ("shifts?member=abc", "must be a Discord user id"),
        ("shifts?from=2025-13-01", "YYYY-MM-DD"),
        ("shifts?from=2025-02-01&to=2025-01-01", "is before the start"),
        ("shifts?after=1.a'--", "page link is not valid"),
        ("exports/duty.csv?period=all_time&member=1e9", "must be a Discord user id"),
    ):
        async with admin.get(rig.url(f"/g/{COUNTY}/{path}")) as response:
            text = await response.text()
        assert response.status == 400 and said in text and "<b>Nope</b>" not in text, (path, text[:300])
