"""The PRC client against the PRC sandbox over loopback HTTP: the shapes, the quirks, every error code."""

from __future__ import annotations

import json
import logging

import pytest

from bot.erlc.client import PrcAnswerTooLarge, PrcClient, PrcGlobalKeyInvalid
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


@pytest.mark.parametrize("code", [2000, 2001, 2002, 2004])
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
            assert not prc.faults.queue, f"code {code}: raised without asking the sandbox"
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


# --- quirks, read leniently --------------------------------------------------------------------------------


async def test_quirks_unknown_fields_missing_fields_and_one_bad_item(prc: PrcSandbox, prc_client: PrcClient):
    """A v2 answer as PRC may send it: fields we do not know, a player without Callsign, a call without
    Description, one player written badly (dropped, the others kept)."""
    body = {
        "Name": "Quirky RP",
        "OwnerId": 9,
        "CoOwnerIds": [],
        "CurrentPlayers": 3,
        "MaxPlayers": 40,
        "JoinKey": "abc",
        "AccVerifiedReq": "Disabled",
        "TeamBalance": True,
        "SomethingNew": {"x": 1},
        "Players": [
            {"Player": "Ann:11", "Permission": "Server Helper", "Team": "Civilian", "NewField": 1},
            {
                "Player": "Ben:12",
                "Permission": "Normal",
                "Team": "Police",
                "Callsign": "2B-1",
                "WantedStars": 0,
                "Location": {
                    "LocationX": 1.5,
                    "LocationZ": -2,
                    "PostalCode": "218",
                    "StreetName": "Main Street",
                    "BuildingNumber": "12",
                },
            },
            {"Player": "no-colon-here", "Permission": "Normal", "Team": "Civilian"},
        ],
        "EmergencyCalls": [
            {
                "Team": "Police",
                "Caller": None,
                "Players": [],
                "Position": [1, 2],
                "StartedAt": 1700000000,
                "CallNumber": 4,
                "PositionDescriptor": None,
            },
        ],
    }
    prc.inject(raw_body=json.dumps(body).encode(), status=200)
    snap = await prc_client.snapshot(SERVER_KEY, calls=True)
    assert [p.name for p in snap.players] == ["Ann", "Ben"]
    assert snap.players[0].callsign is None and snap.players[0].permission == "Server Helper"
    assert snap.players[1].location == "postal 218, 12 Main Street"
    (call,) = snap.calls
    assert call.description is None and call.caller_id is None and call.started_at_ms == 1_700_000_000_000
    assert prc_client.items_dropped == 1


async def test_vehicle_without_color_hex_is_read(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.add_vehicle(SERVER_KEY, "Falcon Stallion 350", "Bob", plate="ABC123", color_name="Red")  # no ColorHex
    prc.add_vehicle(SERVER_KEY, "Bullhorn Prancer", "Bob", plate="XYZ", color_hex="#ff0000", color_name="Red")
    cars = await prc_client.vehicles(SERVER_KEY)
    assert [(c.Name, c.ColorHex) for c in cars] == [("Falcon Stallion 350", None), ("Bullhorn Prancer", "#ff0000")]
    assert "ColorHex" not in json.dumps(json.loads(prc.requests[-1].body or b"{}"))  # (a GET: no body)


async def test_bans_empty_map_sent_as_list_then_a_map(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "Bob")
    assert await prc_client.bans(SERVER_KEY) == {}
    assert prc.requests[-1].path == "/v1/server/bans"  # v2 has no bans
    prc.ban(SERVER_KEY, 666, "Griefer")
    assert await prc_client.bans(SERVER_KEY) == {666: "Griefer"}


async def test_staff_maps(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.add_staff(SERVER_KEY, 5, "AdminAmy", "Admin")
    prc.add_staff(SERVER_KEY, 6, "HelperHal", "Helper")
    staff = await prc_client.staff(SERVER_KEY)
    assert staff.Admins == {"5": "AdminAmy"} and staff.Helpers == {"6": "HelperHal"} and staff.Mods == {}


async def test_command_sent_and_refusals(prc: PrcSandbox, prc_client: PrcClient):
    with pytest.raises(GameRefused, match="offline"):
        await prc_client.command(SERVER_KEY, ":h hello")  # nobody in game: nobody to run it for
    prc.join(SERVER_KEY, 101, "Bob")
    await prc_client.command(SERVER_KEY, ":h hello")
    assert prc.commands(SERVER_KEY) == [":h hello"]
    with pytest.raises(ValueError):
        await prc_client.command(SERVER_KEY, "h no colon")
    prc.inject(code=4002, key=SERVER_KEY)
    with pytest.raises(GameRefused, match="4002"):
        await prc_client.command(SERVER_KEY, ":kick someone")


# --- answers the client refuses, timeouts ------------------------------------------------------------------


@pytest.mark.parametrize("announce", [True, False])
async def test_oversize_answer_refused_unread(prc: PrcSandbox, http, announce: bool):
    prc.join(SERVER_KEY, 101, "Bob")
    assert prc.base_url
    client = PrcClient(http, prc.base_url, max_answer_bytes=64 * 1024)
    prc.inject(body_bytes=8 * 1024 * 1024, announce_length=announce)
    with pytest.raises(PrcAnswerTooLarge) as info:
        await client.snapshot(SERVER_KEY)
    assert isinstance(info.value, GameTemporary)
    # The client is fine afterwards.
    assert (await client.snapshot(SERVER_KEY)).current_players == 1


async def test_answer_just_under_the_cap_is_read(prc: PrcSandbox, http):
    prc.join(SERVER_KEY, 101, "Bob")
    assert prc.base_url
    client = PrcClient(http, prc.base_url, max_answer_bytes=64 * 1024)
    prc.inject(body_bytes=60 * 1024)
    snap = await client.snapshot(SERVER_KEY)
    assert len(snap.server_name) > 50_000


async def test_timeout_is_temporary_and_frees_the_bucket(prc: PrcSandbox, http):
    prc.join(SERVER_KEY, 101, "Bob")
    assert prc.base_url
    client = PrcClient(http, prc.base_url, timeout=0.3)
    prc.inject(hang_seconds=2.0)
    with pytest.raises(GameTemporary, match=r"within 0\.3s"):
        await client.snapshot(SERVER_KEY)
    # Not stuck waiting for an answer that never came: the next read is sent and answered.
    assert (await client.snapshot(SERVER_KEY)).current_players == 1


async def test_connection_refused_is_temporary(http):
    client = PrcClient(http, "http://127.0.0.1:9", timeout=1.0)  # the discard port: nothing listens
    with pytest.raises(GameTemporary, match="could not reach"):
        await client.snapshot(SERVER_KEY)


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b"<html>maintenance</html>"), (502, b"<html>Bad gateway</html>"), (200, b"")],
)
async def test_bodies_that_are_not_json(prc: PrcSandbox, prc_client: PrcClient, status: int, body: bytes):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.inject(raw_body=body, status=status)
    with pytest.raises(GameTemporary):
        await prc_client.snapshot(SERVER_KEY)


