"""/link, its Approve button, link status and /unlink, driven as Discord would."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.core.links import LinkStore
from tests.harness import builders
from tests.helpers.ids import ADMIN, ADMIN_M, ADMIN_PERMS, GUILD, KEY, MDT, MEMBER_PERMS, OFFICER, OWNER

pytestmark = pytest.mark.asyncio

OWNER_M = builders.member(OWNER, permissions=MEMBER_PERMS, username="owner")
OFFICER_M = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer")


async def request_link(h, mdt_id: str = MDT):
    """Run `/link mdt_id` as the admin; returns (private answer, public request message)."""
    first = await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=mdt_id)
    assert first.callback_type == 5 and first.ephemeral  # acknowledged before Northca is asked
    private = await first.final()
    public = await first.followup()
    return private, public


async def stored(h):
    return await LinkStore(h.bot.db).get(GUILD)


async def test_link_posts_request_for_the_owner(start_bot, sandbox):
    h = await start_bot()
    private, public = await request_link(h)
    assert private.ephemeral and "Link request sent" in private.content
    assert not public.ephemeral
    assert f"<@{OWNER}>" in public.content
    embed = public.embeds[0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Status"].startswith("⏳") and fields["MDT owner"] == f"<@{OWNER}>"
    assert fields["Expires"].startswith("<t:") and fields["Expires"].endswith(":R>")
    request_id = sandbox.link_requests()[0]["id"]
    assert public.custom_ids == [f"northca:link:approve:{request_id}"]
    link = await stored(h)
    assert (link.mdt_id, link.status, link.request_id, link.owner_discord_id, link.requested_by) == (
        MDT,
        "pending",
        request_id,
        OWNER,
        ADMIN,
    )
    assert sandbox.requests[-1].headers["x-discord-actor"] == str(ADMIN)


async def test_invalid_id_is_refused_before_any_call(start_bot, sandbox):
    h = await start_bot()
    reply = await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id="two words")
    assert reply.callback_type == 4 and reply.ephemeral
    assert "no spaces" in reply.content
    assert len(sandbox.requests) == 0 and await stored(h) is None


async def test_unknown_mdt_shows_northca_message(start_bot):
    h = await start_bot()
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id="no-such-mdt")).final()
    assert reply.ephemeral and reply.content == "The MDT refused this: that MDT id is not valid."
    assert await stored(h) is None


async def test_northca_down_is_told_plainly(start_bot, sandbox):
    h = await start_bot()
    sandbox.faults.add("500", times=1)
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT)).final()
    assert reply.ephemeral and "Northca is not answering right now" in reply.content
    assert len(sandbox.requests) == 1 and await stored(h) is None


async def test_link_answers_when_northca_sends_a_2500_character_error(start_bot, sandbox):
    # Discord refuses a message over 2,000 characters: the answer must be fitted, not left "thinking".
    h = await start_bot()
    sandbox.faults.add("error", times=1, method="POST", path=r"/link-requests$", status=400, message="E" * 2500)
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT)).final()
    assert reply.ephemeral and reply.content.startswith("The MDT refused this: EEEE")
    assert len(reply.content) <= 2000 and reply.content.endswith("….")
    assert await stored(h) is None


async def test_answer_discord_refuses_falls_back_to_a_short_message(start_bot, sandbox):
    h = await start_bot()
    # Discord refuses the first followup (the private answer) as an invalid form body, once.
    h.fake.fail_next(r"^/webhooks/\d+/[^/]+$", 400, method="POST", code=50035)
    private = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT)).final()
    assert private.ephemeral and private.content.startswith(f"Link request sent for MDT `{MDT}`")
    assert private.content.endswith("(Discord refused the full answer; the bot's log has the details.)")
    assert (await stored(h)).status == "pending"


async def test_member_without_manage_server_is_refused(start_bot, sandbox):
    h = await start_bot()
    reply = await h.slash("link", member=OFFICER_M, guild_id=GUILD, mdt_id=MDT)
    assert reply.ephemeral and "Manage Server" in reply.content
    assert len(sandbox.requests) == 0


async def test_link_in_dm_is_refused(start_bot, sandbox):
    h = await start_bot()
    reply = await h.slash("link", user=builders.user(ADMIN, "admin"), mdt_id=MDT)
    assert reply.ephemeral and "in a server only" in reply.content
    assert len(sandbox.requests) == 0


async def test_only_the_owner_can_approve(start_bot, sandbox):
    h = await start_bot()
    _, public = await request_link(h)
    approve = public.custom_ids[0]
    refused = await h.click(approve, member=ADMIN_M, guild_id=GUILD, message=public)
    assert refused.ephemeral and f"Only the MDT owner, <@{OWNER}>" in refused.content
    assert not sandbox.is_linked(GUILD, MDT)

    pressed = await h.click(approve, member=OWNER_M, guild_id=GUILD, message=public)
    assert pressed.callback_type == 6  # acknowledged before Northca is asked
    edit = await pressed.final()
    assert edit.kind == "edit" and edit.components == []
    assert {f["name"]: f["value"] for f in edit.embeds[0]["fields"]}["Status"] == "✅ Linked"
    note = await pressed.followup()
    assert note.ephemeral and f"linked to MDT `{MDT}`" in note.content
    assert sandbox.is_linked(GUILD, MDT) and (await stored(h)).status == "approved"
    assert sandbox.requests[-1].headers["x-discord-actor"] == str(OWNER)


@pytest.mark.parametrize(
    ("decision", "message", "status"),
    [
        ("expired", "has expired", "expired"),
        ("denied", "was denied", "denied"),
        ("approved", "already approved", "approved"),
    ],
)
async def test_approve_after_northca_decided(start_bot, sandbox, decision, message, status):
    h = await start_bot()
    _, public = await request_link(h)
    sandbox.decide(sandbox.link_requests()[0]["id"], decision)
    pressed = await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)
    answer = await pressed.final()
    if decision == "approved":
        answer = await pressed.followup()
    assert answer.ephemeral and message in answer.content
    assert (await stored(h)).status == status


async def test_approve_button_survives_restart(start_bot, sandbox):
    h = await start_bot()
    _, public = await request_link(h)
    await h.bot.close()
    h2 = await start_bot()  # a new process, same database
    pressed = await h2.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public.message)
    assert (await pressed.final()).kind == "edit"
    assert sandbox.is_linked(GUILD, MDT)


async def test_link_status_before_and_after_approval(start_bot, sandbox):
    h = await start_bot()
    none_yet = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert none_yet.ephemeral and "not linked to a Northca MDT yet" in none_yet.content

    _, _public = await request_link(h)
    before = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    fields = {f["name"]: f["value"] for f in before.embeds[0]["fields"]}
    assert before.ephemeral and fields["Status"].startswith("⏳")
    assert fields["Checked live"] == "Northca does not list this link (yet)."

    # Approved on Northca itself (not with the button): the live check notices.
    sandbox.decide(sandbox.link_requests()[0]["id"], "approved")
    after = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    fields = {f["name"]: f["value"] for f in after.embeds[0]["fields"]}
    assert fields["Status"] == "✅ Linked" and fields["Checked live"] == "Northca confirms the link."
    assert (await stored(h)).status == "approved"


async def test_link_status_when_northca_is_down_shows_stored(start_bot, sandbox):
    h = await start_bot()
    await request_link(h)
    sandbox.faults.add("html502", times=20)
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert fields["Status"].startswith("⏳") and fields["Checked live"].startswith("Could not ask Northca")


async def test_unlink_by_admin_forgets_locally(start_bot, sandbox):
    h = await start_bot()
    _, public = await request_link(h)
    await (await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)).final()

    ask = await h.slash("unlink", member=ADMIN_M, guild_id=GUILD)
    confirm = f"northca:link:unlink:confirm:{(await stored(h)).fingerprint}"
    assert ask.ephemeral and ask.custom_ids == [confirm, "northca:link:unlink:cancel"]
    # The button re-checks the permission the command checked.
    refused = await h.click(confirm, member=OFFICER_M, guild_id=GUILD, message=ask)
    assert refused.ephemeral and "Manage Server" in refused.content and await stored(h) is not None

    done = await (await h.click(confirm, member=ADMIN_M, guild_id=GUILD, message=ask)).final()
    assert f"Unlinked MDT `{MDT}`" in done.content and f"<@{OWNER}>" in done.content
    assert await stored(h) is None
    assert sandbox.is_linked(GUILD, MDT)  # only the owner may unlink on Northca


async def test_unlink_by_owner_unlinks_on_northca(start_bot, sandbox):
    h = await start_bot()
    _, public = await request_link(h)
    await (await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)).final()
    owner_admin = builders.member(OWNER, permissions=ADMIN_PERMS, username="owner")
    ask = await h.slash("unlink", member=owner_admin, guild_id=GUILD)
    done = await (await h.click(ask.custom_ids[0], member=owner_admin, guild_id=GUILD, message=ask)).final()
    assert "Northca removed the link too" in done.content
    assert not sandbox.is_linked(GUILD, MDT) and await stored(h) is None


async def test_unlink_cancel_changes_nothing(start_bot, sandbox):
    h = await start_bot()
    await request_link(h)
    ask = await h.slash("unlink", member=ADMIN_M, guild_id=GUILD)
    cancelled = await h.click("northca:link:unlink:cancel", member=ADMIN_M, guild_id=GUILD, message=ask)
    assert cancelled.callback_type == 7 and "nothing changed" in cancelled.content
    assert await stored(h) is not None


async def test_unexpected_error_shows_a_trace_id_that_is_logged(start_bot, caplog):
    h = await start_bot()
    await h.bot.db.execute("DROP TABLE guild_links")  # a broken database: nothing a user did
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert reply.ephemeral and "Something went wrong on our side (trace `" in reply.content
    trace = reply.content.split("`")[1]
    assert any(trace in r.getMessage() and r.exc_info for r in caplog.records)


async def test_secrets_never_logged_or_shown(start_bot, sandbox, caplog):

    h = await start_bot()
    sandbox.faults.add("500", times=1)
    replies = [await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT)).final()]
    _, public = await request_link(h)
    replies.append(public)
    replies.append(await (await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)).final())
    shown = " ".join(str(r.data) for r in replies)
    logged = " ".join(r.getMessage() for r in caplog.records)
    for secret in (KEY, "test-bot-token"):
        assert secret not in shown and secret not in logged


# --- races, re-linking, on-demand live checks, unknown statuses ---------------------

MDT_B = "mdt-b-7d1e"
OWNER_B = 888888888888888888  # the owner of the second MDT


async def officer_start(h):
    """/shift start as an officer: the final answer (the command may defer to check the link)."""
    return await (await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)).final()


def guild_mdt_checks(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method == "GET" and r.path.endswith("/mdts"))


async def test_approve_racing_a_new_link_does_not_mark_the_wrong_mdt_approved(start_bot, sandbox):
    sandbox.add_mdt(MDT_B, OWNER_B)
    h = await start_bot()
    _, public = await request_link(h)  # MDT A, pending
    held = sandbox.faults.hold(r"/confirm$")
    pressed = await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)
    assert pressed.callback_type == 6
    await asyncio.wait_for(held.arrived.wait(), 10)  # the owner's approval is on its way to Northca ...
    await request_link(h, MDT_B)  # ... while the admin's /link for MDT B is created and stored
    held.release()
    answer = await pressed.final()

    assert sandbox.is_linked(GUILD, MDT) and not sandbox.is_linked(GUILD, MDT_B)
    link = await stored(h)
    assert (link.mdt_id, link.status) == (MDT_B, "pending")  # not "MDT B, approved"
    assert answer.ephemeral and f"Northca approved linking MDT `{MDT}`" in answer.content
    assert f"asked to link MDT `{MDT_B}` instead" in answer.content


async def test_live_check_racing_a_new_link_does_not_mark_the_wrong_mdt_approved(start_bot, sandbox):
    sandbox.add_mdt(MDT_B, OWNER_B)
    h = await start_bot()
    await request_link(h)
    sandbox.decide(sandbox.link_requests()[0]["id"], "approved")  # A approved on Northca itself
    held = sandbox.faults.hold(r"/guilds/\d+/mdts$")
    status = await h.slash("link", member=ADMIN_M, guild_id=GUILD)  # the live check of A is out ...
    await asyncio.wait_for(held.arrived.wait(), 10)
    await request_link(h, MDT_B)  # ... while /link for MDT B is stored
    held.release()
    shown = await status.final()

    link = await stored(h)
    assert (link.mdt_id, link.status) == (MDT_B, "pending")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["MDT"] == f"`{MDT_B}`" and fields["Status"].startswith("⏳")


async def test_unlink_confirm_never_removes_a_link_it_did_not_show(start_bot, sandbox):
    sandbox.add_mdt(MDT_B, OWNER_B)
    h = await start_bot()
    await request_link(h)
    ask = await h.slash("unlink", member=ADMIN_M, guild_id=GUILD)  # "Unlink MDT A?"
    assert f"`{MDT}`" in ask.content
    await request_link(h, MDT_B)  # meanwhile another admin asks for MDT B
    answer = await (await h.click(ask.custom_ids[0], member=ADMIN_M, guild_id=GUILD, message=ask)).final()
    assert answer.ephemeral and "changed since /unlink asked" in answer.content and f"`{MDT_B}`" in answer.content
    assert (await stored(h)).mdt_id == MDT_B


async def test_relinking_the_linked_mdt_is_answered_already_linked_and_changes_nothing(start_bot, sandbox):
    h = await start_bot()
    _, public = await request_link(h)
    await (await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)).final()
    before = await stored(h)
    assert before.approved

    again = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT)).final()
    assert again.ephemeral and f"already linked to MDT `{MDT}`" in again.content and "nothing changed" in again.content
    assert [f.ephemeral for f in again.followups] == [True]  # no new public request posted
    assert await stored(h) == before and len(sandbox.link_requests()) == 1
    # Officers keep working.
    assert (await officer_start(h)).content.startswith("You are on duty since <t:")


async def test_owner_approval_on_northca_is_seen_by_the_next_command_at_once(start_bot, sandbox):
    h = await start_bot()
    await request_link(h)  # just checked (pending) when it was stored
    sandbox.decide(sandbox.link_requests()[0]["id"], "approved")  # the owner approves on Northca itself
    first = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert first.callback_type == 5  # acknowledged before Northca is asked
    assert (await first.final()).content.startswith("You are on duty since <t:")
    assert (await stored(h)).status == "approved"


async def test_pending_link_live_checks_cannot_hammer_northca(start_bot, sandbox):
    h = await start_bot()
    h.bot.links.recheck_gap = 3600  # "a short gap", made long so the count cannot depend on speed
    await request_link(h)
    answers = await asyncio.gather(*(officer_start(h) for _ in range(5)))
    answers.append(await officer_start(h))
    assert all("not linked to a Northca MDT yet" in a.content for a in answers)
    assert guild_mdt_checks(sandbox) == 1  # one live check for six commands


async def test_pending_link_live_check_never_holds_an_interaction_past_its_budget(start_bot, sandbox):
    h = await start_bot()
    await request_link(h)
    held = sandbox.faults.hold(r"/guilds/\d+/mdts$")  # Northca does not answer the live check
    try:
        reply = await h.slash("status", sub="set", member=OFFICER_M, guild_id=GUILD, code="10-8")
        # Answered while Northca still holds the check: the budget, not Northca, decided. The budget and the
        # answer-in-time rule (bot/discord/interactions.py) are both 1.5 s: the answer comes at once or as the
        # deferral's edit.
        assert reply.callback_type in (4, 5) and reply.ephemeral
        final = await reply.final()
        assert final.ephemeral and "not linked to a Northca MDT yet" in final.content
        assert held.arrived.is_set() and not held.released.is_set()
    finally:
        held.release()


async def test_unknown_link_request_status_from_northca_is_stored_and_shown(start_bot, sandbox):
    h = await start_bot()
    sandbox.faults.link_request_status = "in_review"  # a status the spec does not list (yet)
    private, public = await request_link(h)
    assert "Link request sent" in private.content
    fields = {f["name"]: f["value"] for f in public.embeds[0]["fields"]}
    assert fields["Status"] == "❔ `in_review` on Northca: not approved yet"
    assert (await stored(h)).status == "in_review"
    # Not approved: officers are told the server is not linked; /link shows it.
    assert "not linked to a Northca MDT yet" in (await officer_start(h)).content
    shown = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}["Status"].startswith("❔ `in_review`")


async def test_migration_005_keeps_links_and_accepts_unknown_statuses(tmp_path):
    from bot.storage import Database, _migrations, _statements

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)  # a database made by the bot before migration 005
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, name, sql in _migrations():
        if version < 5:
            for statement in _statements(sql):
                old.execute(statement)
            old.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
    old.execute(
        "INSERT INTO guild_links (guild_id, mdt_id, request_id, status, created_at, updated_at)"
        " VALUES (1, 'm', 'r', 'approved', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        old.execute("UPDATE guild_links SET status = 'in_review'")
    old.commit()
    old.close()

    db = Database(path)
    await db.open()
    try:
        link = await LinkStore(db).get(1)
        assert (link.mdt_id, link.request_id, link.status) == ("m", "r", "approved")
        assert await LinkStore(db).set_status(link, "in_review")
        assert (await LinkStore(db).get(1)).status == "in_review"
    finally:
        await db.close()


async def test_new_link_racing_an_approval_does_not_overwrite_the_approved_link(start_bot, sandbox):
    sandbox.add_mdt(MDT_B, OWNER_B)
    h = await start_bot()
    _, public = await request_link(h)  # MDT A, pending
    held = sandbox.faults.hold(r"/link-requests$", method="POST")
    asking = await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id=MDT_B)  # /link for B is out ...
    await asyncio.wait_for(held.arrived.wait(), 10)
    await (
        await h.click(public.custom_ids[0], member=OWNER_M, guild_id=GUILD, message=public)
    ).final()  # ... A approved
    held.release()
    refused = await asking.final()

    assert (
        refused.ephemeral and f"already linked to MDT `{MDT}`" in refused.content and "/unlink first" in refused.content
    )
    link = await stored(h)
    assert (link.mdt_id, link.status) == (MDT, "approved")
    assert (await officer_start(h)).content.startswith("You are on duty since <t:")


async def test_live_check_cut_by_the_budget_still_counts_for_the_next_command(start_bot, sandbox):
    h = await start_bot()
    await request_link(h)
    sandbox.decide(sandbox.link_requests()[0]["id"], "approved")
    held = sandbox.faults.hold(r"/guilds/\d+/mdts$")  # Northca is slow to answer the live check
    assert "not linked to a Northca MDT yet" in (await officer_start(h)).content
    held.release()  # the check goes on after the command was answered, and stores what it learnt
    async with asyncio.timeout(10):
        while not (await stored(h)).approved:
            await asyncio.sleep(0.01)
    assert (await officer_start(h)).content.startswith("You are on duty since <t:")
    assert guild_mdt_checks(sandbox) == 1
