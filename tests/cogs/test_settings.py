"""/settings through the offline harness: two servers in one bot, each configured from Discord,
acting independently (roles given, channels posted to, departments, codes, limits)."""

from __future__ import annotations

import asyncio
import copy

import pytest

from tests.harness import Harness, builders
from tests.helpers.clock import Clock, utc_ms
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    DEPARTMENT_ROLE,
    GUILD,
    LOG_CH,
    MEMBER_PERMS,
    OFFICER_M,
    ON_BREAK_ROLE,
    ON_DUTY_ROLE,
    OTHER_GUILD,
    SUPERVISOR,
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
)
from tests.helpers.settings import (
    B_BOOST,
    B_DUTY,
    B_HIGH,
    B_LOG,
    admin,
    channel_opt,
    configure_both,
    log_posts,
    role_calls,
    role_opt,
    two_servers,
)
from tests.helpers.status import post_panel, set_id, settle

pytestmark = pytest.mark.asyncio


# --- isolation ------------------------------------------------------------------------------------


async def test_two_servers_give_their_own_roles_and_post_to_their_own_shift_logs(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)

    reply = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    assert reply.content.startswith("You are on duty"), reply
    line = await log_posts(h, LOG_CH, "is on duty")
    assert "Sheriff" in line["content"]
    await h.slash("shift start", member=OFFICER_M, guild_id=OTHER_GUILD, department="patrol", callsign="B-1")
    await log_posts(h, B_LOG, "is on duty")
    await h.bot.shifts.drain()
    assert sorted(role_calls(h, "PUT", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE])
    assert role_calls(h, "PUT", OTHER_GUILD) == [B_DUTY]

    await h.slash("shift break", member=OFFICER_M, guild_id=GUILD)
    await h.bot.shifts.drain()
    assert ON_BREAK_ROLE in role_calls(h, "PUT", GUILD)
    await h.slash("shift end", member=OFFICER_M, guild_id=GUILD)
    await log_posts(h, LOG_CH, "is off duty")
    await h.bot.shifts.drain()
    assert sorted(role_calls(h, "DELETE", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE, ON_BREAK_ROLE])
    assert role_calls(h, "DELETE", OTHER_GUILD) == []  # still on duty over there
    assert not [r for r in h.fake.find("POST", rf"^/channels/{B_LOG}/messages$") if "off duty" in r.json["content"]]