async def test_base_url_must_be_https_off_loopback(http):
    with pytest.raises(ValueError, match="https"):
        PrcClient(http, "http://api.policeroleplay.community")
    PrcClient(http, "https://api.policeroleplay.community")


async def test_empty_key_is_refused_before_any_request(prc: PrcSandbox, prc_client: PrcClient):
    with pytest.raises(GameKeyInvalid):
        await prc_client.snapshot("")
    assert not prc.requests


@pytest.mark.parametrize("bad", ["key with space", "key\r\nX-Injected: 1", "kéy", "x" * 600])
async def test_a_key_no_header_can_carry_is_refused_unsent(prc: PrcSandbox, prc_client: PrcClient, bad: str):
    with pytest.raises(GameKeyInvalid) as info:
        await prc_client.snapshot(bad)
    assert bad not in str(info.value) and not prc.requests


async def test_global_key_must_be_a_header_value(http):
    with pytest.raises(ValueError, match="global key") as info:
        PrcClient(http, "https://api.policeroleplay.community", global_key="gk\nsecret")
    assert "secret" not in str(info.value)


async def test_read_time_comes_from_the_injected_clock(prc: PrcSandbox, http):
    prc.join(SERVER_KEY, 101, "Bob")
    assert prc.base_url
    client = PrcClient(http, prc.base_url, clock=lambda: 1_900_000_000.25)
    assert (await client.snapshot(SERVER_KEY)).read_at_ms == 1_900_000_000_250
    prc.leave(SERVER_KEY, 101)
    offline = await client.snapshot(SERVER_KEY)
    assert offline.read_at_ms == 1_900_000_000_250 and not offline.online


async def test_a_refused_global_key_disconnects_no_server_and_stops_sending(prc: PrcSandbox, http):
    """2003 is the bot's own global key: no server's key is wrong, so it is not GameKeyInvalid (which makes the
    caller disconnect the server), and nothing more is sent for a while (PRC penalises repeated invalid ones)."""
    prc.join(SERVER_KEY, 101, "Bob")
    assert prc.base_url
    wrong = PrcClient(http, prc.base_url, global_key="not-the-global-key")
    with pytest.raises(PrcGlobalKeyInvalid, match="2003") as info:
        await wrong.snapshot(SERVER_KEY)
    assert not isinstance(info.value, GameKeyInvalid) and isinstance(info.value, GameRefused)
    sent = len(prc.requests)
    with pytest.raises(PrcGlobalKeyInvalid):
        await wrong.snapshot(OTHER_KEY)
    assert len(prc.requests) == sent
    assert "not-the-global-key" not in str(info.value)
