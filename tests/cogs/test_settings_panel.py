"""/settings panel through the offline harness: a private panel, one section at a time, edited with role and
channel pickers and labelled forms; every change through the same validated, audited setters as the
subcommands (kept in /settings history, announced in the shift log), Manage Server checked at every pick. The panel
is a Components V2 layout: one container in the brand colour, its text in text displays (the note of what was just
saved among them, never as content), each ER:LC switch a section with its button beside its text."""

from __future__ import annotations

from typing import Any

import pytest

from cogs.style import BRAND
from tests.harness import builders
from tests.harness.recorded import walk_components
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, LOG_CH, MEMBER_PERMS, OTHER_GUILD, SUPERVISOR_ROLE
from tests.helpers.settings import log_posts, two_servers

pytestmark = pytest.mark.asyncio

CHANNEL_SELECT, ROLE_SELECT, STRING_SELECT, BUTTON = 8, 6, 3, 2
ACTION_ROW, SECTION, TEXT_DISPLAY, SEPARATOR, CONTAINER = 1, 9, 10, 14, 17
IS_COMPONENTS_V2 = 1 << 15
FOOTER = "-# Only you see this panel. Every change is kept in /settings history."
# The admin, after Manage Server was taken from them (the panel was opened before).
DEMOTED_M = builders.member(ADMIN, permissions=MEMBER_PERMS, username="admin")


def parts(message: Any) -> list[dict[str, Any]]:
    """The interactive components of a message, in order."""
    return [c for c in walk_components(message.components) if c.get("type") in (2, 3, 5, 6, 7, 8)]


def find(message: Any, kind: int, text: str) -> dict[str, Any]:
    """The component of `kind` whose placeholder or label starts with `text`."""
    for comp in parts(message):
        if comp["type"] == kind and str(comp.get("placeholder") or comp.get("label") or "").startswith(text):
            return comp
    raise AssertionError(
        f"no component {kind} {text!r} in {[(c['type'], c.get('placeholder')) for c in parts(message)]}"
    )


def texts(message: Any) -> list[str]:
    """The text displays of a layout message, in order (those inside sections too)."""
    return [str(c["content"]) for c in walk_components(message.components) if c.get("type") == TEXT_DISPLAY]


def described(message: Any) -> str:
    return "\n".join(texts(message))


def layout(message: Any, heading: str) -> list[str]:
    """Asserts the message is the panel's layout (the V2 flag, no content or embeds, one container in the brand
    colour, the heading first and the footer last); its text displays."""
    assert message.flags & IS_COMPONENTS_V2, message.flags
    assert not message.content and not message.embeds
    [box] = message.components
    assert box["type"] == CONTAINER and box["accent_color"] == BRAND.value, box
    shown = texts(message)
    assert shown[0] == f"## Settings · {heading}" and shown[-1] == FOOTER, shown
    return shown


def note(message: Any, heading: str) -> str:
    """What the panel says was just saved: the text right under its heading (a panel, not a refusal)."""
    return layout(message, heading)[1]


def switch(message: Any, label: str) -> tuple[str, dict[str, Any]]:
    """An ER:LC switch: the text of its section (the setting and its state) and the button beside it."""
    for comp in walk_components(message.components):
        if comp.get("type") == SECTION:
            [text] = [c["content"] for c in comp["components"] if c["type"] == TEXT_DISPLAY]
            if text.startswith(f"**{label}**"):
                assert comp["accessory"]["type"] == BUTTON
                return text, comp["accessory"]
    raise AssertionError(f"no section {label!r} in {texts(message)}")


async def open_panel(h: Any, guild_id: int = GUILD) -> Any:
    reply = await (await h.slash("settings panel", member=ADMIN_M, guild_id=guild_id)).final()
    assert reply.ephemeral
    layout(reply, "Channels")
    return reply


async def pick(h: Any, message: Any, comp: dict[str, Any], values: list[str], member: Any = ADMIN_M) -> Any:
    return await (
        await h.click(comp["custom_id"], message=message, member=member, component_type=comp["type"], values=values)
    ).final()


async def section(h: Any, message: Any, name: str) -> Any:
    reply = await pick(h, message, find(message, STRING_SELECT, "Section"), [name])
    assert reply.callback_type == 7, reply
    return reply


