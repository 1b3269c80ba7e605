"""The PRC client against the PRC sandbox over loopback HTTP: the shapes, the quirks, every error code."""

from __future__ import annotations

import logging

import pytest

from bot.erlc.client import PrcClient
from bot.erlc.port import GameKeyInvalid, GameRateLimited, GameRefused, GameServerPort, GameTemporary
from bot.erlc.sandbox import ERROR_CODES, PrcSandbox
from tests.erlc.conftest import OTHER_KEY, OWNER_ID, SERVER_KEY

pytestmark = pytest.mark.asyncio


def _port(client: PrcClient) -> GameServerPort:
    return client  # the client implements the port (mypy checks this line)


async def test_snapshot_reads_players_with_team_callsign_and_permission(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12", permission="Server Moderator")
    prc.join(SERVER_KEY, 102, "CivAlice")

    snap = await _port(prc_client).snapshot(SERVER_KEY)

    assert snap.online
    assert (snap.server_name, snap.owner_id, snap.current_players, snap.max_players) == (
        "Sunset County RP",
        OWNER_ID,
        2,
        40,
    )
    by_id = {p.user_id: p for p in snap.players}
    assert by_id[101].name == "OfficerBob" and by_id[101].team == "Police" and by_id[101].callsign == "1A-12"
    assert by_id[101].permission == "Server Moderator"
    assert by_id[102].team == "Civilian" and by_id[102].callsign is None
    # Only the sections asked for were requested.
    assert dict(prc.requests[-1].query) == {"Players": "true"}
    assert snap.queue == () and snap.calls == () and snap.joins == ()


async def test_snapshot_sections_queue_calls_joins(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Sheriff", callsign="S-3")
    prc.set_queue(SERVER_KEY, [501, 502])
    number = prc.add_emergency_call(SERVER_KEY, team="Fire", caller=101, description=None, descriptor="Postal 218")
    prc.leave(SERVER_KEY, 101)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")

    snap = await prc_client.snapshot(SERVER_KEY, players=False, queue=True, calls=True, joins=True)

    assert dict(prc.requests[-1].query) == {"Queue": "true", "EmergencyCalls": "true", "JoinLogs": "true"}
    assert snap.players == ()
    assert snap.queue == (501, 502)
    (call,) = snap.calls
    assert (call.number, call.team, call.caller_id, call.location) == (number, "Fire", 101, "Postal 218")
    assert call.description is None  # "Description (sometimes missing)": absent on the wire, accepted
    assert [(j.user_id, j.joined) for j in snap.joins] == [(101, True), (101, False), (101, True)]
    assert all(j.at_ms % 1000 == 0 and j.at_ms > 0 for j in snap.joins)


async def test_nobody_in_game_3002_is_an_empty_snapshot_not_an_error(prc: PrcSandbox, prc_client: PrcClient):
    snap = await prc_client.snapshot(SERVER_KEY, queue=True, calls=True, joins=True)
    assert prc.requests[-1].status == 422  # the sandbox did answer 3002
    assert snap.online is False and snap.players == () and snap.current_players == 0


@pytest.mark.parametrize("code", [2000, 2001, 2002, 2003, 2004])
async def test_key_error_codes_are_key_invalid(prc: PrcSandbox, prc_client: PrcClient, code: int):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.inject(code=code)
    with pytest.raises(GameKeyInvalid) as info:
        await prc_client.snapshot(SERVER_KEY)
    assert str(code) in str(info.value)


@pytest.mark.parametrize("code", [0, 1001, 1002, 9999])
async def test_temporary_error_codes(prc: PrcSandbox, prc_client: PrcClient, code: int):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.inject(code=code)
    with pytest.raises(GameTemporary):
        await prc_client.snapshot(SERVER_KEY)
    # Nothing is left broken: the next read works.
    assert (await prc_client.snapshot(SERVER_KEY)).current_players == 1


@pytest.mark.parametrize("code", [3001, 4002, 4003, 9998])
async def test_other_codes_are_refused(prc: PrcSandbox, prc_client: PrcClient, code: int):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.inject(code=code)
    with pytest.raises(GameRefused):
        await prc_client.snapshot(SERVER_KEY)


async def test_every_documented_code_maps_to_a_typed_error(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "Bob")
    for code in ERROR_CODES:
        prc.inject(code=code, retry_after=0.05)
        try:
            snap = await prc_client.snapshot(SERVER_KEY)
        except (GameKeyInvalid, GameRateLimited, GameRefused, GameTemporary):
            continue
        assert code == 3002 and snap.online is False, f"code {code} did not raise"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_without_code_is_temporary(prc: PrcSandbox, prc_client: PrcClient, status: int):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.inject(status=status)
    with pytest.raises(GameTemporary):
        await prc_client.snapshot(SERVER_KEY)


async def test_revoked_key_answers_2002(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "Bob")
    await prc_client.snapshot(SERVER_KEY)
    prc.revoke_key(SERVER_KEY)
    with pytest.raises(GameKeyInvalid, match="2002"):
        await prc_client.snapshot(SERVER_KEY)
    assert prc.requests[-1].status == 403


async def test_unknown_key_answers_2002(prc: PrcSandbox, prc_client: PrcClient):
    with pytest.raises(GameKeyInvalid, match="2002"):
        await prc_client.snapshot(OTHER_KEY)


async def test_key_never_logged_nor_in_errors(prc: PrcSandbox, prc_client: PrcClient, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    prc.join(SERVER_KEY, 101, "Bob")
    await prc_client.snapshot(SERVER_KEY)
    errors = []
    for code in (2002, 1001, 4001, 4002):
        prc.inject(code=code, retry_after=0.05)
        with pytest.raises((GameKeyInvalid, GameTemporary, GameRateLimited, GameRefused)) as info:
            await prc_client.snapshot(SERVER_KEY)
        errors.append(info.value)
    prc.revoke_key(SERVER_KEY)
    with pytest.raises(GameKeyInvalid) as info:
        await prc_client.snapshot(SERVER_KEY)
    errors.append(info.value)
    seen = caplog.text + " ".join(repr(e) + str(e) + repr(e.__cause__) for e in errors)
    seen += repr(prc_client) + repr(prc_client.rate_limits())
    assert SERVER_KEY not in seen
    assert errors and caplog.records