async def test_departments_and_limits_differ_per_server_and_autocomplete_follows_at_once(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    before = await h.autocomplete("shift start", member=OFFICER_M, guild_id=GUILD, department="sher")
    assert before == []
    await admin(h, "settings department add", name="Sheriff", quota_hours=6)
    await admin(
        h, "settings shifts", guild_id=OTHER_GUILD, max_hours=2, timezone="America/Chicago", week_start="sunday"
    )

    assert [
        c["value"] for c in await h.autocomplete("shift start", member=OFFICER_M, guild_id=GUILD, department="sher")
    ] == ["Sheriff"]
    assert await h.autocomplete("shift start", member=OFFICER_M, guild_id=OTHER_GUILD, department="sher") == []
    refused = await h.slash("shift start", member=OFFICER_M, guild_id=OTHER_GUILD, department="Sheriff")
    assert "Unknown department" in refused.content and refused.ephemeral
    assert h.bot.shifts.max_shift_ms(OTHER_GUILD) == 2 * 3_600_000
    assert h.bot.shifts.max_shift_ms(GUILD) == 12 * 3_600_000
    choices = await h.autocomplete("settings department remove", member=ADMIN_M, guild_id=GUILD, name="she")
    assert [c["value"] for c in choices] == ["Sheriff"]


async def test_supervisor_roles_are_per_server_for_commands_and_buttons(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    denied = await h.slash("shift admin pending", member=SUPERVISOR_M, guild_id=GUILD)
    assert "Manage Server" in denied.content
    await admin(h, "settings role", kind="supervisor", role=role_opt(h, GUILD, SUPERVISOR_ROLE))
    allowed = await h.slash("shift admin pending", member=SUPERVISOR_M, guild_id=GUILD)
    assert "Manage Server" not in allowed.content and allowed.embeds
    sergeant_b = builders.member(SUPERVISOR, permissions=MEMBER_PERMS, username="sergeant", roles=[SUPERVISOR_ROLE])
    other = await h.slash("shift admin pending", member=sergeant_b, guild_id=OTHER_GUILD)
    assert "Manage Server" in other.content


# --- roles given before a setting changed ---------------------------------------------------------


async def test_the_end_of_a_shift_takes_back_the_on_duty_role_it_gave_after_the_setting_changed_and_a_restart(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    await log_posts(h, LOG_CH, "is on duty")
    await h.bot.shifts.drain()
    assert sorted(role_calls(h, "PUT", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE])

    await admin(h, "settings role", kind="on-duty", role=role_opt(h, GUILD, SUPERVISOR_ROLE))  # mid-shift
    await h.bot.close()
    h = await two_servers(start_bot, sandbox)  # what was given is kept in the database
    await h.slash("shift end", member=OFFICER_M, guild_id=GUILD)
    await log_posts(h, LOG_CH, "is off duty")
    await h.bot.shifts.drain()

    assert sorted(role_calls(h, "DELETE", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE])
    assert SUPERVISOR_ROLE not in role_calls(h, "PUT", GUILD)  # the new role is not given to who was already on duty

    # The next shift gets the new role, and gives it back.
    await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    await h.bot.shifts.drain()
    assert SUPERVISOR_ROLE in role_calls(h, "PUT", GUILD)
    await h.slash("shift end", member=OFFICER_M, guild_id=GUILD)
    await h.bot.shifts.drain()
    assert role_calls(h, "DELETE", GUILD).count(SUPERVISOR_ROLE) == 1


async def test_the_end_of_a_shift_takes_back_the_department_role_it_gave_after_the_department_changed(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    await log_posts(h, LOG_CH, "is on duty")
    await h.bot.shifts.drain()
    assert DEPARTMENT_ROLE in role_calls(h, "PUT", GUILD)

    # Mid-shift, the department's role becomes another one.
    await admin(h, "settings department remove", name="Sheriff")
    await admin(h, "settings department add", name="Sheriff", role=role_opt(h, GUILD, SUPERVISOR_ROLE))
    await h.slash("shift end", member=OFFICER_M, guild_id=GUILD)
    await log_posts(h, LOG_CH, "is off duty")
    await h.bot.shifts.drain()

    assert sorted(role_calls(h, "DELETE", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE])
    assert SUPERVISOR_ROLE not in role_calls(h, "PUT", GUILD)


# --- validation -----------------------------------------------------------------------------------


async def test_roles_the_bot_cannot_manage_and_channels_it_cannot_post_in_are_refused_with_what_to_do(
    start_bot, sandbox
):
    no_embeds = builders.DEFAULT_APP_PERMISSIONS & ~builders.EMBED_LINKS
    h = await two_servers(start_bot, sandbox, b_permissions=no_embeds)
    high = await admin(h, "settings role", guild_id=OTHER_GUILD, kind="on-duty", role=role_opt(h, OTHER_GUILD, B_HIGH))
    assert "above my highest role" in high.content and "Server Settings" in high.content
    boost = await admin(
        h, "settings role", guild_id=OTHER_GUILD, kind="on-duty", role=role_opt(h, OTHER_GUILD, B_BOOST)
    )
    assert "managed by an integration" in boost.content
    channel = await admin(
        h, "settings channel", guild_id=OTHER_GUILD, kind="alerts", channel=channel_opt(B_LOG, OTHER_GUILD, "duty-log")
    )
    assert "Embed Links" in channel.content and "View Channel" not in channel.content
    zone = await admin(h, "settings shifts", guild_id=OTHER_GUILD, timezone="Mars/Olympus")
    assert "is not a time zone" in zone.content
    duplicate = await admin(h, "settings code add", code="10-8", label="Again")
    assert "exists already" in duplicate.content
    settings = h.bot.settings.get(OTHER_GUILD)
    assert settings.on_duty_role_id is None and settings.alerts_channel_id is None and settings.timezone == "UTC"
    assert (await h.bot.settings.history(OTHER_GUILD))[1] == 0


async def test_roles_and_channels_of_another_server_are_refused_and_nothing_is_stored(start_bot, sandbox):
    """A forged client can name another server's role or channel (real Discord offers only this server's)."""
    h = await two_servers(start_bot, sandbox)
    foreign_role, foreign_channel = role_opt(h, OTHER_GUILD, B_DUTY), channel_opt(B_LOG, OTHER_GUILD, "duty-log")
    unknown_role = builders.RoleOption(builders.role(760000000000000001, "Nowhere", position=1))
    for command, options in (
        ("settings role", {"kind": "on-duty", "role": foreign_role}),
        ("settings role", {"kind": "supervisor", "role": unknown_role}),
        ("settings channel", {"kind": "shift-log", "channel": foreign_channel}),
        ("settings department add", {"name": "Highway", "role": foreign_role}),
        ("settings quota", {"role": foreign_role, "hours": 5}),
    ):
        reply = await admin(h, command, **options)
        assert "of another server" in reply.content, (command, reply.content)
    settings = h.bot.settings.get(GUILD)
    assert settings.on_duty_role_id is None and settings.supervisor_role_ids == ()
    assert settings.shift_log_channel_id is None and settings.role_quotas == ()
    assert settings.department("Highway") is None
    assert (await h.bot.settings.history(GUILD))[1] == 0
    # This server's own role and channel are still taken.
    await admin(h, "settings role", kind="on-duty", role=role_opt(h, GUILD, ON_DUTY_ROLE))
    await admin(h, "settings channel", kind="shift-log", channel=channel_opt(LOG_CH, GUILD, "shift-log"))
    assert h.bot.settings.get(GUILD).on_duty_role_id == ON_DUTY_ROLE
    assert h.bot.settings.get(GUILD).shift_log_channel_id == LOG_CH


async def test_options_outside_their_declared_bounds_or_unicode_digits_are_refused(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    page = await admin(h, "settings history", page=builders.Opt(10**30, 4))  # Range[int, 1, 1000]
    assert "must be from 1 to 1000" in page.content, page.content
    minutes = await admin(h, "settings roster", reminder_minutes=builders.Opt(-5, 4))
    assert "must be from 1 to 1440" in minutes.content, minutes.content
    kind = await admin(h, "settings role", kind="owner", role=role_opt(h, GUILD, ON_DUTY_ROLE))
    assert "is not one of its choices" in kind.content, kind.content
    long_zone = await admin(h, "settings shifts", timezone="Europe/" + "x" * 300)  # Range[str, 1, 64]
    assert "must be 1 to 64 characters long" in long_zone.content, long_zone.content
    for role in ("²", "9" * 20):
        removed = await admin(h, "settings remove-role", role=role)
        assert "No setting holds that role" in removed.content, removed.content
    assert (await h.bot.settings.history(GUILD))[1] == 0


async def test_settings_need_manage_server(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    reply = await h.slash("settings shifts", member=OFFICER_M, guild_id=GUILD, max_hours=1)
    assert reply.ephemeral and "Manage Server" in reply.content
    assert h.bot.settings.get(GUILD).max_shift_hours == 12


# --- show, history, the shift-log line ------------------------------------------------------------


async def test_show_says_which_settings_are_defaults_and_history_lists_who_changed_what(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await admin(h, "settings channel", kind="shift-log", channel=channel_opt(LOG_CH, GUILD, "shift-log"))
    await admin(h, "settings shifts", max_hours=8, timezone="Europe/London")

    embed = (await admin(h, "settings show")).embeds[0]
    shown = {f["name"]: f["value"] for f in embed["fields"]}
    assert shown["Maximum shift length"] == "8 h"
    assert shown["Time zone"] == "Europe/London"
    assert shown["First day of the week"] == "monday"
    assert shown["Shift-log channel"] == f"<#{LOG_CH}>"
    assert "Activity period" in shown and "Role quotas" in shown
    # Which settings differ from the defaults is said once, not on every name (read on a phone).
    assert not any("·" in name for name in shown)
    assert embed["description"] == "Changed from the defaults: Shift-log channel, Maximum shift length, Time zone."
    other = (await admin(h, "settings show", guild_id=OTHER_GUILD)).embeds[0]
    assert other["description"] == "Every setting is at its default."

    history = (await admin(h, "settings history")).embeds[0]
    assert f"<@{ADMIN}>" in history["description"] and "Europe/London" in history["description"]
    # Channels as mentions, never raw ids.
    assert f"**Shift-log channel**: — → <#{LOG_CH}>" in history["description"]
    assert str(LOG_CH) not in history["description"].replace(f"<#{LOG_CH}>", "")
    assert "3 changes" in history["footer"]["text"]
    line = await log_posts(h, LOG_CH, "changed the settings: .*Maximum shift length")
    assert "12 h → 8 h" in line["content"] and line["allowed_mentions"] == {"parse": []}


# --- codes and panels -----------------------------------------------------------------------------


async def test_code_changes_rerender_the_panels_and_a_removed_code_answers_plainly(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    panel = await post_panel(h)
    as_posted = copy.deepcopy(panel)
    await admin(h, "settings code add", code="10-99", label="Officer needs help", style="danger")
    edit = await h.fake.wait_for(  # nobody is on the new code: its button is there, its field folded away
        lambda r: (
            r.method == "PATCH"
            and r.path.endswith(f"/messages/{panel['id']}")
            and set_id("10-99") in str(r.json.get("components"))
        ),
        timeout=10,
    )
    ids = [c["custom_id"] for row in edit.json["components"] for c in row["components"]]
    assert set_id("10-99") in ids
    await admin(h, "settings code remove", code="10-97")
    await settle(h)
    # An officer's client still shows the panel as it was, with the 10-97 button.
    h.fake.messages[int(panel["id"])] = as_posted
    reply = await h.click(set_id("10-97"), member=OFFICER_M, message=as_posted)
    assert reply.ephemeral and "no longer exists" in reply.content
    assert await h.bot.unit_status.status_of(GUILD, int(OFFICER_M["user"]["id"])) is None
    assert "10-99" not in h.bot.unit_status.codes(OTHER_GUILD)


# --- reset, delete-data, leaving ------------------------------------------------------------------


async def test_reset_asks_to_confirm_and_the_button_rechecks_manage_server(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await admin(h, "settings shifts", max_hours=3)
    await admin(h, "settings shifts", guild_id=OTHER_GUILD, max_hours=4)
    ask = await admin(h, "settings reset")
    refused = await h.click("northca:settings:confirm:reset", member=OFFICER_M, message=ask)
    assert "Manage Server" in refused.content and h.bot.settings.get(GUILD).max_shift_hours == 3
    done = await h.click("northca:settings:confirm:reset", member=ADMIN_M, message=ask)
    assert "back to its default" in done.content
    assert h.bot.settings.get(GUILD).max_shift_hours == 12 and h.bot.settings.get(OTHER_GUILD).max_shift_hours == 4


async def test_delete_data_removes_all_of_one_servers_data(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await admin(h, "settings shifts", max_hours=3)
    for guild_id in (GUILD, OTHER_GUILD):
        await h.slash("profile set", member=OFFICER_M, guild_id=guild_id, callsign="ADAM-1")
    ask = await admin(h, "settings delete-data")
    done = await h.click("northca:settings:confirm:delete", member=ADMIN_M, message=ask)
    assert "deleted" in done.content
    for table in ("guild_settings", "settings_audit", "guild_links", "officer_profiles"):
        rows = await h.bot.db.fetchall(f"SELECT guild_id FROM {table}")
        assert GUILD not in [r["guild_id"] for r in rows], table
    assert await h.bot.profiles.get(OTHER_GUILD, int(OFFICER_M["user"]["id"])) is not None
    assert h.bot.settings.get(GUILD).max_shift_hours == 12


async def test_a_server_the_bot_left_keeps_its_settings_until_retention_ends(start_bot, sandbox):
    clock = Clock(utc_ms(2026, 12, 1, 12, 0))
    h = await two_servers(start_bot, sandbox, clock=clock)
    await admin(h, "settings shifts", max_hours=3)
    await admin(h, "settings shifts", guild_id=OTHER_GUILD, max_hours=4)
    h.state.parse_guild_delete({"id": str(GUILD)})
    left_at = await left_mark(h, GUILD)
    assert left_at == clock.ms
    clock.set(left_at + 29 * 86_400_000)
    assert await h.bot.settings.purge_expired() == []
    clock.set(left_at + 31 * 86_400_000)
    assert await h.bot.settings.purge_expired() == [GUILD]
    assert h.bot.settings.get(GUILD).max_shift_hours == 12 and h.bot.settings.get(OTHER_GUILD).max_shift_hours == 4
    assert (await h.bot.settings.history(GUILD))[1] == 0


async def test_a_server_that_returns_within_retention_gets_its_settings_back(start_bot, sandbox):
    clock = Clock(utc_ms(2026, 12, 1, 12, 0))
    h = await two_servers(start_bot, sandbox, clock=clock)
    await admin(h, "settings shifts", max_hours=3)
    h.state.parse_guild_delete({"id": str(GUILD)})
    left_at = await left_mark(h, GUILD)
    clock.set(left_at + 10 * 86_400_000)
    await h.bot.settings.guild_joined(GUILD)  # what on_guild_join does
    clock.set(left_at + 60 * 86_400_000)
    assert await h.bot.settings.purge_expired() == []
    assert h.bot.settings.get(GUILD).max_shift_hours == 3


async def left_mark(h: Harness, guild_id: int) -> int:
    """Waits (with a deadline) until the bot marked the guild left; its left_at_ms."""
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        left_at = await h.bot.settings.store.left_at(guild_id)
        if left_at is not None:
            return int(left_at)
        await asyncio.sleep(0.01)
    raise AssertionError(f"guild {guild_id} was not marked left")


async def test_settings_history_pages_with_buttons_that_recheck_manage_server_and_work_after_a_restart(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    for hours in range(1, 13):  # 12 changes: two pages of 10
        await h.bot.settings.set_shifts(GUILD, ADMIN, max_hours=float(hours))
    await h.bot.settings.set_shifts(OTHER_GUILD, ADMIN, max_hours=3.0)  # the other server's: not listed

    first = await admin(h, "settings history")
    assert first.embeds[0]["footer"]["text"] == "Page 1 of 2 · 12 changes in all"
    next_id = next(c for c in first.custom_ids if c.endswith(":next"))
    refused = await h.click(next_id, member=SUPERVISOR_M, message=first)
    assert refused.ephemeral and "Manage Server" in refused.content
    await h.bot.close()

    h2 = await two_servers(start_bot, sandbox)
    second = await h2.click(next_id, member=ADMIN_M, message=first)

    assert second.callback_type == 7 and second.embeds[0]["footer"]["text"] == "Page 2 of 2 · 12 changes in all"
    oldest = second.embeds[0]["description"]
    assert "12 h → 1 h" in oldest and "12 h → 3 h" not in oldest  # the first change here; not server B's
    prev_id = next(c for c in second.custom_ids if c.endswith(":prev"))
    back = await h2.click(prev_id, member=ADMIN_M, message=second)
    assert back.embeds[0]["footer"]["text"] == "Page 1 of 2 · 12 changes in all"
