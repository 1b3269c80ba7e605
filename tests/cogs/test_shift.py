"""/shift through the offline Discord harness, against the sandbox: what officers and
supervisors see, and what Northca ends up with (every request checked against the spec)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.core.shifts import ShiftRecord
from bot.core.timefmt import duration_text
from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, builders
from tests.helpers.bot import BotStarter, link_guild, make_config
from tests.helpers.clock import Clock
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    GENERAL_CH,
    GUILD,
    LOG_CH,
    MDT,
    MEMBER_PERMS,
    OFFICER,
    OFFICER_M,
    ON_DUTY_ROLE,
    OTHER,
    OTHER_M,
    OWNER,
    SUPERVISOR,
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
)
from tests.helpers.northca import HugeAnswer, plant_backlog, shift_posts
from tests.helpers.posts import log_line
from tests.helpers.waiting import settled, until

pytestmark = pytest.mark.asyncio

SHIFT_CONFIG = {
    "sync_interval_seconds": 0.05,
    "on_duty_role_id": ON_DUTY_ROLE,
    "log_channel_id": LOG_CH,
    "supervisor_role_ids": [SUPERVISOR_ROLE],
}


async def boot(
    start_bot: BotStarter,
    sandbox: NorthcaSandbox,
    *,
    linked: bool = True,
    me_permissions: int | None = None,
    clock: Clock | None = None,
    **shifts: object,
) -> Harness:
    h = await start_bot(shifts={**SHIFT_CONFIG, **shifts}, **({} if clock is None else {"clock": clock}))
    extra = {} if me_permissions is None else {"me_permissions": me_permissions}
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        roles=[
            builders.role(ON_DUTY_ROLE, "On Duty", position=1),
            builders.role(SUPERVISOR_ROLE, "Sergeant", position=2),
        ],
        channels=[
            builders.channel(GENERAL_CH, guild_id=GUILD, name="general"),
            builders.channel(LOG_CH, guild_id=GUILD, name="shift-log"),
        ],
        **extra,
    )
    if linked:
        await link_guild(h.bot, sandbox)
    return h


async def start_shift(h, member=OFFICER_M, **options: Any):
    reply = await h.slash("shift", sub="start", member=member, guild_id=GUILD, **options)
    assert reply.callback_type == 4 and reply.ephemeral, reply
    return reply


async def end_shift(h, member=OFFICER_M):
    """/shift end: the first answer, then the edit with Northca's verdict."""
    first = await h.slash("shift", sub="end", member=member, guild_id=GUILD)
    assert first.callback_type == 4 and first.ephemeral, first
    return first, await first.followup()


def fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embeds[0].get("fields", [])}


async def only_shift(h, member_id: int = OFFICER) -> ShiftRecord:
    rows = await h.bot.db.fetchall("SELECT id FROM shifts WHERE guild_id = ? AND member_id = ?", (GUILD, member_id))
    assert len(rows) == 1
    return await h.bot.shifts.store.get(rows[0]["id"])


# --- lifecycle -------------------------------------------------------------------------------


