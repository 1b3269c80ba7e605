"""What members read, without the plumbing: public cards say the MDT's state in one short phrase, the technical
detail is behind a button only supervisors may use (checked at the press); plurals and durations as people write
them; errors in sentence case naming options as Discord shows them."""

from __future__ import annotations

from tests.harness import builders
from tests.helpers.dispatch import body, card_edit, created, dispatch_ready, posts_in
from tests.helpers.ids import DISPATCH_CH, GUILD, MDT, MEMBER_PERMS, OFFICER, OFFICER_M, OTHER, SUPERVISOR_ROLE

OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="other", nick="Ofc. Other")
SERGEANT_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="other", roles=[SUPERVISOR_ROLE])

PLUMBING = ("retried automatically", "not sent again", "unconfirmed", "outbox", "Northca may", "sync")


async def test_call_card_says_mdt_check_needed_and_only_a_supervisor_gets_the_detail(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    sandbox.faults.add("commit_then_500", times=1, path="/calls$")
    reply = await h.slash(
        "call create",
        member=OFFICER_M,
        guild_id=GUILD,
        classification="10-50 collision",
        description="Two cars",
        location="Main St / 5th",
        priority="P1",
        call_type="police",
    )
    await reply.final()
    [card] = posts_in(h, DISPATCH_CH)
    edit = await card_edit(h, card.response["id"], lambda e: "MDT: check needed" in e["footer"]["text"])
    embed = edit.json["embeds"][0]
    public = str(embed)
    assert not any(word in public for word in PLUMBING), public
    assert not any(f["name"] == "Northca" for f in embed.get("fields", []))
    call_id = body(created(sandbox, "calls")[0])["id"]
    details = [
        c["custom_id"] for row in edit.json["components"] for c in row["components"] if c.get("label") == "MDT details"
    ]
    assert details, edit.json["components"]
    # An officer without a supervisor role is refused, and sees no detail.
    refused = await (await h.click(details[0], member=OTHER_M, message=card.response)).final()
    assert refused.ephemeral and "supervisor" in refused.content and call_id not in refused.content
    # A supervisor gets the detail privately: the Northca id and what happened.
    shown = await (await h.click(details[0], member=SERGEANT_M, message=card.response)).final()
    assert shown.ephemeral and call_id in shown.content and MDT in shown.content
    assert "does not send it again" in shown.content and "Internal server error" in shown.content


async def test_call_card_on_a_healthy_northca_says_saved(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    reply = await h.slash(
        "call create",
        member=OFFICER_M,
        guild_id=GUILD,
        classification="10-50",
        description="Two cars",
        location="Main St",
        priority="P2",
        call_type="police",
    )
    await reply.final()
    [card] = posts_in(h, DISPATCH_CH)
    await card_edit(h, card.response["id"], lambda e: e["footer"]["text"] == "Call #1 · MDT: ✓ saved")


def test_counts_and_durations_read_as_people_write_them():
    from bot.core.timefmt import duration_text
    from bot.discord.discord_text import counted

    assert [counted(1, "shift"), counted(3, "shift"), counted(0, "member")] == ["1 shift", "3 shifts", "0 members"]
    assert counted(2, "status", "statuses") == "2 statuses"
    # A real span under a second is not "0 s" (nothing happened); durations as people write them.
    assert duration_text(400) == "1 s"
    assert [duration_text(45 * 60_000), duration_text(130 * 60_000)] == ["45 min", "2 h 10 min"]


async def test_call_priority_is_picked_from_fixed_choices(start_bot, sandbox):
    h = await start_bot()
    [create] = [c for c in h.bot.tree.get_commands() if c.name == "call"]
    priority = next(p for p in create.get_command("create").parameters if p.name == "priority")
    # Discord shows fixed choices as a list to pick from: nobody types "P1" by hand (or "p 1", "high"...).
    assert [(c.name, c.value) for c in priority.choices] == [
        ("P1 · Emergency", "P1"),
        ("P2 · Urgent", "P2"),
        ("P3 · Routine", "P3"),
        ("P4 · Low", "P4"),
    ]


async def test_ticket_form_priority_is_a_labelled_select_and_reaches_northca(start_bot, sandbox):
    from tests.helpers.dispatch import dispatch_ready as ready

    h = await start_bot()
    await ready(h, sandbox, {OFFICER: "ADAM-12"})
    form = await h.slash("ticket", member=OFFICER_M, guild_id=GUILD)
    labels = [c for c in form.modal["components"] if c["type"] == 18]
    [priority] = [c for c in labels if c["label"] == "Priority"]
    select = priority["component"]
    assert select["type"] == 3 and [o["value"] for o in select["options"]] == ["P1", "P2", "P3", "P4"]
    assert select.get("required") is False
    done = await (
        await h.submit_modal(form, {"Title": "Parking", "Description": "Hydrant", "Priority": ["P3"]}, member=OFFICER_M)
    ).final()
    assert "Priority: P3 · Routine" in done.content
    await until_ticket(sandbox)
    [ticket] = sandbox.dispatch_records("tickets", MDT)
    assert ticket["priority"] == "P3"


async def until_ticket(sandbox):
    from tests.helpers.waiting import until

    await until(lambda: len(sandbox.dispatch_records("tickets", MDT)) == 1, 10, "the ticket")
