"""The ER:LC link against the PRC sandbox over loopback: connecting (good, bad, revoked keys; encrypted at
rest), polls into the presence store, each error code, 2002 on a later poll, verification by callsign."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.core.errors import Conflict
from bot.erlc.client import PrcClient
from bot.erlc.keys import KeyVault
from bot.erlc.port import GameKeyInvalid, GameRateLimited, GameTemporary
from bot.erlc.records import PRC_ACTOR_ID, ServerConnectionChanged
from bot.erlc.sandbox import PrcSandbox
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.erlc.conftest import OTHER_KEY, SERVER_KEY
from tests.helpers.bot import KEK, make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services, v2_reads
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OTHER, OTHER_GUILD

pytestmark = pytest.mark.asyncio


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc, prc_client, clock):
    return game_services(make_config(sandbox, db_path, game=prc), db, client, prc_client, clock)


async def test_connect_good_key_stores_it_encrypted_never_in_clear_nor_logged(
    services, prc: PrcSandbox, db: Database, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    connected = await services.erlc.connect(GUILD, ADMIN, f"  {SERVER_KEY}\n")

    assert (connected.server.server_name, connected.players, connected.max_players) == ("Sunset County RP", 1, 40)
    [row] = await db.fetchall("SELECT * FROM erlc_servers")
    stored = " ".join(str(v) for v in tuple(row))
    assert SERVER_KEY not in stored and row["state"] == "connected"
    assert KeyVault(KEK).decrypt(str(row["key_cipher"])) == SERVER_KEY
    # Audited like a setting, without the key.
    [audit] = await db.fetchall("SELECT * FROM settings_audit WHERE setting_key = 'erlc.server'")
    assert audit["actor_id"] == ADMIN and "Sunset County RP" in audit["new_json"]
    assert SERVER_KEY not in " ".join(str(v) for v in tuple(audit))
    assert SERVER_KEY not in caplog.text


async def test_connect_bad_and_revoked_keys_are_refused_and_nothing_is_saved(services, prc: PrcSandbox, db: Database):
    prc.join(SERVER_KEY, 101, "OfficerBob")
    with pytest.raises(GameKeyInvalid) as bad:
        await services.erlc.connect(GUILD, ADMIN, "not-a-key-of-any-server")
    assert "not-a-key" not in str(bad.value)
    prc.revoke_key(SERVER_KEY)
    with pytest.raises(GameKeyInvalid):
        await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    assert await db.fetchall("SELECT * FROM erlc_servers") == []
    assert await db.fetchall("SELECT * FROM settings_audit") == []


async def test_connect_refusals_per_error_code_save_nothing(services, prc: PrcSandbox, db: Database):
    prc.join(SERVER_KEY, 101, "OfficerBob")
    prc.inject(code=4001, key=SERVER_KEY, retry_after=7)
    with pytest.raises(GameRateLimited) as limited:
        await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    assert limited.value.retry_after == pytest.approx(7, abs=1)
    for code in (1001, 1002, 9999):
        prc.inject(code=code, key=SERVER_KEY)
        with pytest.raises(GameTemporary):
            await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    assert await db.fetchall("SELECT * FROM erlc_servers") == []


async def test_joins_leaves_team_and_callsign_changes_reach_the_presence_store(services, prc: PrcSandbox, clock):
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12", permission="Server Moderator")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    t0 = clock()
    assert (await services.erlc.poll(GUILD)).ok
    [bob] = await services.erlc.presence(GUILD)
    assert (bob.user_id, bob.name, bob.team, bob.callsign, bob.permission, bob.since_ms) == (
        101, "OfficerBob", "Police", "1A-12", "Server Moderator", t0,
    )  # fmt: skip

    clock.advance(60)
    prc.join(SERVER_KEY, 102, "CivAlice")
    prc.set_team(SERVER_KEY, 101, "Sheriff")
    outcome = await services.erlc.poll(GUILD)
    assert sorted((c.user_id, c.kind) for c in outcome.changes) == [(101, "team"), (102, "join")]

    clock.advance(60)
    prc.set_callsign(SERVER_KEY, 101, "S-7")
    prc.leave(SERVER_KEY, 102)
    await services.erlc.poll(GUILD)
    assert [(e.user_id, e.team, e.callsign) for e in await services.erlc.presence(GUILD)] == [(101, "Sheriff", "S-7")]
    history = await services.erlc.history(GUILD)
    assert [(c.user_id, c.kind, c.team) for c in history] == [
        (101, "join", "Police"), (101, "team", "Sheriff"), (102, "join", "Civilian"),
        (102, "leave", "Civilian"), (101, "callsign", "Sheriff"),
    ]  # fmt: skip

    # The last player leaves: PRC says offline (3002), a normal state: everybody left, the name is kept.
    clock.advance(60)
    prc.leave(SERVER_KEY, 101)
    outcome = await services.erlc.poll(GUILD)
    assert outcome.ok and outcome.players == 0 and [c.kind for c in outcome.changes] == ["leave"]
    assert await services.erlc.presence(GUILD) == []
    assert (await services.erlc.status(GUILD)).server.server_name == "Sunset County RP"


async def test_was_this_member_in_game_between_two_times_and_on_which_team(services, prc: PrcSandbox, clock):
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await services.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    before = clock()
    clock.advance(10)
    t_join = clock()
    await services.erlc.poll(GUILD)
    clock.advance(600)
    t_team = clock()
    prc.set_team(SERVER_KEY, 101, "Fire")
    await services.erlc.poll(GUILD)
    clock.advance(600)
    t_leave = clock()
    prc.leave(SERVER_KEY, 101)
    prc.join(SERVER_KEY, 102, "Other")  # keeps the server online
    await services.erlc.poll(GUILD)

    spans = await services.erlc.in_game_between(GUILD, OFFICER, before, t_leave + 1000)
    assert [(s.team, s.start_ms, s.end_ms) for s in spans] == [("Police", t_join, t_team), ("Fire", t_team, t_leave)]
    # Inside one stretch: in game the whole time, on that team.
    [inside] = await services.erlc.in_game_between(GUILD, OFFICER, t_join + 1000, t_join + 2000)
    assert (inside.team, inside.start_ms, inside.end_ms) == ("Police", t_join + 1000, None)
    assert await services.erlc.in_game_between(GUILD, OFFICER, t_leave + 1, t_leave + 5000) == []
    assert await services.erlc.in_game_between(GUILD, OTHER, before, t_leave) == []  # not linked


async def test_each_error_code_on_a_poll_and_429_with_retry_after(services, prc: PrcSandbox, db: Database):
    prc.join(SERVER_KEY, 101, "OfficerBob")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    for code, kind in ((1001, "temporary"), (1002, "temporary"), (9999, "temporary"), (9998, "refused")):
        prc.inject(code=code, key=SERVER_KEY)
        outcome = await services.erlc.poll(GUILD)
        assert (outcome.ok, outcome.error, outcome.disconnected) == (False, kind, False), code
    prc.inject(status=429, code=4001, key=SERVER_KEY, retry_after=3)
    limited = await services.erlc.poll(GUILD)
    assert limited.error == "rate_limited" and limited.retry_after == pytest.approx(3, abs=1)
    [row] = await db.fetchall("SELECT failures, state FROM erlc_servers")
    assert (row["failures"], row["state"]) == (5, "connected")
    ok = await services.erlc.poll(GUILD)
    assert ok.ok
    [row] = await db.fetchall("SELECT failures, last_error FROM erlc_servers")
    assert (row["failures"], row["last_error"]) == (0, None)
    # The poller waits out PRC's retry_after before the next poll, and backs off after errors.
    poller = services.erlc_poller
    assert await poller._next_delay(limited) >= 3
    first = await poller._next_delay(outcome)
    second = await poller._next_delay(outcome)
    assert second > first * 1.5


async def test_2002_on_a_later_poll_disconnects_once_tells_the_admins_and_stops_polling(
    services, prc: PrcSandbox, db: Database
):
    seen: list[ServerConnectionChanged] = []
    services.events.erlc.subscribe_now(lambda e: seen.append(e) if isinstance(e, ServerConnectionChanged) else None)
    prc.join(SERVER_KEY, 101, "OfficerBob")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await services.erlc.poll(GUILD)
    prc.revoke_key(SERVER_KEY)

    outcome = await services.erlc.poll(GUILD)
    assert outcome.disconnected and outcome.error == "key_invalid"
    again = await services.erlc.poll(GUILD)
    assert again.disconnected and again.error == "not_connected"
    # One read after the 2002 was refused; the second poll sent nothing.
    assert [r.status for r in v2_reads(prc, SERVER_KEY)][-1] != 200 and len(v2_reads(prc, SERVER_KEY)) == 3
    assert [(e.connected, e.actor_id, e.reason) for e in seen] == [(True, ADMIN, None), (False, None, "key_invalid")]
    [row] = await db.fetchall("SELECT state, key_cipher, disconnected_reason FROM erlc_servers")
    assert (row["state"], row["key_cipher"], row["disconnected_reason"]) == ("disconnected", None, "key_invalid")
    [audit] = await db.fetchall("SELECT actor_id FROM settings_audit WHERE new_json LIKE '%key_invalid%'")
    assert audit["actor_id"] == PRC_ACTOR_ID
    assert await services.erlc.presence(GUILD) == []  # nothing can be known of it any more


async def test_verify_by_callsign_links_the_code_owner_once(services, prc: PrcSandbox, clock):
    prc.join(SERVER_KEY, 900, "Someone")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    code, expires = await services.erlc.new_code(GUILD, OFFICER)
    assert expires == clock() + 10 * 60 * 1000 and len(code) == 6
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign=code.lower())
    outcome = await services.erlc.poll(GUILD)
    assert [(link.discord_id, link.roblox_id, link.how) for link in outcome.linked] == [(OFFICER, 101, "callsign")]
    assert (await services.erlc.link_of(GUILD, OFFICER)).roblox_id == 101
    # Single use: another player showing the same code later links nothing.
    prc.join(SERVER_KEY, 102, "Copycat", team="Police", callsign=code)
    assert (await services.erlc.poll(GUILD)).linked == ()
    assert (await services.erlc.link_of(GUILD, OFFICER)).roblox_id == 101


async def test_a_wrong_member_cannot_use_someone_elses_code(services, prc: PrcSandbox):
    prc.join(SERVER_KEY, 900, "Someone")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    officer_code, _ = await services.erlc.new_code(GUILD, OFFICER, roblox_name="OfficerBob")
    other_code, _ = await services.erlc.new_code(GUILD, OTHER)
    assert officer_code != other_code
    # OTHER's Roblox account shows OFFICER's code: bound to OfficerBob's account, it links nobody...
    prc.join(SERVER_KEY, 555, "Mallory", team="Police", callsign=officer_code)
    assert (await services.erlc.poll(GUILD)).linked == ()
    assert await services.erlc.link_of(GUILD, OTHER) is None and await services.erlc.link_of(GUILD, OFFICER) is None
    # ...and the code still works for its owner's account.
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign=officer_code)
    [link] = (await services.erlc.poll(GUILD)).linked
    assert (link.discord_id, link.roblox_id) == (OFFICER, 101)
    # A code is bound to one server: OTHER's code on another guild's server links nothing there.
    prc.add_server(OTHER_KEY, name="Other RP")
    prc.join(OTHER_KEY, 556, "Mallory2", team="Police", callsign=other_code)
    await services.erlc.connect(OTHER_GUILD, ADMIN, OTHER_KEY)
    assert (await services.erlc.poll(OTHER_GUILD)).linked == ()


async def test_an_expired_code_links_nobody_and_an_account_links_to_one_member(services, prc: PrcSandbox, clock):
    prc.join(SERVER_KEY, 900, "Someone")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    code, _ = await services.erlc.new_code(GUILD, OFFICER)
    clock.advance(10 * 60 + 1)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign=code)
    assert (await services.erlc.poll(GUILD)).linked == ()
    # Staff link 101 to OFFICER; OTHER cannot take 101 (by hand or by code).
    await services.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    with pytest.raises(Conflict):
        await services.erlc.staff_link(GUILD, ADMIN, OTHER, 101)
    code, _ = await services.erlc.new_code(GUILD, OTHER)
    prc.set_callsign(SERVER_KEY, 101, code)
    assert (await services.erlc.poll(GUILD)).linked == ()
    assert (await services.erlc.link_of(GUILD, OFFICER)).roblox_id == 101
    # A member removes their own link (not audited as staff); staff unlink is audited.
    await services.erlc.unlink(GUILD, OFFICER, OFFICER)
    assert await services.erlc.link_of(GUILD, OFFICER) is None
    with pytest.raises(Conflict):
        await services.erlc.unlink(GUILD, OFFICER, OFFICER)


async def test_csv_import_links_and_refuses_taken_accounts(services, db: Database):
    await services.erlc.staff_link(GUILD, ADMIN, OTHER, 7)
    done, refused = await services.erlc.import_links(
        GUILD, ADMIN, f"discord_id,roblox_id\n{OFFICER},101\n123456789012345678, 7\n"
    )
    assert (done, refused) == (1, [(123456789012345678, 7)])
    assert (await services.erlc.link_of(GUILD, OFFICER)).how == "import"
    from bot.core.errors import ErrorKind, InvalidInput

    with pytest.raises(InvalidInput) as refused_file:
        await services.erlc.import_links(GUILD, ADMIN, f"{OFFICER},101\nnot,numbers\n")
    assert refused_file.value.kind is ErrorKind.ERLC_IMPORT_LINE_MALFORMED and refused_file.value.data == {"line": 2}
    keys = [r["setting_key"] for r in await db.fetchall("SELECT setting_key FROM settings_audit ORDER BY id")]
    assert keys == ["erlc.link", "erlc.link"]


async def test_prc_client_is_the_port(prc_client: PrcClient):
    from bot.erlc.port import GameServerPort

    port: GameServerPort = prc_client
    assert port is prc_client


async def test_cadence_is_fast_while_a_linked_member_is_on_duty_slow_when_empty(services, prc: PrcSandbox, linked):
    poller = services.erlc_poller
    poller.fast_seconds, poller.seconds, poller.slow_seconds = 10, 30, 120
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await services.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    players_in_game = await poller._next_delay(await services.erlc.poll(GUILD))
    assert 28 <= players_in_game <= 32
    await services.shifts.start(GUILD, OFFICER, display_name="Ofc. Bob")
    on_duty = await poller._next_delay(await services.erlc.poll(GUILD))
    assert 9 <= on_duty <= 11
    prc.leave(SERVER_KEY, 101)  # nobody in game: PRC says offline
    empty = await poller._next_delay(await services.erlc.poll(GUILD))
    assert 110 <= empty <= 130


async def test_connect_never_keeps_the_admin_waiting_behind_a_429(services, prc: PrcSandbox, db: Database):
    import asyncio

    prc.join(SERVER_KEY, 101, "OfficerBob")
    prc.inject(status=429, code=4001, key=SERVER_KEY, retry_after=30)
    with pytest.raises(GameRateLimited):
        await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    services.erlc.connect_timeout = 0.5
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(GameTemporary):  # the bucket is blocked for 30 s: answered within the timeout instead
        await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    assert loop.time() - started < 2
    assert await db.fetchall("SELECT * FROM erlc_servers") == []


async def test_roblox_links_asked_for_together_are_read_by_one_statement_each_its_own(db: Database) -> None:
    """Every /shift start without a chosen callsign asks for the member's Roblox link (their in-game callsign is the
    unit): a burst of starts makes one trip, and each asker gets exactly their own link, in their own server."""
    from bot.erlc.store import ErlcStore

    store = ErlcStore(db)
    for n in range(20):
        await store.link(GUILD, 1000 + n, 5000 + n, f"player{n}", "command", ADMIN, 1, audit=False)
    await store.link(OTHER_GUILD, 1000, 9000, "elsewhere", "command", ADMIN, 1, audit=False)
    reads: list[str] = []
    if db.engine == "sqlite":
        await db._raw.set_trace_callback(lambda sql: reads.append(sql) if "FROM erlc_links" in sql else None)
    try:
        asked = [(GUILD, 1000 + n) for n in range(30)] + [(OTHER_GUILD, 1000), (OTHER_GUILD, 1001)]
        found = await asyncio.gather(*(store.link_of(guild, member) for guild, member in asked))
    finally:
        if db.engine == "sqlite":
            await db._raw.set_trace_callback(None)
    assert [link.roblox_id if link else None for link in found] == [
        *(5000 + n for n in range(20)),
        *([None] * 10),
        9000,
        None,
    ]
    assert all(link is None or (link.guild_id, link.discord_id) == key for link, key in zip(found, asked, strict=True))
    if db.engine == "sqlite":
        assert len(reads) == 1
    async with db.transaction():  # inside a transaction the read runs in it (the group would wait for its end)
        assert (await store.link_of(GUILD, 1001)) is not None