async def test_start_answers_with_embed_gives_role_and_logs(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    reply = await start_shift(h, department="traffic", callsign="adam-12")
    assert reply.content.startswith("You are on duty since <t:") and reply.content.endswith(":R>.")
    embed = fields(reply)
    assert embed["Department"] == "Traffic" and "Started" not in embed
    # The start time is said once (it was three times: the sentence, the description and a field).
    assert (reply.content + str(reply.embeds)).count("<t:") == 1
    assert embed["Officer"] == "Ofc. Bubbleton" and embed["Callsign"] == "`ADAM-12`"
    assert reply.custom_ids == [f"northca:shift:break:{OFFICER}", f"northca:shift:end:{OFFICER}"]
    role = await h.fake.wait_for(method="PUT", path=rf"/guilds/{GUILD}/members/{OFFICER}/roles/{ON_DUTY_ROLE}$")
    assert role.status == 204 and role.reason == "Shift started"
    assert f"<@{OFFICER}> is on duty (Traffic)" in await log_line(h, "on duty")
    assert shift_posts(sandbox) == []  # nothing is written to Northca at start


async def test_answers_with_no_view_to_keep_do_not_ask_discord_for_the_message_back(start_bot, sandbox):
    """The start's buttons are persistent (dispatched by custom id, no view kept): the first answer goes without
    `with_response` and Discord answers 204 with no body; the message is there all the same, with buttons that
    work, and the end's verdict edit lands on its answer (bot/discord/answer_calls.py)."""
    h = await boot(start_bot, sandbox)
    started = await start_shift(h, department="Patrol")
    assert started.request.status == 204 and "with_response" not in started.request.query
    assert started.message is not None and started.message["components"]
    assert started.custom_ids == [f"northca:shift:break:{OFFICER}", f"northca:shift:end:{OFFICER}"]
    ended = await h.click(f"northca:shift:end:{OFFICER}", member=OFFICER_M, guild_id=GUILD, message=started)
    assert ended.request.status == 204 and ended.content.startswith("Shift ended: ")
    verdict = await ended.followup()
    assert verdict.kind == "edit" and verdict.content.endswith("MDT: ✓ saved")
    assert ended.message is not None and verdict.message is not None
    assert verdict.message["id"] == ended.message["id"]


async def test_department_autocompletes_from_config(start_bot, sandbox):
    h = await boot(start_bot, sandbox, departments=["Patrol", "Park Rangers", "Fire"])
    choices = await h.autocomplete("shift", sub="start", member=OFFICER_M, guild_id=GUILD, department="pa")
    assert [c["value"] for c in choices] == ["Park Rangers", "Patrol"]
    unknown = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, department="Mall Cops")
    assert unknown.ephemeral and "Unknown department" in unknown.content and "Park Rangers" in unknown.content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None


async def test_break_and_end_count_duty_time_and_sync_once(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h, department="Patrol")
    on_break = await h.slash("shift", sub="break", member=OFFICER_M, guild_id=GUILD)
    assert on_break.ephemeral and on_break.content.startswith("☕ On break since <t:")
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    # On break is the state itself (title and amber colour), not "On break: Yes" on a green "On duty" card.
    assert status.embeds[0]["title"] == "On break" and "On break since <t:" in status.embeds[0]["description"]
    back = await h.slash("shift", sub="break", member=OFFICER_M, guild_id=GUILD)
    assert back.content.startswith("Back on duty. Breaks this shift: 1")

    first, verdict = await end_shift(h)
    assert first.content.startswith("Shift ended: ") and first.content.endswith("MDT: saving…")
    assert verdict.content.endswith("MDT: ✓ saved")
    shift = await only_shift(h)
    assert shift.synced and shift.break_count == 1
    assert shift.duration_ms == shift.ended_ms - shift.started_ms - shift.break_ms
    assert f"On duty for **{duration_text(shift.duration_ms)}**" in verdict.embeds[0]["description"]
    assert fields(verdict)["Breaks"].startswith("1 (")
    [stored] = sandbox.shifts(MDT)
    assert (stored["id"], stored["duration_ms"], stored["department"], stored["officer_name"]) == (
        shift.id,
        shift.duration_ms,
        "Patrol",
        "Ofc. Bubbleton",
    )
    assert stored["created_by_discord_id"] == str(OFFICER) and stored["status"] == "completed"
    removed = await h.fake.wait_for(method="DELETE", path=rf"/guilds/{GUILD}/members/{OFFICER}/roles/{ON_DUTY_ROLE}$")
    assert removed.status == 204
    assert "is off duty after" in await log_line(h, "off duty")


