"""/erlc through the offline harness, against the PRC sandbox on loopback: connect through a form (good, bad,
revoked keys; the key never in an option, an answer, a post, or a log), status (the webhook URL to admins
only), verify by callsign, /erlc me and unlink-me, staff links, the 2002 alert once, players, the live board
and its survival across a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from bot.core.settings import ChannelFacts
from bot.erlc.sandbox import PrcSandbox
from tests.harness import Harness, Reply, builders
from tests.helpers.bot import WEB, BotStarter, Section, link_guild
from tests.helpers.erlc import connect_game, prc_sandbox
from tests.helpers.ids import ADMIN, ADMIN_M, ALERTS_CH, BOARD_CH, GUILD, LOG_CH, OFFICER, OFFICER_M, member_opt
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

SERVER_KEY = "prc-cog-key-N3verL0gMe"


@pytest.fixture
async def prc() -> AsyncIterator[PrcSandbox]:
    async with prc_sandbox(SERVER_KEY) as sandbox:
        yield sandbox


async def boot(start_bot: BotStarter, prc: PrcSandbox, **sections: Section) -> Harness:
    h = await start_bot(game=prc, web=WEB, **sections)
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        members=[ADMIN_M, OFFICER_M],
        channels=[
            builders.channel(LOG_CH, guild_id=GUILD, name="shift-log"),
            builders.channel(ALERTS_CH, guild_id=GUILD, name="alerts"),
            builders.channel(BOARD_CH, guild_id=GUILD, name="status"),
        ],
    )
    await h.bot.settings.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(LOG_CH, "shift-log"))
    await h.bot.settings.set_channel(GUILD, ADMIN, "alerts", ChannelFacts(ALERTS_CH, "alerts"))
    return h


def posts(h, channel_id: int) -> list[str]:
    return [
        str((r.json or {}).get("content") or "")
        for r in h.fake.find("POST", rf"^/channels/{channel_id}/messages$")
        if r.ok
    ]


async def connect(h: Harness, key: str = SERVER_KEY, member: Mapping[str, Any] = ADMIN_M) -> Reply:
    return await connect_game(h, key, member)


def everything_sent(h) -> str:
    return " ".join(str(r.json) + str(r.path) for r in h.fake.requests)


async def test_connect_through_a_form_with_good_bad_and_revoked_keys(
    start_bot, prc: PrcSandbox, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    h = await boot(start_bot, prc)
    command = next(c for c in h.bot.tree.walk_commands() if c.qualified_name == "erlc connect")
    assert command.parameters == []  # the key is never a slash option

    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    bad = await connect(h, "not-the-key-at-all")
    assert bad.ephemeral and bad.content.startswith("❌ Not connected: PRC refused that key")
    prc.inject(code=1001, key=SERVER_KEY)
    down = await connect(h)
    assert "did not answer" in down.content and "Nothing was saved" in down.content
    prc.inject(code=2003, key=SERVER_KEY)
    global_key = await connect(h)
    assert "this bot's own global API key" in global_key.content
    prc.inject(code=4001, status=429, key=SERVER_KEY, retry_after=2)
    limited = await connect(h)
    assert limited.content.startswith("⏳ Not connected: PRC is rate limiting this bot. Try again in 2 s.")
    assert (await h.bot.erlc.status(GUILD)).server is None

    good = await connect(h)
    assert good.content.startswith("✅ Connected to “Sunset County RP”: 1 of 40 players in game now.")
    await h.bot.erlc.drain()
    await until(lambda: any("connected the ER:LC server" in p for p in posts(h, LOG_CH)), 5, "the log line")

    # A member without Manage Server cannot open the form.
    refused = await h.slash("erlc connect", member=OFFICER_M, guild_id=GUILD)
    assert refused.modal is None and "Manage Server" in refused.content

    prc.revoke_key(SERVER_KEY)
    revoked = await connect(h)
    assert "PRC refused that key" in revoked.content
    assert SERVER_KEY not in everything_sent(h) and SERVER_KEY not in caplog.text


async def test_status_shows_the_webhook_url_to_admins_only_and_disconnect(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    prc.join(SERVER_KEY, 101, "OfficerBob")
    await connect(h)
    await h.bot.erlc.poll(GUILD)
    admin = await h.slash("erlc status", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in admin.embeds[0]["fields"]}
    assert fields["State"] == "Connected" and fields["Players"] == "1 / 40" and fields["Queue"] == "0"
    assert fields["Last successful poll"].startswith("<t:")
    assert "global" in fields["Rate limits"]
    assert "https://bot.example.org/erlc/events/" in fields["Event webhook (admins only)"]
    member = await h.slash("erlc status", member=OFFICER_M, guild_id=GUILD)
    assert "erlc/events" not in str(member.embeds)

    done = await h.slash("erlc disconnect", member=ADMIN_M, guild_id=GUILD)
    assert "Disconnected “Sunset County RP”" in done.content
    after = await h.slash("erlc status", member=ADMIN_M, guild_id=GUILD)
    assert "Disconnected by an admin" in str(after.embeds[0]["fields"])
    history = await h.slash("settings history", member=ADMIN_M, guild_id=GUILD)
    assert "ER:LC server" in history.embeds[0]["description"]


async def test_verify_by_callsign_then_me_and_unlink_me(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    prc.join(SERVER_KEY, 900, "Someone")
    await connect(h)
    asked = await h.slash("erlc verify", member=OFFICER_M, guild_id=GUILD)
    assert asked.ephemeral and "within 10 minutes" in asked.content and ";verify" in asked.content
    code = asked.content.split("**`", 1)[1].split("`**", 1)[0]

    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign=code)
    await h.bot.erlc.poll(GUILD)
    me = await h.slash("erlc me", member=OFFICER_M, guild_id=GUILD)
    assert me.content.startswith("Linked to Roblox user 101 (OfficerBob)")
    gone = await h.slash("erlc unlink-me", member=OFFICER_M, guild_id=GUILD)
    assert "removed" in gone.content
    again = await h.slash("erlc me", member=OFFICER_M, guild_id=GUILD)
    assert again.content.startswith("No Roblox account is linked to you")


async def test_staff_link_is_audited_and_one_account_per_member(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    refused = await h.slash(
        "erlc link", member=OFFICER_M, guild_id=GUILD, options={"member": member_opt(OFFICER_M), "roblox_id": "7"}
    )
    assert "Manage Server" in refused.content
    done = await h.slash(
        "erlc link", member=ADMIN_M, guild_id=GUILD, options={"member": member_opt(OFFICER_M), "roblox_id": "101"}
    )
    assert "Linked <@" in done.content
    taken = await h.slash(
        "erlc link", member=ADMIN_M, guild_id=GUILD, options={"member": member_opt(ADMIN_M), "roblox_id": "101"}
    )
    assert taken.content == f"That Roblox account is already linked to <@{OFFICER}> here."
    await until(lambda: any("linked <@" in p for p in posts(h, LOG_CH)), 5, "the log line")
    history = await h.slash("settings history", member=ADMIN_M, guild_id=GUILD)
    # The link is stored as facts (member, account, how) and worded here as it always read.
    assert f"**ER:LC member link**: — → <@{OFFICER}> = Roblox 101 (staff)" in history.embeds[0]["description"]


async def test_2002_on_a_poll_tells_the_admins_once(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    prc.join(SERVER_KEY, 101, "OfficerBob")
    await connect(h)
    prc.revoke_key(SERVER_KEY)
    await h.bot.erlc.poll(GUILD)
    await h.bot.erlc.poll(GUILD)
    await h.bot.erlc.drain()
    await until(lambda: posts(h, ALERTS_CH), 5, "the alert")
    [alert] = posts(h, ALERTS_CH)
    assert "PRC refused its key" in alert and "Polling stopped" in alert


async def test_players_and_the_live_board_update_in_place_and_survive_a_restart(start_bot, sandbox, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    h.bot.get_cog("ErlcCog").board_updater.min_interval = 0.2  # the 30 s of production, shortened
    await link_guild(h.bot, sandbox)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12", permission="Server Moderator")
    prc.join(SERVER_KEY, 102, "CivAlice")
    await connect(h)
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    await h.bot.erlc.poll(GUILD)

    players = await h.slash("erlc players", member=OFFICER_M, guild_id=GUILD)
    text = players.embeds[0]["description"]
    assert f"**OfficerBob** · Police · `1A-12` · Server Moderator · <@{OFFICER}> 🟢 on duty" in text
    [alice] = [line for line in text.splitlines() if "CivAlice" in line]
    assert alice == "**CivAlice** · Civilian"  # not linked: no member, no duty

    board = await h.slash("erlc board", member=ADMIN_M, guild_id=GUILD, channel_id=BOARD_CH)
    assert "Posted the ER:LC board" in board.content
    [posted] = [r for r in h.fake.find("POST", rf"^/channels/{BOARD_CH}/messages$") if r.ok]
    fields = {f["name"]: f["value"] for f in posted.json["embeds"][0]["fields"]}
    assert fields["Players"] == "2 / 40" and fields["On duty, in game (1)"].startswith(f"<@{OFFICER}>")
    assert fields["Staff in game (1)"] == "OfficerBob · Server Moderator"
    message_id = posted.response["id"]

    prc.leave(SERVER_KEY, 101)
    await h.bot.erlc.poll(GUILD)
    edit = await h.fake.wait_for(method="PATCH", path=rf"/channels/{BOARD_CH}/messages/{message_id}$")
    fields = {f["name"]: f["value"] for f in edit.json["embeds"][0]["fields"]}
    assert fields["Players"] == "1 / 40" and fields["On duty, not in game (1)"] == f"<@{OFFICER}>"

    # A restart: the board is re-rendered in place (same message), no new post.
    await h.bot.close()
    h2 = await boot(start_bot, prc)
    await until(
        lambda: len(h2.fake.find("PATCH", rf"^/channels/{BOARD_CH}/messages/{message_id}$")) >= 2, 5, "the re-render"
    )
    assert len([r for r in h2.fake.find("POST", rf"^/channels/{BOARD_CH}/messages$") if r.ok]) == 1


async def test_the_board_is_edited_at_most_once_per_interval(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    updater = h.bot.get_cog("ErlcCog").board_updater
    updater.min_interval = 1.5  # production: 30 s
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    await connect(h)
    await h.slash("erlc board", member=ADMIN_M, guild_id=GUILD, channel_id=BOARD_CH)
    [posted] = [r for r in h.fake.find("POST", rf"^/channels/{BOARD_CH}/messages$") if r.ok]
    edits = rf"^/channels/{BOARD_CH}/messages/{posted.response['id']}$"
    for i in range(5):  # five changes in quick succession
        prc.join(SERVER_KEY, 200 + i, f"Civ{i}")
        await h.bot.erlc.poll(GUILD)
    await until(lambda: h.fake.find("PATCH", edits), 5, "the edit")
    # The edit waited for the interval (counted from the post; a loaded machine may send the post late, hence
    # the margin): the five changes were not each an edit.
    assert h.fake.find("PATCH", edits)[0].time - posted.time >= 1.0
    await asyncio.sleep(0.5)
    [edit] = h.fake.find("PATCH", edits)  # one edit for the five changes, showing the last state
    fields = {f["name"]: f["value"] for f in edit.json["embeds"][0]["fields"]}
    assert fields["Players"] == "6 / 40"


async def test_players_are_paginated_and_csv_import_through_a_form(start_bot, prc: PrcSandbox):
    h = await boot(start_bot, prc)
    for i in range(25):
        prc.join(SERVER_KEY, 1000 + i, f"Player{i:02d}")
    await connect(h)
    await h.bot.erlc.poll(GUILD)

    form = await h.slash("erlc import", member=ADMIN_M, guild_id=GUILD)
    assert form.modal is not None
    done = await h.submit_modal(
        form, {"discord_id,roblox_id per line": f"discord_id,roblox_id\n{OFFICER},1003\n"}, member=ADMIN_M
    )
    assert done.content == "Imported 1 links."
    taken = await h.submit_modal(
        await h.slash("erlc import", member=ADMIN_M, guild_id=GUILD),
        {"discord_id,roblox_id per line": f"{ADMIN},1003\n"},
        member=ADMIN_M,
    )
    # The service answers the refused (member, account) pairs; the form words them.
    assert (
        taken.content
        == f"Imported 0 links. 1 not imported:\n- Roblox 1003 for <@{ADMIN}>: already linked to another member"
    )
    bad = await h.submit_modal(
        await h.slash("erlc import", member=ADMIN_M, guild_id=GUILD),
        {"discord_id,roblox_id per line": f"{ADMIN},1004\nnot a line\n"},
        member=ADMIN_M,
    )
    assert "Line 2" in bad.content and "Nothing was imported" in bad.content
    assert await h.bot.erlc.link_of(GUILD, ADMIN) is None

    first = await h.slash("erlc players", member=OFFICER_M, guild_id=GUILD)
    assert first.embeds[0]["footer"]["text"].startswith("Page 1 of 2 · 25 in game · 1 linked")
    assert f"**Player03** · Civilian · <@{OFFICER}>" in first.embeds[0]["description"]
    next_id = next(c for c in first.custom_ids if c.endswith(":next"))
    second = await h.click(next_id, message=first, member=OFFICER_M)
    assert second.embeds[0]["footer"]["text"].startswith("Page 2 of 2")
    assert second.embeds[0]["description"].count("**Player") == 5


@pytest.mark.sqlite_only("the demo PRC and its key-encryption key live in files beside the bot's SQLite file")
async def test_demo_mode_connects_the_local_demo_server_and_keeps_it_across_a_restart(start_bot, db_path):
    from bot.core.config import parse_config
    from bot.erlc.sandbox.demo import DEMO_SERVER_KEY
    from tests.helpers.bot import database_section

    config = parse_config(
        {"discord": {"token": "test-bot-token"}, "database": database_section(db_path)}, env={}
    )  # no partner key, no [erlc]: demo mode
    h = await start_bot(config=config)
    assert h.bot.prc_sandbox is not None and h.bot.prc is not None
    assert h.bot.prc.base_url == h.bot.prc_sandbox.base_url
    done = await connect(h, DEMO_SERVER_KEY)
    assert "Connected to “Demo ER:LC Server”: 3 of" in done.content
    await h.bot.close()

    h = await start_bot(config=config)
    outcome = await h.bot.erlc.poll(GUILD)  # the stored key is read again under the kept demo KEK
    assert outcome.ok and outcome.players == 3
    assert (db_path.parent / f"{db_path.stem}.demo-kek").stat().st_mode & 0o077 == 0