async def test_channels_are_picked_from_those_the_bot_can_post_in_and_saved_through_the_audited_setter(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    panel = await open_panel(h)
    selects = [c for c in parts(panel) if c["type"] == STRING_SELECT][1:]  # after the section picker
    assert [c["placeholder"] for c in selects] == [
        "Shift-log channel: not set", "Reports channel: not set", "Alerts channel: not set", "Dispatch channel: not set"
    ]  # fmt: skip
    # The channels the bot can post in, by name (never an id); clearable.
    assert all(sorted(o["label"] for o in c["options"]) == ["#general", "#shift-log"] for c in selects), selects
    assert all(c["min_values"] == 0 for c in selects)

    done = await pick(h, panel, find(panel, STRING_SELECT, "Shift-log"), [str(LOG_CH)])
    assert done.callback_type == 7 and note(done, "Channels") == f"✅ Shift-log channel: <#{LOG_CH}>."
    assert f"**Shift-log channel**: <#{LOG_CH}>" in described(done)
    assert h.bot.settings.get(GUILD).shift_log_channel_id == LOG_CH
    # The same audit and shift-log line as the subcommand.
    [entries, _] = await h.bot.settings.history(GUILD)
    assert (entries[0].actor_id, entries[0].key, entries[0].new) == (ADMIN, "channel.shift-log", LOG_CH)
    await log_posts(h, LOG_CH, "changed the settings: .*Shift-log channel")
    # The list now shows the channel as chosen.
    chosen = find(done, STRING_SELECT, "Shift-log")
    assert [o["label"] for o in chosen["options"] if o.get("default")] == ["#shift-log"]

    cleared = await pick(h, done, chosen, [])
    assert (
        note(cleared, "Channels") == "✅ Shift-log channel: cleared."
        and h.bot.settings.get(GUILD).shift_log_channel_id is None
    )


async def test_every_pick_checks_manage_server_again_and_a_refusal_changes_nothing(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    panel = await open_panel(h)
    refused = await pick(h, panel, find(panel, STRING_SELECT, "Shift-log"), [str(LOG_CH)], member=DEMOTED_M)
    assert refused.ephemeral and "Manage Server" in refused.content
    assert h.bot.settings.get(GUILD).shift_log_channel_id is None
    assert (await h.bot.settings.history(GUILD))[1] == 0


async def test_roles_section_offers_the_roles_the_bot_can_give_and_sets_supervisors(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    panel = await section(h, await open_panel(h), "roles")
    layout(panel, "Roles")
    which = find(panel, STRING_SELECT, "Which role")
    panel = await pick(h, panel, which, ["supervisor"])
    supervisors = find(panel, STRING_SELECT, "Supervisor roles")
    assert supervisors["max_values"] == 4 and supervisors["min_values"] == 0  # several at once (of the 4 offered)
    done = await pick(h, panel, supervisors, [str(SUPERVISOR_ROLE)])
    assert note(done, "Roles") == f"✅ Supervisor roles (up to 10): <@&{SUPERVISOR_ROLE}>."
    assert h.bot.settings.get(GUILD).supervisor_role_ids == (SUPERVISOR_ROLE,)

    # Server B: the role above the bot's own and the integration's role are not offered.
    other = await section(h, await open_panel(h, OTHER_GUILD), "roles")
    offered = [o["label"] for o in find(other, STRING_SELECT, "On Duty role")["options"]]
    assert offered == ["@On Duty B"]


async def test_a_large_server_gets_discords_pickers_and_the_setter_still_refuses_a_role_above_the_bot(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    big = 131313131313131313
    roles = [builders.role(760000000000000000 + i, f"Rank {i}", position=i + 1) for i in range(40)]
    h.add_guild(big, name="Big RP", owner_id=ADMIN, roles=roles, me_role_position=35)  # 34 roles below the bot
    panel = await section(h, await open_panel(h, big), "roles")
    picker = find(panel, ROLE_SELECT, "On Duty role")  # more than a list holds: Discord's role picker
    above = str(760000000000000000 + 37)
    refused = await pick(h, panel, picker, [above])
    assert refused.ephemeral and "move my role above it" in refused.content
    assert h.bot.settings.get(big).on_duty_role_id is None  # nothing saved


async def test_duty_rules_form_is_labelled_and_a_bad_time_zone_loses_nothing(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    panel = await section(h, await open_panel(h), "duty")
    form = await h.click(find(panel, BUTTON, "Edit duty rules")["custom_id"], message=panel, member=ADMIN_M)
    assert form.modal is not None and form.modal["title"] == "Duty rules"
    labels = [c["label"] for c in form.modal["components"] if c["type"] == 18]
    assert labels == [
        "Maximum shift length (hours)", "Time zone", "First day of the week", "Status click while off duty",
        "Leave blocks going on duty",
    ]  # fmt: skip
    values: dict[str, Any] = {
        "Maximum shift length (hours)": "10",
        "Time zone": "Mars/Olympus",
        "First day of the week": ["sunday"],
        "Status click while off duty": ["allow"],
        "Leave blocks going on duty": ["yes"],
    }
    refused = await (await h.submit_modal(form, values, message=panel, member=ADMIN_M)).final()
    assert refused.ephemeral and "Mars/Olympus" in refused.content
    assert h.bot.settings.get(GUILD).max_shift_hours != 10  # nothing saved from the refused form

    form = await h.click(find(panel, BUTTON, "Edit duty rules")["custom_id"], message=panel, member=ADMIN_M)
    saved = await (
        await h.submit_modal(form, {**values, "Time zone": "Europe/London"}, message=panel, member=ADMIN_M)
    ).final()
    assert saved.callback_type == 7 and note(saved, "Duty rules") == "✅ Duty rules saved."
    settings = h.bot.settings.get(GUILD)
    assert (settings.max_shift_hours, settings.timezone, settings.week_start) == (10, "Europe/London", "sunday")
    assert (settings.off_duty, settings.leave_blocks_duty) == ("allow", True)
    assert "**Maximum shift length**: 10 h" in described(saved) and "**Time zone**: Europe/London" in described(saved)


async def test_codes_are_added_with_a_colour_picked_from_a_list_and_removed_from_one(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    panel = await section(h, await open_panel(h), "codes")
    form = await h.click(find(panel, BUTTON, "Add a code")["custom_id"], message=panel, member=ADMIN_M)
    added = await (
        await h.submit_modal(
            form,
            {"Code": "10-99", "What it means": "Officer needs help", "Button colour": ["danger"]},
            message=panel,
            member=ADMIN_M,
        )
    ).final()
    assert note(added, "10-codes") == "✅ Code added: 10-99."
    # Listed with the emoji of its kind (the application emoji uploaded at start).
    urgent = h.bot.app_emojis.for_style("danger")
    assert urgent.startswith("<:nc_urgent_") and f"{urgent} `10-99` Officer needs help" in described(added)
    code = h.bot.settings.get(GUILD).code("10-99")
    assert code is not None and (code.label, code.style) == ("Officer needs help", "danger")
    removed = await pick(h, added, find(added, STRING_SELECT, "Remove a code"), ["10-99"])
    assert note(removed, "10-codes") == "✅ Code removed: 10-99." and h.bot.settings.get(GUILD).code("10-99") is None


async def test_departments_quotas_rosters_and_erlc_sections_save_through_their_forms(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    before = h.bot.settings.get(GUILD).departments
    panel = await section(h, await open_panel(h), "departments")
    form = await h.click(find(panel, BUTTON, "Add a department")["custom_id"], message=panel, member=ADMIN_M)
    refused = await (
        await h.submit_modal(form, {"Name": "Highway", "Weekly quota in hours": "lots"}, message=panel, member=ADMIN_M)
    ).final()
    assert refused.ephemeral and "is a number" in refused.content and h.bot.settings.get(GUILD).departments == before
    form = await h.click(find(panel, BUTTON, "Add a department")["custom_id"], message=panel, member=ADMIN_M)
    added = await (
        await h.submit_modal(form, {"Name": "Highway", "Weekly quota in hours": "5"}, message=panel, member=ADMIN_M)
    ).final()
    assert note(added, "Departments") == "✅ Department added: Highway."
    after = h.bot.settings.get(GUILD).departments
    assert len(after) == len(before) + 1 and (after[-1].name, after[-1].quota_hours) == ("Highway", 5.0)

    panel = await section(h, added, "quotas")
    period = await pick(h, panel, find(panel, STRING_SELECT, "Activity period"), ["monthly"])
    assert (
        note(period, "Quotas") == "✅ Activity period: monthly."
        and h.bot.settings.get(GUILD).activity_period == "monthly"
    )
    quota_roles = find(period, STRING_SELECT, "Set or remove")
    form = await h.click(quota_roles["custom_id"], message=period, member=ADMIN_M, values=[str(SUPERVISOR_ROLE)])
    assert form.modal is not None
    quota = await (
        await h.submit_modal(form, {"Hours per activity period": "4"}, message=period, member=ADMIN_M)
    ).final()
    assert note(quota, "Quotas") == f"✅ <@&{SUPERVISOR_ROLE}>: 4 h per activity period."
    assert h.bot.settings.get(GUILD).role_quotas == ((SUPERVISOR_ROLE, 4.0),)

    panel = await section(h, quota, "rosters")
    form = await h.click(find(panel, BUTTON, "Edit reminder")["custom_id"], message=panel, member=ADMIN_M)
    saved = await (await h.submit_modal(form, {"Minutes before a shift": "45"}, message=panel, member=ADMIN_M)).final()
    assert note(saved, "Rosters") == "✅ Members are reminded 45 min before their shifts."
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 45

    panel = await section(h, saved, "erlc")
    # Each ER:LC switch is a section: its text says the setting and its state, its button beside it what a press does.
    text, toggle = switch(panel, "ER:LC emergency calls to the CAD")
    assert (text, toggle["label"], toggle["style"]) == ("**ER:LC emergency calls to the CAD**: off", "Turn on", 3)
    sections = [c for c in walk_components(panel.components) if c.get("type") == SECTION]
    assert [s["accessory"]["label"] for s in sections] == ["Turn on"] * 5  # every switch of /settings, all off
    on = await pick(h, panel, toggle, [])
    assert (
        note(on, "ER:LC") == "✅ ER:LC emergency calls to the CAD: on." and h.bot.settings.get(GUILD).erlc_calls_to_cad
    )
    text, toggle = switch(on, "ER:LC emergency calls to the CAD")
    assert (text, toggle["label"], toggle["style"]) == ("**ER:LC emergency calls to the CAD**: on", "Turn off", 2)
    # Automatic shifts need gamelock: the setter's refusal says so, nothing changes.
    refused = await pick(h, on, switch(on, "Automatic shifts from the game")[1], [])
    assert refused.ephemeral and "gamelock" in refused.content and not h.bot.settings.get(GUILD).erlc_auto_duty
    # Every ER:LC switch of /settings is on the panel: the status and the quotas from the game too.
    status = await pick(h, on, switch(on, "Unit status from the game")[1], [])
    assert (
        note(status, "ER:LC") == "✅ Unit status from the game: on." and h.bot.settings.get(GUILD).erlc_status_from_game
    )
    assert switch(status, "Unit status from the game")[0].startswith("**Unit status from the game**: yes")
    quota = await pick(h, status, switch(status, "Quotas count time in game")[1], [])
    assert note(quota, "ER:LC") == "✅ Quotas count time in game: on." and h.bot.settings.get(GUILD).erlc_quota_in_game
    # The numbers stay as lines of text, edited with their form.
    assert "**Gamelock (off duty after leaving the game)**: off" in described(quota)
    assert find(quota, BUTTON, "Edit numbers")


async def test_a_panel_discord_refuses_is_answered_with_a_short_layout_and_the_change_is_kept(start_bot, sandbox):
    # A message sent as a layout cannot take plain content: the short answer after a refusal is a layout too.
    h = await two_servers(start_bot, sandbox)
    panel = await open_panel(h)
    h.fake.fail_next(r"^/interactions/\d+/[^/]+/callback$", 400, method="POST", code=50035)
    refused = await pick(h, panel, find(panel, STRING_SELECT, "Shift-log"), [str(LOG_CH)])
    assert refused.status == 400
    short = await h.fake.wait_for(method="POST", path=r"/callback$", since=refused.request.seq + 1)
    message = short.json["data"]
    assert short.json["type"] == 7 and message["flags"] & IS_COMPONENTS_V2
    assert not message.get("content") and not message.get("embeds")
    shown = [c["content"] for c in walk_components(message["components"]) if c["type"] == TEXT_DISPLAY]
    assert shown == ["(Discord refused the full answer; the bot's log has the details.)"]
    assert h.bot.settings.get(GUILD).shift_log_channel_id == LOG_CH
