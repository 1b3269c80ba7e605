"""Roles and channels deleted in Discord leave the settings: at once (GUILD_ROLE_DELETE / CHANNEL_DELETE through
discord.py's own gateway parsers), or when the guild becomes available again after the bot was offline; audited
as Discord's change, per server, and shown as deleted by /settings show should a deletion be missed."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.harness import builders
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    DEPARTMENT_ROLE,
    GENERAL_CH,
    GUILD,
    LOG_CH,
    OFFICER_M,
    ON_BREAK_ROLE,
    ON_DUTY_ROLE,
    OTHER_GUILD,
    SUPERVISOR_ROLE,
)
from tests.helpers.settings import (
    B_DUTY,
    B_GENERAL,
    B_LOG,
    admin,
    configure_both,
    log_posts,
    role_calls,
    role_opt,
    two_servers,
)

pytestmark = pytest.mark.asyncio

DELETED_BY_DISCORD = "Discord (deleted there)"
# County A's roles after its supervisor role was deleted.
COUNTY_A_ROLES_LEFT = [
    builders.role(ON_DUTY_ROLE, "On Duty A", position=1),
    builders.role(DEPARTMENT_ROLE, "Sheriff", position=2),
    builders.role(ON_BREAK_ROLE, "On Break A", position=3),
]


async def listeners_done(event: str) -> int:
    """Wait until the bot's listeners of `event` (discord.py names their tasks "discord.py: on_<event>") ended;
    how many ran."""
    running = [t for t in asyncio.all_tasks() if t.get_name() == f"discord.py: on_{event}"]
    await asyncio.gather(*running)
    return len(running)


def history_lines(reply: Any) -> list[str]:
    return str(reply.embeds[0]["description"]).splitlines()


async def test_deleting_the_configured_duty_role_in_discord_removes_it_from_settings_with_discord_in_history(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    await admin(h, "settings quota", role=role_opt(h, GUILD, ON_DUTY_ROLE), hours=5.0)
    await admin(h, "settings role", kind="supervisor", role=role_opt(h, GUILD, ON_DUTY_ROLE))
    b_before = h.bot.settings.get(OTHER_GUILD)
    version = h.bot.settings.get(GUILD).version

    h.delete_role(GUILD, ON_DUTY_ROLE)
    await listeners_done("guild_role_delete")

    settings = h.bot.settings.get(GUILD)
    assert settings.on_duty_role_id is None
    assert settings.role_quotas == () and settings.supervisor_role_ids == ()
    assert settings.department("Sheriff") is not None and settings.department("Sheriff").role_id == DEPARTMENT_ROLE
    assert settings.version == version + 1  # one change: what other processes' watchers follow
    assert h.bot.settings.get(OTHER_GUILD) == b_before

    history = await admin(h, "settings history")
    discord_lines = [line for line in history_lines(history) if DELETED_BY_DISCORD in line]
    assert {line.split("**")[1] for line in discord_lines} == {"On Duty role", "Supervisor roles", "Role quotas"}
    assert all(str(ON_DUTY_ROLE) in line for line in discord_lines)
    other = await admin(h, "settings history", guild_id=OTHER_GUILD)
    assert DELETED_BY_DISCORD not in other.embeds[0]["description"]
    await log_posts(h, LOG_CH, re.escape(f"{DELETED_BY_DISCORD} changed the settings: ") + ".*On Duty role")

    reply = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    assert reply.content.startswith("You are on duty"), reply
    await log_posts(h, LOG_CH, "is on duty")
    await h.bot.shifts.drain()
    assert role_calls(h, "PUT", GUILD) == [DEPARTMENT_ROLE]  # the deleted role is not asked for


async def test_deleting_the_log_channel_in_discord_clears_it_and_a_shift_start_posts_nowhere_dead(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)

    h.delete_channel(GUILD, LOG_CH)
    await listeners_done("guild_channel_delete")

    assert h.bot.settings.get(GUILD).shift_log_channel_id is None
    assert h.bot.settings.get(OTHER_GUILD).shift_log_channel_id == B_LOG
    history = await admin(h, "settings history")
    assert f"{DELETED_BY_DISCORD} **Shift-log channel**: <#{LOG_CH}> → —" in history.embeds[0]["description"]
    posted_before = len(h.fake.find("POST", rf"^/channels/{LOG_CH}/messages$"))
    reply = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    assert reply.content.startswith("You are on duty"), reply
    await h.bot.shifts.drain()
    assert len(h.fake.find("POST", rf"^/channels/{LOG_CH}/messages$")) == posted_before


async def test_a_log_channel_and_role_deleted_while_the_bot_was_offline_are_cleaned_when_the_guild_is_available(
    start_bot, sandbox
):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    await admin(h, "settings role", kind="supervisor", role=role_opt(h, GUILD, SUPERVISOR_ROLE))
    await h.bot.settings.drain()
    await h.bot.close()
    posted_to_a_log = len(h.fake.find("POST", rf"^/channels/{LOG_CH}/messages$"))

    # Meanwhile, in Discord: County A's shift-log channel and supervisor role are deleted; City B changes nothing.
    h2 = await start_bot(shifts={"sync_interval_seconds": 0.05})
    h2.add_guild(
        GUILD,
        name="County A",
        owner_id=ADMIN,
        roles=COUNTY_A_ROLES_LEFT,
        channels=[builders.channel(GENERAL_CH, guild_id=GUILD, name="general")],
        available=True,
    )
    h2.add_guild(
        OTHER_GUILD,
        name="City B",
        owner_id=ADMIN,
        roles=[builders.role(B_DUTY, "On Duty B", position=1)],
        channels=[
            builders.channel(B_GENERAL, guild_id=OTHER_GUILD, name="general"),
            builders.channel(B_LOG, guild_id=OTHER_GUILD, name="duty-log"),
        ],
        available=True,
    )
    await listeners_done("guild_available")

    a = h2.bot.settings.get(GUILD)
    assert a.shift_log_channel_id is None and a.supervisor_role_ids == ()
    assert a.on_duty_role_id == ON_DUTY_ROLE  # still there: kept
    b = h2.bot.settings.get(OTHER_GUILD)
    assert b.shift_log_channel_id == B_LOG and b.on_duty_role_id == B_DUTY
    history = await admin(h2, "settings history")
    cleaned = {line.split("**")[1] for line in history_lines(history) if DELETED_BY_DISCORD in line}
    assert cleaned == {"Shift-log channel", "Supervisor roles"}
    _, count = await h2.bot.settings.history(GUILD)

    # The guild announced again (an outage ends): nothing more to clean, nothing audited twice.
    h2.add_guild(
        GUILD,
        name="County A",
        owner_id=ADMIN,
        roles=COUNTY_A_ROLES_LEFT,
        channels=[builders.channel(GENERAL_CH, guild_id=GUILD, name="general")],
        available=True,
    )
    assert await listeners_done("guild_available") == 1  # dispatched (not held back for chunking), and done
    assert (await h2.bot.settings.history(GUILD))[1] == count

    reply = await h2.slash("shift start", member=OFFICER_M, guild_id=GUILD, department="sheriff", callsign="A-1")
    assert reply.content.startswith("You are on duty"), reply
    await h2.bot.shifts.drain()
    assert len(h2.fake.find("POST", rf"^/channels/{LOG_CH}/messages$")) == posted_to_a_log
    assert sorted(role_calls(h2, "PUT", GUILD)) == sorted([ON_DUTY_ROLE, DEPARTMENT_ROLE])


async def test_settings_show_marks_a_configured_role_the_server_no_longer_has(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    # A deletion the bot never heard of (a missed event): the role is simply gone from the guild.
    h.bot.get_guild(GUILD)._remove_role(ON_DUTY_ROLE)

    shown = {f["name"]: f["value"] for f in (await admin(h, "settings show")).embeds[0]["fields"]}
    assert shown["On Duty role"] == f"<@&{ON_DUTY_ROLE}> (⚠️ deleted in Discord: role {ON_DUTY_ROLE})"
    assert shown["Shift-log channel"] == f"<#{LOG_CH}>"
    assert "deleted in Discord" not in shown["On Break role"]


async def test_an_admin_removes_a_role_deleted_in_discord_by_picking_it_from_the_autocomplete(start_bot, sandbox):
    h = await two_servers(start_bot, sandbox)
    await configure_both(h)
    h.bot.get_guild(GUILD)._remove_role(ON_DUTY_ROLE)  # deleted in Discord, the event missed

    offered = await h.autocomplete("settings remove-role", member=ADMIN_M, guild_id=GUILD, role="")
    names = {c["value"]: c["name"] for c in offered}
    assert names[str(ON_DUTY_ROLE)] == f"deleted role {ON_DUTY_ROLE}"
    assert names[str(DEPARTMENT_ROLE)] == "@Sheriff" and str(B_DUTY) not in names  # only this server's settings

    reply = await admin(h, "settings remove-role", role=str(ON_DUTY_ROLE))
    assert "On Duty role" in reply.content
    assert h.bot.settings.get(GUILD).on_duty_role_id is None
    history = await admin(h, "settings history")
    assert f"<@{ADMIN}> **On Duty role**: <@&{ON_DUTY_ROLE}> → —" in history.embeds[0]["description"]

    refused = await admin(h, "settings remove-role", role=str(ON_DUTY_ROLE))
    assert "pick one from the list" in refused.content
