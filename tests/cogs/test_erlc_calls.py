"""In-game emergency calls into the Northca CAD, through the offline harness, against the PRC
sandbox and the Northca sandbox on loopback: a call seen by two polls and the signed webhook is one Northca call
and one card; a forged or stale webhook is refused (401) and creates nothing; with the setting off nothing is
created (and the poll does not even ask for calls); a restart between two polls still makes one call; a server
not linked to an MDT gets nothing created and says so in /erlc status; the game's end of the call closes it once.
Every request to Northca is validated against our spec copy (the `sandbox` fixture, tests/spec.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.core.settings import ChannelFacts
from bot.erlc.calls import GameCallRelayed
from bot.erlc.records import EmergencyCallEvent
from bot.erlc.sandbox import PrcSandbox
from bot.erlc.sandbox.webhooks import emergency_call
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import build_services
from bot.storage import Database
from tests.harness import Harness, builders
from tests.helpers.bot import WEB, BotStarter, link_guild
from tests.helpers.erlc import connect_game, prc_sandbox, v2_reads
from tests.helpers.ids import ADMIN, ADMIN_M, DISPATCH_CH, GUILD, LOG_CH, MDT, OFFICER, OFFICER_M
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

SERVER_KEY = "prc-calls-key-N3verL0gMe"
CALLER = 4101  # the caller's Roblox id


@pytest.fixture
async def prc() -> AsyncIterator[PrcSandbox]:
    async with prc_sandbox(SERVER_KEY) as sandbox:
        yield sandbox


async def boot(start_bot: BotStarter, prc: PrcSandbox) -> Harness:
    h = await start_bot(game=prc, web=WEB)
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        members=[ADMIN_M, OFFICER_M],
        channels=[
            builders.channel(DISPATCH_CH, guild_id=GUILD, name="dispatch"),
            builders.channel(LOG_CH, guild_id=GUILD, name="shift-log"),
        ],
    )
    # The poller is left to the test: every poll here is one the test makes.
    await h.bot.services.erlc_poller.stop()
    return h


async def ready(h: Harness, sandbox: NorthcaSandbox, prc: PrcSandbox, *, linked: bool = True, on: bool = True) -> str:
    """Connected (through the form), dispatch channel set, the webhook URL saved in the game; the caller in game
    and linked to OFFICER. Returns the webhook's loopback URL."""
    if linked:
        await link_guild(h.bot, sandbox)
    await h.bot.settings.set_channel(GUILD, ADMIN, "dispatch", ChannelFacts(DISPATCH_CH, "dispatch"))
    await h.bot.settings.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(LOG_CH, "shift-log"))
    prc.join(
        SERVER_KEY, CALLER, "CivCarl",
        location={"LocationX": 10.0, "LocationZ": 20.0, "PostalCode": "218", "StreetName": "Main Street"},
    )  # fmt: skip
    done = await connect_game(h, SERVER_KEY)
    assert done.content.startswith("✅ Connected")
    await h.bot.services.erlc_poller.stop()  # started again by the connection: the test polls
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, CALLER)
    if on:
        answer = await h.slash("erlc calls", member=ADMIN_M, guild_id=GUILD, enabled=True)
        assert answer.content.startswith("In-game emergency calls now become calls on the Northca CAD")
    token = (await h.bot.erlc.status(GUILD)).webhook_url.rsplit("/", 1)[1]
    url = f"{h.bot.services.web.base_url}/erlc/events/{token}"
    assert await prc.set_event_webhook(SERVER_KEY, url) == 200
    return url


def northca_creates(sandbox: NorthcaSandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.method == "POST" and r.path.endswith(f"/mdts/{MDT}/calls")]


def cards(h: Harness) -> list[Any]:
    return [
        r for r in h.fake.find("POST", rf"^/channels/{DISPATCH_CH}/messages$") if r.ok and (r.json or {}).get("embeds")
    ]


async def settle(h: Harness, prc: PrcSandbox) -> None:
    """Every webhook delivery, every hub delivery (the relay, the card) and one outbox pass done."""
    await prc.events_sent()
    await h.bot.erlc.drain()
    await h.bot.dispatcher.process_due()