async def test_second_start_is_refused_with_the_time_on_duty(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    again = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert again.ephemeral and again.content.startswith("You have been on duty since <t:")
    assert again.custom_ids == []


async def test_end_break_and_status_without_an_open_shift(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    end = await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    assert (
        end.ephemeral
        and end.content == "You are not on duty: there is no open shift to end. Use /shift start to go on duty."
    )
    brk = await h.slash("shift", sub="break", member=OFFICER_M, guild_id=GUILD)
    assert brk.ephemeral and "not on duty" in brk.content
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    assert status.embeds[0]["title"] == "Off duty" and fields(status)["Today (UTC)"] == "0 min"
    assert list(sandbox.requests) == []


async def test_not_linked_server_cannot_start(start_bot, sandbox):
    h = await boot(start_bot, sandbox, linked=False)
    reply = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert reply.ephemeral and reply.content == "This server is not linked to a Northca MDT yet: an admin runs /link"
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None


async def test_another_member_cannot_end_your_shift(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    started = await start_shift(h)
    refused = await h.click(f"northca:shift:end:{OFFICER}", member=OTHER_M, guild_id=GUILD, message=started)
    assert refused.ephemeral and f"This button belongs to <@{OFFICER}>'s shift" in refused.content
    own = await h.slash("shift", sub="end", member=OTHER_M, guild_id=GUILD)
    assert "You are not on duty" in own.content
    not_admin = await h.slash(
        "shift admin end", member=OTHER_M, guild_id=GUILD, options={"member": builders.UserOption(OFFICER_M)}
    )
    assert not_admin.ephemeral and "Manage Server permission or a supervisor role" in not_admin.content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is not None
    # The officer's own button works.
    ended = await h.click(f"northca:shift:end:{OFFICER}", member=OFFICER_M, guild_id=GUILD, message=started)
    assert ended.content.startswith("Shift ended: ")
    assert (await ended.followup()).content.endswith("MDT: ✓ saved")


async def test_admin_end_by_manage_server_or_supervisor_role(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    await start_shift(h, member=OTHER_M)
    first = await h.slash(
        "shift admin end",
        member=ADMIN_M,
        guild_id=GUILD,
        options={"member": builders.UserOption(OFFICER_M), "reason": "forgot to clock off"},
    )
    assert first.ephemeral and first.content.startswith(f"Ended <@{OFFICER}>'s shift: ")
    verdict = await first.followup()
    assert verdict.content.endswith("MDT: ✓ saved")
    assert fields(verdict)["How"] == f"ended by <@{ADMIN}>: forgot to clock off"
    shift = await only_shift(h)
    assert (shift.end_reason, shift.ended_by, shift.end_note) == ("admin", ADMIN, "forgot to clock off")
    assert f"ended by <@{ADMIN}>: forgot to clock off" in await log_line(h, "off duty")
    # A supervisor role is enough, without Manage Server.
    by_sergeant = await h.slash(
        "shift admin end", member=SUPERVISOR_M, guild_id=GUILD, options={"member": builders.UserOption(OTHER_M)}
    )
    assert by_sergeant.content.startswith(f"Ended <@{OTHER}>'s shift")
    nothing = await h.slash(
        "shift admin end", member=ADMIN_M, guild_id=GUILD, options={"member": builders.UserOption(OFFICER_M)}
    )
    assert nothing.ephemeral and nothing.content == f"<@{OFFICER}> is not on duty: there is no open shift to end."
    await settled(h.bot.shifts, (await only_shift(h, OTHER)).id)
    assert len(sandbox.shifts(MDT)) == 2 and len(shift_posts(sandbox)) == 2


async def test_auto_end_at_maximum_length(start_bot, sandbox):
    h = await boot(start_bot, sandbox, max_shift_hours=0.0003)  # 1.08 s
    await start_shift(h)
    line = await log_line(h, "off duty")
    assert "ended automatically: the maximum shift length (0.0003 h) was reached" in line
    await h.fake.wait_for(method="DELETE", path=rf"/guilds/{GUILD}/members/{OFFICER}/roles/{ON_DUTY_ROLE}$")
    shift = await settled(h.bot.shifts, (await only_shift(h)).id)
    assert shift.end_reason == "auto" and shift.duration_ms == 1080 and shift.synced
    assert sandbox.shifts(MDT)[0]["duration_ms"] == 1080


async def test_member_leaving_mid_shift_ends_it(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    h.state.parse_guild_member_remove({"guild_id": str(GUILD), "user": builders.user(OFFICER, "officer")})
    assert "ended because the member left the server" in await log_line(h, "off duty")
    shift = await settled(h.bot.shifts, (await only_shift(h)).id)
    assert shift.end_reason == "left" and shift.synced
    assert h.fake.find("DELETE", r"/roles/") == []  # nobody to take the role from


async def test_bot_removed_from_guild_ends_open_shifts(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    await start_shift(h, member=OTHER_M)
    h.state.parse_guild_delete({"id": str(GUILD)})
    await until(lambda: len(sandbox.shifts(MDT)) == 2, what="both shifts on Northca")
    for member_id in (OFFICER, OTHER):
        shift = await settled(h.bot.shifts, (await only_shift(h, member_id)).id)
        assert shift.end_reason == "bot_removed"


async def test_without_manage_roles_the_role_is_skipped_quietly(start_bot, sandbox, caplog):
    h = await boot(start_bot, sandbox, me_permissions=builders.DEFAULT_APP_PERMISSIONS & ~builders.MANAGE_ROLES)
    reply = await start_shift(h)
    assert reply.content.startswith("You are on duty")
    await log_line(h, "on duty")  # posted after the role step
    assert h.fake.find("PUT", r"/roles/") == []
    assert any("lacks Manage Roles" in r.getMessage() for r in caplog.records)


# --- sync faults ------------------------------------------------------------------------------


async def test_first_answer_never_waits_for_northca(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.faults.latency = 1.0
    first = await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    assert first.ack_time < 0.3, f"answered after {first.ack_time:.2f} s"
    assert first.content.endswith("MDT: saving…")
    assert sandbox.shifts(MDT) == []  # Northca is still busy with it
    assert (await first.followup()).content.endswith("MDT: ✓ saved")


async def test_northca_down_at_end_then_back_synced_exactly_once(start_bot, sandbox):
    clock = Clock()
    h = await boot(start_bot, sandbox, clock=clock)
    await start_shift(h)
    clock.advance(5)
    sandbox.faults.add("500", times=10_000, path=r"/shifts$")
    _first, verdict = await end_shift(h)
    assert verdict.content == "Shift ended: 5 s. MDT: saving… (the MDT is not answering yet; the bot keeps trying)"
    assert sandbox.shifts(MDT) == []
    sandbox.faults.clear()
    clock.advance(120)  # past any retry's backoff
    shift = await settled(h.bot.shifts, (await only_shift(h)).id)
    assert shift.synced
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id]


async def test_commit_then_500_is_synced_exactly_once(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.faults.add("commit_then_500", times=1, method="POST", path=r"/shifts$")
    _first, verdict = await end_shift(h)
    assert verdict.content.endswith("MDT: ✓ saved")  # found by the lookup
    assert len(sandbox.shifts(MDT)) == 1 and len(shift_posts(sandbox)) == 1


async def test_refused_shift_is_kept_listed_and_retried_by_a_supervisor(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.unlink(GUILD, MDT)  # 403 MDT not linked to this guild
    _first, verdict = await end_shift(h)
    assert "the MDT refused it (MDT not linked to this guild)" in verdict.content
    assert "could not be sent to Northca: MDT not linked to this guild" in await log_line(h, "could not be sent")

    refused = await h.slash("shift admin pending", member=OFFICER_M, guild_id=GUILD)
    assert refused.ephemeral and "supervisor role" in refused.content
    pending = await h.slash("shift admin pending", member=ADMIN_M, guild_id=GUILD)
    assert pending.ephemeral and "**failed**" in pending.embeds[0]["description"]
    assert "MDT not linked to this guild" in pending.embeds[0]["description"]
    assert pending.custom_ids == ["northca:shift:retry:all"]

    not_allowed = await h.click("northca:shift:retry:all", member=OFFICER_M, guild_id=GUILD, message=pending)
    assert "supervisor role" in not_allowed.content
    assert (await only_shift(h)).sync_state == "failed"

    sandbox.link(GUILD, MDT)  # the admin fixes the link
    retry = await h.click("northca:shift:retry:all", member=SUPERVISOR_M, guild_id=GUILD, message=pending)
    assert retry.content == "🔁 Sending 1 shift again…"
    result = await retry.followup()
    assert result.content == "Sent 1 shift again: 1 saved on the MDT, 0 refused again, 0 still saving."
    assert "Nothing is waiting" in result.embeds[0]["description"]
    assert len(sandbox.shifts(MDT)) == 1


async def test_restart_between_start_and_end_counts_the_real_duration(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h, department="Fire")
    started = await only_shift(h)
    await h.bot.close()
    h.close()
    h2 = await boot(start_bot, sandbox)
    _first, verdict = await end_shift(h2)
    assert verdict.content.endswith("MDT: ✓ saved")
    shift = await only_shift(h2)
    assert shift.id == started.id and shift.duration_ms == shift.ended_ms - started.started_ms
    [stored] = sandbox.shifts(MDT)
    assert stored["id"] == started.id and stored["department"] == "Fire"


async def test_buttons_of_an_old_answer_work_after_a_restart(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    started = await start_shift(h)
    await h.bot.close()
    h.close()
    h2 = await boot(start_bot, sandbox)
    brk = await h2.click(f"northca:shift:break:{OFFICER}", member=OFFICER_M, guild_id=GUILD, message=started)
    assert brk.content.startswith("☕ On break since <t:")
    ended = await h2.click(f"northca:shift:end:{OFFICER}", member=OFFICER_M, guild_id=GUILD, message=started)
    assert ended.content.startswith("Shift ended: ")
    assert (await ended.followup()).content.endswith("MDT: ✓ saved")
    shift = await only_shift(h2)
    assert shift.break_count == 1 and shift.synced


async def test_start_with_a_pending_link_acknowledges_before_asking_northca(start_bot, sandbox):
    from bot.core.links import LinkStore

    h = await boot(start_bot, sandbox, linked=False)
    await LinkStore(h.bot.db).save_request(GUILD, MDT, "pending-request", "pending", OWNER, ADMIN, None)
    # Requested a while ago, last checked then; approved on Northca meanwhile.
    await h.bot.db.execute(
        "UPDATE guild_links SET checked_at = '2020-01-01T00:00:00.000+00:00' WHERE guild_id = ?", (GUILD,)
    )
    sandbox.link(GUILD, MDT)
    sandbox.faults.latency = 0.5
    first = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert first.callback_type == 5 and first.ephemeral and first.ack_time < 0.3
    final = await first.final()
    assert final.content.startswith("You are on duty since <t:")
    assert (await LinkStore(h.bot.db).get(GUILD)).status == "approved"


LONG_ERROR = "E" * 2500  # Northca's error text; a message carrying it whole is over Discord's 2,000


async def test_end_verdict_shows_a_2500_character_northca_refusal(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.faults.add("error", times=1, method="POST", path=r"/shifts$", status=400, message=LONG_ERROR)
    first, verdict = await end_shift(h)
    assert first.content.endswith("MDT: saving…")
    assert verdict.kind == "edit" and "the MDT refused it (EEEE" in verdict.content
    assert len(verdict.content) <= 2000 and "Your shift is kept and a supervisor sees it." in verdict.content
    assert fields(verdict)["MDT"].startswith("check needed: the MDT refused it (EEEE")
    assert h.bot.db and (await only_shift(h)).last_error == LONG_ERROR  # kept whole for the admins


async def test_shift_log_line_is_posted_with_a_2500_character_northca_refusal(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.faults.add("error", times=1, method="POST", path=r"/shifts$", status=400, message=LONG_ERROR)
    await end_shift(h)
    rec = await h.fake.wait_for(
        lambda r: "could not be sent" in (r.json or {}).get("content", "") and r.ok,
        method="POST",
        path=rf"^/channels/{LOG_CH}/messages$",
    )
    line = h.fake.messages[int(rec.response["id"])]["content"]
    assert line.startswith(f"⚠️ The shift of <@{OFFICER}> could not be sent to Northca: EEEE") and len(line) <= 2000
    assert line.endswith("a supervisor can retry it from /shift admin pending.")


async def test_restart_between_end_and_sync_sends_it_once(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h)
    sandbox.faults.add("500", times=10_000, path=r"/shifts$")
    _first, verdict = await end_shift(h)
    assert "MDT: saving… (the MDT is not answering yet; the bot keeps trying)" in verdict.content
    shift_id = (await only_shift(h)).id
    await h.bot.close()
    h.close()
    sandbox.faults.clear()
    h2 = await boot(start_bot, sandbox)
    assert (await settled(h2.bot.shifts, shift_id)).synced
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift_id]


# --- reading -----------------------------------------------------------------------------------


async def test_status_shows_open_shift_and_totals(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    await start_shift(h, department="EMS")
    reply = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    assert reply.ephemeral and reply.embeds[0]["title"] == "On duty"
    assert reply.embeds[0]["description"].startswith("On duty since <t:")
    got = fields(reply)
    assert "On break" not in got and got["Department"] == "EMS"  # the title says the state (On break when on one)
    assert set(got) >= {"Elapsed on duty", "Today (UTC)", "This week (UTC, from Monday)"}


async def test_list_shows_readable_pages_and_filters_by_member(start_bot, sandbox):
    clock = Clock()  # each shift lasts 30 s of the bot's clock, whatever the machine's speed
    h = await boot(start_bot, sandbox, clock=clock)
    svc = h.bot.shifts
    members = [800000000000000000 + i for i in range(12)]
    for i, m in enumerate(members):
        await svc.start(GUILD, m, display_name=f"Officer *{i}*", department="Patrol")
        clock.advance(30)
        await svc.end(GUILD, m)
    await until(lambda: len(sandbox.shifts(MDT)) == 12, what="twelve shifts on Northca")

    first = await h.slash("shift", sub="list", member=OFFICER_M, guild_id=GUILD)
    assert first.callback_type == 5 and first.ephemeral  # acknowledged before Northca is asked
    page1 = await first.final()
    lines = page1.embeds[0]["description"].splitlines()
    assert len(lines) == 10 and page1.embeds[0]["footer"]["text"].startswith("Page 1 of 2 · 12 shifts")
    assert re.fullmatch(r"\*\*Officer \\\*\d+\\\*\*\* · Patrol · <t:\d+:f> · 30 s", lines[0]), lines[0]
    assert [c["disabled"] for c in page1.components[0]["components"]] == [True, False]
    nxt = next(cid for cid in page1.custom_ids if ":next:" in cid)
    page2 = await (await h.click(nxt, member=OFFICER_M, guild_id=GUILD, message=page1)).final()
    assert len(page2.embeds[0]["description"].splitlines()) == 2
    assert page2.embeds[0]["footer"]["text"].startswith("Page 2 of 2")

    one = await (
        await h.slash(
            "shift",
            sub="list",
            member=OFFICER_M,
            guild_id=GUILD,
            options={"member": builders.UserOption(builders.member(members[3], permissions=MEMBER_PERMS))},
        )
    ).final()
    assert one.embeds[0]["description"].count("\n") == 1  # the filter line and one shift
    assert "Officer \\*3\\*" in one.embeds[0]["description"] and one.custom_ids == []
    none = await (
        await h.slash("shift", sub="list", member=OFFICER_M, guild_id=GUILD, department="Fire", limit=5)
    ).final()
    assert none.embeds[0]["description"].startswith("No shifts found.")
    assert [r.query.get("department") for r in sandbox.requests if r.method == "GET"][-1] == "Fire"


# --- unconfirmed shifts, malformed and huge answers ------------------------------------------


async def _unconfirmed(h, sandbox, member_id: int, post_fault: str) -> ShiftRecord:
    """A shift whose write failed ambiguously, whose lookups failed, and which 200+ newer shifts
    then pushed out of every lookup: held as unconfirmed."""
    svc = h.bot.shifts
    sandbox.faults.add("500", times=10_000, method="GET", path=r"/shifts$")
    sandbox.faults.add(post_fault, times=1, method="POST", path=r"/shifts$")
    shift = await svc.start(GUILD, member_id, display_name=f"Officer {member_id % 100}", department="Patrol")
    await svc.end(GUILD, member_id)
    assert await svc.wait_for_sync(shift.id, 10) is not None
    plant_backlog(sandbox, 205)
    sandbox.faults.clear()
    held = await settled(svc, shift.id)
    assert held.unconfirmed, held
    return held


async def test_unconfirmed_shift_is_listed_and_a_supervisor_decides(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    sandbox.accept_duplicate_shift_ids()  # only the bot stands between a shift and its double
    on_northca = await _unconfirmed(h, sandbox, OFFICER, "commit_then_500")
    not_there = await _unconfirmed(h, sandbox, OTHER, "500")
    assert "may already be on Northca" in await log_line(h, "may already be on Northca")

    pending = await h.slash("shift admin pending", member=SUPERVISOR_M, guild_id=GUILD)
    text = pending.embeds[0]["description"]
    assert text.count("unconfirmed: check on Northca") == 2 and "#1 unconfirmed" in text and "#2 unconfirmed" in text
    assert "cannot tell whether this one is there" in text  # the reason
    assert pending.embeds[0]["footer"]["text"].startswith("2 unconfirmed, 0 failed, 0 waiting")
    assert pending.custom_ids == [
        f"northca:shift:decide:found:{on_northca.id}",
        f"northca:shift:decide:send:{on_northca.id}",
        f"northca:shift:decide:found:{not_there.id}",
        f"northca:shift:decide:send:{not_there.id}",
    ]
    assert [c["label"] for row in pending.components for c in row["components"]] == [
        "#1: It is on Northca",
        "#1: Send anyway",
        "#2: It is on Northca",
        "#2: Send anyway",
    ]

    # The permission is checked again on every press.
    send_first = f"northca:shift:decide:send:{on_northca.id}"
    refused = await h.click(send_first, member=OFFICER_M, guild_id=GUILD, message=pending)
    assert refused.ephemeral and "supervisor role" in refused.content
    assert (await h.bot.shifts.store.get(on_northca.id)).unconfirmed

    found_first = f"northca:shift:decide:found:{on_northca.id}"
    found = await h.click(found_first, member=SUPERVISOR_M, guild_id=GUILD, message=pending)
    assert found.ephemeral and found.content.startswith(f"✅ Marked <@{OFFICER}>'s shift (ended <t:")
    assert "the bot will not send it. Your decision is recorded." in found.content
    assert (await h.bot.shifts.store.get(on_northca.id)).synced

    sent = await h.click(f"northca:shift:decide:send:{not_there.id}", member=ADMIN_M, guild_id=GUILD, message=pending)
    assert sent.ephemeral and sent.content.startswith(f"📤 Sending <@{OTHER}>'s shift")
    assert (await sent.followup()).content.endswith("MDT: ✓ saved")

    again = await h.click(send_first, member=ADMIN_M, guild_id=GUILD, message=pending)
    assert again.ephemeral and "no longer waiting for a decision" in again.content

    # Nothing doubled, nothing dropped; both decisions stored with who and when.
    assert [s["id"] for s in sandbox.shifts(MDT)].count(on_northca.id) == 1
    assert [s["id"] for s in sandbox.shifts(MDT)].count(not_there.id) == 1
    assert len([r for r in shift_posts(sandbox)]) == 3  # the two first attempts and the one approved write
    store = h.bot.shifts.store
    assert [(a, act) for a, act, _, _ in await store.audit_of(GUILD, on_northca.id)] == [(SUPERVISOR, "on_northca")]
    assert [(a, act) for a, act, _, _ in await store.audit_of(GUILD, not_there.id)] == [(ADMIN, "send_anyway")]
    after = await h.slash("shift admin pending", member=ADMIN_M, guild_id=GUILD)
    assert "Nothing is waiting" in after.embeds[0]["description"]


async def test_shift_list_shows_the_readable_shifts_when_one_record_is_malformed(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    svc = h.bot.shifts
    for m in (OFFICER, OTHER):
        await svc.start(GUILD, m, display_name=f"Officer {m % 100}", department="Patrol")
        await svc.end(GUILD, m)
    await until(lambda: len(sandbox.shifts(MDT)) == 2, what="two shifts on Northca")
    sandbox.plant_shift(MDT, {"id": "bad-1", "officer_name": "Broken", "duration_ms": "two hours"})
    reply = await (await h.slash("shift", sub="list", member=OFFICER_M, guild_id=GUILD)).final()
    assert reply.embeds, reply.content
    assert len(reply.embeds[0]["description"].splitlines()) == 2 and "Broken" not in reply.embeds[0]["description"]
    assert "1 record from the MDT left out (unreadable)" in reply.embeds[0]["footer"]["text"]


async def test_huge_answer_does_not_stall_the_bot(start_bot, sandbox, db_path):
    huge = HugeAnswer(48 * 1024 * 1024, announce_length=False)
    await huge.start()
    try:
        config = make_config(sandbox, db_path, northca={"base_url": huge.base_url}, shifts=SHIFT_CONFIG)
        h = await start_bot(config=config)
        h.add_guild(GUILD, name="Test County RP", owner_id=ADMIN)
        await link_guild(h.bot, sandbox)
        # Three huge answers at once, and meanwhile an officer's interaction.
        lists = [await h.slash("shift", sub="list", member=OFFICER_M, guild_id=GUILD) for _ in range(3)]
        status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
        assert status.callback_type == 4 and status.embeds[0]["title"] == "Off duty"
        assert status.ack_time < 3.0  # Discord's window for a first answer
        for first in lists:
            final = await first.final()
            assert final.ephemeral and "larger than 4 MiB" in final.content and "refused unread" in final.content
        await until(lambda: len(huge.sent) == 3, timeout=30, what="the three answers to end")
        assert huge.requests == 3 and max(huge.sent) < huge.size  # not retried, and never read whole
    finally:
        await huge.stop()
