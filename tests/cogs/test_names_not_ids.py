"""Names, mentions and short per-server numbers where people read them, never raw ids or UUIDs, through the
harness: the short number (LOA #N) on a leave request and the leave list, the void autocomplete naming the
member (or "a former member") and the start in the server's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.helpers.clock import Clock
from tests.helpers.duty_ui import boot_duty_guild
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    GUILD,
    LOG_CH,
    MDT,
    OFFICER,
    OFFICER_M,
    OTHER,
    REPORTS_CH,
    SUPERVISOR_M,
    member_m,
)
from tests.helpers.posts import posts_to
from tests.helpers.shift_duty import boot_shift_duty

WED = datetime(2025, 1, 15, 10, tzinfo=UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


async def test_leave_requests_are_numbered_per_server_and_named_by_number(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M, member_m(OTHER, name="other")], clock=Clock(WED))
    for member in (OFFICER_M, member_m(OTHER, name="other")):
        await h.slash(
            "loa request", member=member, guild_id=GUILD, start="2025-01-20", end="2025-01-21", reason="exams"
        )
    posted = [r for r in posts_to(h, REPORTS_CH) if (r.json or {}).get("components")]
    assert [p.json["embeds"][0]["footer"]["text"] for p in posted] == ["LOA #1", "LOA #2"]
    assert not UUID.search(str([p.json["embeds"] for p in posted]))

    message = posted[0].response
    approve = next(
        c["custom_id"] for row in message["components"] for c in row["components"] if "approve" in c["custom_id"]
    )
    await (await h.click(approve, message=message, member=SUPERVISOR_M)).followup()
    [line] = [r.json["content"] for r in posts_to(h, LOG_CH) if "approved the leave" in r.json["content"]]
    assert line.endswith("(LOA #1).") and not UUID.search(line)

    again = await (
        await h.slash("loa request", member=OFFICER_M, guild_id=GUILD, start="2025-01-21", end="2025-01-22", reason="x")
    ).final()
    assert "(LOA #1)" in again.content and not UUID.search(again.content)

    listed = (await (await h.slash("loa list", member=OFFICER_M, guild_id=GUILD)).final()).embeds[0]["description"]
    assert any(line.startswith(f"LOA #1 · <@{OFFICER}>: 20–21 Jan 2025, 2 days") for line in listed.splitlines())
    assert not UUID.search(listed)


async def test_void_autocomplete_names_the_member_and_the_local_start_never_an_id(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await h.bot.settings.set_shifts(GUILD, ADMIN, timezone="America/New_York")
    start = datetime(2025, 1, 15, 3, 5, tzinfo=UTC)  # 22:05 on the 14th in New York
    gone = 123456789012345678  # a member who has left the server
    await h.bot.shifts.start(GUILD, gone, display_name="gone", at=start)
    await h.bot.shifts.end(GUILD, gone, at=start + timedelta(hours=2, minutes=10))
    choices = await h.autocomplete("shift", group="admin", sub="void", focused="shift", member=ADMIN_M,
                                   guild_id=GUILD, options={"shift": "", "reason": "x"})  # fmt: skip
    [choice] = choices
    assert choice["name"] == "a former member · 14 Jan 2025 22:05 · 2 h 10 min"
    assert str(gone) not in choice["name"] and not UUID.search(choice["name"])


async def test_a_supervisor_looks_up_the_northca_id_of_call_12_and_a_member_cannot(start_bot, sandbox):
    from tests.harness import builders
    from tests.helpers.dispatch import dispatch_ready, posts_in
    from tests.helpers.ids import DISPATCH_CH, MEMBER_PERMS, SUPERVISOR_ROLE

    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    created = await h.slash(
        "call create", member=OFFICER_M, guild_id=GUILD, classification="10-50", description="Two cars",
        location="Main St", priority="P1", call_type="police",
    )  # fmt: skip
    assert created.ephemeral
    [card] = posts_in(h, DISPATCH_CH)
    assert card.json["embeds"][0]["footer"]["text"].startswith("Call #1 · MDT: ")
    [call] = sandbox.calls(MDT)

    refused = await h.slash("call lookup", member=OFFICER_M, guild_id=GUILD, number=1)
    assert refused.ephemeral and call["id"] not in refused.content
    sergeant = builders.member(OTHER, permissions=MEMBER_PERMS, username="sgt", roles=[SUPERVISOR_ROLE])
    found = await (await h.slash("call lookup", member=sergeant, guild_id=GUILD, number=1)).final()
    assert found.ephemeral and found.content.startswith("**Call #1** by ")
    assert f"Northca id: `{call['id']}` (MDT `{MDT}`)" in found.content
    missing = await h.slash("call lookup", member=sergeant, guild_id=GUILD, number=2, kind="ticket")
    assert missing.ephemeral and missing.content == "This server has no ticket #2."