async def test_a_call_seen_by_two_polls_and_the_webhook_is_one_northca_call_and_one_card(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    reads_before = len(v2_reads(prc, SERVER_KEY))
    number = prc.add_emergency_call(
        SERVER_KEY, "Police", caller=CALLER, description="Shots fired near the bank", descriptor="Postal 218",
        position=(10.0, 20.0),
    )  # fmt: skip
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)  # the webhook's EmergencyCallStarted too
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    # The webhook delivered again (PRC retries): still the same call.
    row = prc.db.execute("SELECT * FROM calls WHERE key = ? AND number = ?", (SERVER_KEY, number)).fetchone()
    event = emergency_call(
        "EmergencyCallStarted", call_number=number, caller=CALLER, description="Shots fired near the bank",
        started_at=row["started_at"], position_descriptor="Postal 218", players=[CALLER],
    )  # fmt: skip
    assert await prc.send_event(prc.event_webhook(SERVER_KEY) or "", SERVER_KEY, [event]) == 200
    await settle(h, prc)
    await until(lambda: len(sandbox.calls(MDT)) == 1, 5, "the Northca call")
    await h.bot.dispatcher.process_due()

    # The poll asked for the calls (the setting is on).
    assert all(r.query.get("EmergencyCalls") == "true" for r in v2_reads(prc, SERVER_KEY)[reads_before:])
    [create] = northca_creates(sandbox)
    [call] = sandbox.calls(MDT)
    assert "Shots fired near the bank" in call["description"]
    assert f"CivCarl (Roblox {CALLER})" in call["description"] and f"Discord member {OFFICER}" in call["description"]
    assert call["location"] == "Postal 218"
    assert call["call_type"] == "Police" and call["created_by"] == str(OFFICER)
    assert call["id"] == json.loads(create.body)["id"]  # the bot chose the id
    [card] = cards(h)
    embed = card.json["embeds"][0]
    assert "Shots fired near the bank" in embed["description"]
    assert any(f["name"] == "Location" and f["value"] == "Postal 218" for f in embed["fields"])
    assert embed["footer"]["text"].startswith("Call #1 · MDT: ") and call["id"] not in str(embed)
    status = await h.slash("erlc status", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Emergency calls to the CAD"] == "On: 1 in-game calls sent to the CAD."


async def test_a_caller_not_linked_and_no_descriptor_uses_the_name_and_the_postal(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    await prc.set_event_webhook(SERVER_KEY, None)  # the poll sees it first: it knows where the caller stands
    prc.join(
        SERVER_KEY, 5202, "CivDana",
        location={"LocationX": 1.0, "LocationZ": 2.0, "PostalCode": "404", "StreetName": "Elm Road"},
    )  # fmt: skip
    prc.add_emergency_call(SERVER_KEY, "Fire", caller=5202, description="House fire")
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    await until(lambda: len(sandbox.calls(MDT)) == 1, 5, "the Northca call")
    [call] = sandbox.calls(MDT)
    assert "CivDana (Roblox 5202)" in call["description"] and "Discord member" not in call["description"]
    assert "404" in call["location"] and "Elm Road" in call["location"]
    assert call["created_by"] == "ER:LC CivDana (Roblox 5202)" and call["call_type"] == "Fire"
    [card] = cards(h)
    assert any(f["name"] == "Created by" and "the game" in f["value"] for f in card.json["embeds"][0]["fields"])


async def test_a_forged_or_stale_webhook_is_refused_and_creates_nothing(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    url = await ready(h, sandbox, prc)
    event = emergency_call("EmergencyCallStarted", call_number=7, caller=CALLER, description="Fake", started_at=1)
    body = prc.signer.payload("Sunset County RP", [event])
    for signed in (prc.signer.forged(body), prc.signer.stale(body, 600), prc.signer.tampered(body)):
        assert await prc.post_signed(url, signed.body, signed.headers) == 401
    await settle(h, prc)
    assert northca_creates(sandbox) == [] and sandbox.calls(MDT) == []
    assert cards(h) == []
    assert (await h.bot.services.erlc_calls.status(GUILD)).created == 0


async def test_with_the_setting_off_nothing_is_created_and_calls_are_not_asked_for(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc, on=False)
    reads_before = len(v2_reads(prc, SERVER_KEY))
    prc.add_emergency_call(SERVER_KEY, "Police", caller=CALLER, description="Off means off")
    await h.bot.erlc.poll(GUILD)
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    assert northca_creates(sandbox) == [] and cards(h) == []
    reads = v2_reads(prc, SERVER_KEY)[reads_before:]
    assert reads and all("EmergencyCalls" not in r.query for r in reads)
    status = await h.slash("erlc status", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Emergency calls to the CAD"].startswith("Off.")

    # Turned on, then off again: audited, shown in /settings show.
    await h.slash("erlc calls", member=ADMIN_M, guild_id=GUILD, enabled=True)
    shown = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    shown_fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    # The ER:LC settings share one field of /settings show, one line each (an embed holds at most 25 fields).
    assert "ER:LC emergency calls to the CAD: on" in shown_fields["ER:LC (the game)"].splitlines()
    history = await h.slash("settings history", member=ADMIN_M, guild_id=GUILD)
    assert "ER:LC emergency calls to the CAD" in history.embeds[0]["description"]
    refused = await h.slash("erlc calls", member=OFFICER_M, guild_id=GUILD, enabled=False)
    assert "Manage Server" in refused.content and h.bot.settings.get(GUILD).erlc_calls_to_cad


async def test_a_restart_between_two_polls_still_makes_one_call(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    await prc.set_event_webhook(SERVER_KEY, None)  # polls only: the restart is what is tested
    prc.add_emergency_call(SERVER_KEY, "Police", caller=CALLER, description="Across a restart")
    await h.bot.erlc.poll(GUILD)
    await h.bot.erlc.drain()
    await h.bot.close()

    h2 = await boot(start_bot, prc)
    await h2.bot.erlc.poll(GUILD)
    await settle(h2, prc)
    await until(lambda: len(sandbox.calls(MDT)) == 1, 5, "the Northca call")
    await h2.bot.dispatcher.process_due()
    assert len(northca_creates(sandbox)) == 1 and len(sandbox.calls(MDT)) == 1
    assert len(cards(h2)) == 1


async def test_a_server_not_linked_creates_nothing_and_status_says_why(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc, linked=False)
    prc.add_emergency_call(SERVER_KEY, "Police", caller=CALLER, description="Nobody to tell")
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    assert northca_creates(sandbox) == [] and cards(h) == []
    status = await h.slash("erlc status", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Emergency calls to the CAD"] == (
        "⚠️ On, but calls are skipped: this server is not linked to a Northca MDT (an admin runs /link)."
        " 1 skipped so far."
    )


async def test_the_game_ending_the_call_closes_it_on_northca_once(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    number = prc.add_emergency_call(SERVER_KEY, "Police", caller=CALLER, description="Ends soon")
    await settle(h, prc)
    await until(lambda: len(sandbox.calls(MDT)) == 1, 5, "the Northca call")
    [call] = sandbox.calls(MDT)
    prc.end_emergency_call(SERVER_KEY, number)
    await settle(h, prc)
    # The end delivered again: nothing more.
    row = prc.db.execute("SELECT * FROM calls WHERE key = ? AND number = ?", (SERVER_KEY, number)).fetchone()
    again = emergency_call(
        "EmergencyCallEnded", call_number=number, caller=CALLER, started_at=row["started_at"], description="x"
    )
    await prc.send_event(prc.event_webhook(SERVER_KEY) or "", SERVER_KEY, [again])
    await settle(h, prc)
    await h.bot.dispatcher.process_due()
    patches = [r for r in sandbox.requests if r.method == "PATCH" and r.path.endswith(f"/calls/{call['id']}")]
    assert len(patches) == 1 and json.loads(patches[0].body)["status"] == "closed"
    assert sandbox.calls(MDT)[0]["status"] == "closed"
    [card] = cards(h)
    message_id = card.response["id"]
    edits = h.fake.find("PATCH", rf"^/channels/{DISPATCH_CH}/messages/{message_id}$")
    assert any("(closed)" in str((e.json or {}).get("embeds")) for e in edits)


async def test_the_same_call_seen_at_once_by_two_processes_is_one_northca_call(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox, db: Database, client: NorthcaClient
) -> None:
    """The key is the database's, not a process's: a second process (its own services, its own connection to the
    same database) and this one both relay the same call at the same moment, three times each."""
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    other = build_services(h.bot.config, db, client)
    await other.settings.start()
    assert other.settings.get(GUILD).erlc_calls_to_cad
    event = EmergencyCallEvent(GUILD, 42, 1_796_000_000_000, False, "Police", CALLER, "Seen twice at once", "Postal 9")
    relays = [h.bot.services.erlc_calls, other.erlc_calls]
    # The other process's cog would post the card when it wins: count what its relay announces.
    announced: list[GameCallRelayed] = []

    async def other_cog(relayed: GameCallRelayed) -> None:
        announced.append(relayed)

    other.erlc_calls.relayed.subscribe(other_cog)
    await asyncio.gather(*(relay.on_call(event) for relay in relays * 3))
    await h.bot.dispatcher.process_due()
    await other.dispatch.process_due()
    await h.bot.erlc.drain()
    creates = [r for r in northca_creates(sandbox) if "Seen twice at once" in json.loads(r.body)["description"]]
    assert len(creates) == 1
    assert len([c for c in sandbox.calls(MDT) if "Seen twice at once" in c["description"]]) == 1
    # One card of both processes: this one's posted, or the other's announced (never both).
    assert len(cards(h)) + len(announced) == 1


async def test_a_card_not_posted_before_the_bot_stopped_is_posted_once_at_the_next_start(
    start_bot: Any, sandbox: NorthcaSandbox, prc: PrcSandbox
) -> None:
    h = await boot(start_bot, prc)
    await ready(h, sandbox, prc)
    await prc.set_event_webhook(SERVER_KEY, None)
    # The process stops between the call's creation and its card: here, the card's poster never hears of it.
    h.bot.services.erlc_calls.relayed.unsubscribe(h.bot.get_cog("DispatchCog").on_game_call)
    prc.add_emergency_call(SERVER_KEY, "Police", caller=CALLER, description="Card after a crash")
    await h.bot.erlc.poll(GUILD)
    await settle(h, prc)
    assert len(northca_creates(sandbox)) == 1 and cards(h) == []
    await h.bot.close()

    h2 = await boot(start_bot, prc)
    await until(lambda: len(cards(h2)) == 1, 5, "the card, at start")
    assert "Card after a crash" in cards(h2)[0].json["embeds"][0]["description"]
    await h2.bot.erlc.poll(GUILD)
    await settle(h2, prc)
    await h2.bot.close()
    h3 = await boot(start_bot, prc)
    await h3.bot.erlc.poll(GUILD)
    await settle(h3, prc)
    assert len(cards(h3)) == 1 and len(northca_creates(sandbox)) == 1
