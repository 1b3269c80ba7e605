"""The PRC sandbox itself, over loopback HTTP: the v1 shapes, keys and codes, the admin API, scripts, the
state file, the CLI. (The client's view is in test_client.py; rate limits in test_rate_limits.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig, ScriptError
from tests.erlc.conftest import OTHER_KEY, OWNER_ID, RAW, SERVER_KEY, assert_requests_follow_the_copy
from tests.erlc.prc_spec import validate_prc_request

RATE_HEADERS = ("X-RateLimit-Bucket", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


async def get(
    http: aiohttp.ClientSession, prc: PrcSandbox, path: str, key: str | None = SERVER_KEY, **headers: str
) -> tuple[int, Any, dict[str, str]]:
    headers.update(RAW)
    if key is not None:
        headers["Server-Key"] = key
    async with http.get(f"{prc.base_url}{path}", headers=headers) as resp:
        body = await resp.read()
        return resp.status, json.loads(body) if body else None, dict(resp.headers)


async def test_v1_endpoints_shapes(prc: PrcSandbox, http: aiohttp.ClientSession):
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12", permission="Server Administrator")
    prc.join(SERVER_KEY, 102, "CivAlice")
    prc.set_queue(SERVER_KEY, [301])
    prc.add_staff(SERVER_KEY, 101, "OfficerBob", "Admin")

    status, server, _ = await get(http, prc, "/v1/server")
    assert status == 200 and server["Name"] == "Sunset County RP" and server["OwnerId"] == OWNER_ID
    assert server["CurrentPlayers"] == 2 and server["MaxPlayers"] == 40
    assert set(server) == {
        "Name",
        "OwnerId",
        "CoOwnerIds",
        "CurrentPlayers",
        "MaxPlayers",
        "JoinKey",
        "AccVerifiedReq",
        "TeamBalance",
    }
    _, players, _ = await get(http, prc, "/v1/server/players")
    assert players == [
        {"Player": "OfficerBob:101", "Permission": "Server Administrator", "Team": "Police", "Callsign": "1A-12"},
        {"Player": "CivAlice:102", "Permission": "Normal", "Team": "Civilian"},
    ]
    _, logs, _ = await get(http, prc, "/v1/server/joinlogs")
    assert [(e["Join"], e["Player"]) for e in logs] == [(True, "OfficerBob:101"), (True, "CivAlice:102")]
    assert all(isinstance(e["Timestamp"], int) for e in logs)
    assert (await get(http, prc, "/v1/server/queue"))[1] == [301]
    assert (await get(http, prc, "/v1/server/bans"))[1] == []  # the quirk: an empty map is []
    prc.ban(SERVER_KEY, 9, "Griefer")
    assert (await get(http, prc, "/v1/server/bans"))[1] == {"9": "Griefer"}
    assert (await get(http, prc, "/v1/server/staff"))[1] == {
        "CoOwners": [],
        "Admins": {"101": "OfficerBob"},
        "Mods": {},
    }
    for path in ("/v1/server/killlogs", "/v1/server/modcalls", "/v1/server/vehicles", "/v1/server/commandlogs"):
        assert (await get(http, prc, path))[1] == []


async def test_v2_players_have_location_and_wanted_stars(prc: PrcSandbox, http: aiohttp.ClientSession):
    prc.join(SERVER_KEY, 101, "Bob", team="Police", callsign="1A-12", location={"PostalCode": "218"})
    _, body, _ = await get(http, prc, "/v2/server?Players=true&Staff=true&KillLogs=true")
    (player,) = body["Players"]
    assert player["Location"]["PostalCode"] == "218" and player["WantedStars"] == 0
    assert body["Staff"] == {"Admins": {}, "Mods": {}, "Helpers": {}} and body["KillLogs"] == []
    assert "Queue" not in body and "JoinLogs" not in body  # only the sections asked for


async def test_team_change_drops_callsign_and_callsign_only_off_civilian(prc: PrcSandbox):
    prc.join(SERVER_KEY, 101, "Bob", team="Civilian", callsign="ignored")
    assert prc.players(SERVER_KEY)[0]["callsign"] is None
    prc.set_team(SERVER_KEY, 101, "Police")
    prc.set_callsign(SERVER_KEY, 101, "1A-12")
    assert prc.players(SERVER_KEY)[0]["callsign"] == "1A-12"
    prc.set_team(SERVER_KEY, 101, "Civilian")
    assert prc.players(SERVER_KEY)[0]["callsign"] is None
    with pytest.raises(ValueError, match="unknown team"):
        prc.set_team(SERVER_KEY, 101, "SWAT")
    with pytest.raises(KeyError):
        prc.set_team(SERVER_KEY, 999, "Police")


@pytest.mark.parametrize(
    ("headers", "code", "status"),
    [
        ({}, 2000, 400),
        ({"Server-Key": "has space"}, 2001, 400),
        ({"Server-Key": "unknown-key"}, 2002, 403),
        ({"Server-Key": SERVER_KEY, "Authorization": "bad-global"}, 2003, 403),
    ],
)
async def test_key_codes(prc: PrcSandbox, http: aiohttp.ClientSession, headers: dict[str, str], code: int, status: int):
    prc.join(SERVER_KEY, 101, "Bob")
    async with http.get(f"{prc.base_url}/v2/server", headers={**headers, **RAW}) as resp:
        body = await resp.json()
        assert (resp.status, body["code"]) == (status, code) and body["message"]
        assert all(h in resp.headers for h in RATE_HEADERS)  # every answer carries them


async def test_revoked_and_banned_keys(prc: PrcSandbox, http: aiohttp.ClientSession):
    prc.join(SERVER_KEY, 101, "Bob")
    prc.add_server(OTHER_KEY)
    prc.join(OTHER_KEY, 102, "Ann")
    prc.revoke_key(SERVER_KEY)
    prc.ban_key(OTHER_KEY)
    assert (await get(http, prc, "/v1/server"))[1]["code"] == 2002
    assert (await get(http, prc, "/v1/server", key=OTHER_KEY))[1]["code"] == 2004


async def test_offline_server_answers_3002_unless_configured(prc: PrcSandbox, http: aiohttp.ClientSession):
    status, body, headers = await get(http, prc, "/v2/server?Players=true")
    assert (status, body["code"]) == (422, 3002) and headers["X-RateLimit-Bucket"] == "global"
    async with PrcSandbox(PrcSandboxConfig(offline_when_empty=False)) as always_on:
        always_on.add_server(SERVER_KEY, name="Always")
        status, body, _ = await get(http, always_on, "/v2/server?Players=true")
        assert status == 200 and body["Players"] == [] and body["CurrentPlayers"] == 0


async def test_inject_any_code_on_one_key_only(prc: PrcSandbox, http: aiohttp.ClientSession):
    prc.add_server(OTHER_KEY)
    for key in (SERVER_KEY, OTHER_KEY):
        prc.join(key, 1, "A")
    prc.inject(code=1001, times=2, key=OTHER_KEY)
    assert (await get(http, prc, "/v1/server"))[0] == 200
    assert (await get(http, prc, "/v1/server", key=OTHER_KEY))[1]["code"] == 1001
    assert (await get(http, prc, "/v1/server", key=OTHER_KEY))[1]["code"] == 1001
    assert (await get(http, prc, "/v1/server", key=OTHER_KEY))[0] == 200
    with pytest.raises(ValueError, match="unknown PRC error code"):
        prc.inject(code=1234)
    with pytest.raises(ValueError, match="times"):
        prc.inject(code=1001, times=0)


async def test_commands_v1_and_v2(prc: PrcSandbox, http: aiohttp.ClientSession):
    prc.join(SERVER_KEY, 1, "A")
    url = f"{prc.base_url}/v2/server/command"
    async with http.post(url, json={"command": ":h hi"}, headers={"Server-Key": SERVER_KEY, **RAW}) as resp:
        assert resp.status == 200 and await resp.json() == {"message": "Success"}
        assert resp.headers["X-RateLimit-Bucket"] == f"command-{SERVER_KEY}"
    await asyncio.sleep(0)
    async with http.post(
        f"{prc.base_url}/v1/server/command",
        json={"command": "no colon"},
        headers={"Server-Key": OTHER_KEY + "x", **RAW},
    ) as resp:
        assert (await resp.json())["code"] == 2002
    assert prc.commands(SERVER_KEY) == [":h hi"]
    _, logs, _ = await get(http, prc, "/v1/server/commandlogs")
    assert logs[0]["Player"] == "Remote Server" and logs[0]["Command"] == ":h hi"


async def test_admin_http_api(prc: PrcSandbox, http: aiohttp.ClientSession):
    base = f"{prc.base_url}/_sandbox"

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with http.request(method, base + path, json=body) as resp:
            return resp.status, await resp.json()

    assert (await call("POST", "/servers", {"key": "K9", "name": "Admin RP", "max_players": 10}))[0] == 201
    assert (await call("POST", "/servers/K9/players", {"user_id": 5, "name": "Bob", "team": "Police"}))[0] == 201
    assert (await call("PATCH", "/servers/K9/players/5", {"callsign": "1A-1", "team": "Sheriff"}))[0] == 200
    assert (await call("PUT", "/servers/K9/queue", {"user_ids": [8, 9]}))[1]["data"] == {"queue": [8, 9]}
    status, body = await call("POST", "/servers/K9/calls", {"team": "Police", "caller": 5, "description": "help"})
    assert status == 201 and body["data"] == {"call_number": 1}
    _, state = await call("GET", "/state")
    (server,) = [s for s in state["data"]["servers"] if s["key"] == "K9"]
    assert [(p["team"], p["callsign"]) for p in server["players"]] == [("Sheriff", "1A-1")]
    assert server["max_players"] == 10 and server["queue"] == [8, 9] and len(server["calls"]) == 1
    assert (await call("POST", "/faults", {"code": 9999}))[1]["data"] == {"queued": 1, "latency_ms": 0.0}
    assert (await get(http, prc, "/v1/server", key="K9"))[1]["code"] == 9999
    assert (await call("DELETE", "/servers/K9/players/5"))[1]["data"] == {"players": 0}
    assert (await call("POST", "/servers/K9/revoke"))[0] == 200
    assert prc.key_state("K9") == "revoked"
    # Bad input: a clear error, nothing changed.
    assert (await call("POST", "/servers/nope/players", {"user_id": 1, "name": "X"}))[0] == 404
    status, body = await call("POST", "/servers/K9/players", {"user_id": 1, "name": "X", "team": "SWAT"})
    assert status == 400 and "unknown team" in body["error"]
    assert (await call("POST", "/faults", {"code": 1234}))[0] == 400
    assert (await call("GET", "/public-key"))[1]["data"] == {"public_key": prc.public_key_b64}


async def test_script_replays_timed_events(prc: PrcSandbox):
    script = [
        {"after": 0, "op": "join", "key": SERVER_KEY, "user_id": 1, "name": "Ann", "team": "Police"},
        {"after": 0.1, "op": "set_callsign", "key": SERVER_KEY, "user_id": 1, "callsign": "1A-01"},
        {"after": 0.2, "op": "call", "key": SERVER_KEY, "team": "Fire", "caller": 1},
        {"after": 0.3, "op": "join", "key": SERVER_KEY, "user_id": 2, "name": "Ben"},
        {"after": 0.4, "op": "leave", "key": SERVER_KEY, "user_id": 1},
    ]
    task = prc.play(script, speed=2.0)
    results = await asyncio.wait_for(task, 5)
    assert results[2] == 1  # the call's number
    assert [r["name"] for r in prc.players(SERVER_KEY)] == ["Ben"]
    assert [(r["user_id"], bool(r["joined"])) for r in prc.join_logs(SERVER_KEY)] == [(1, True), (2, True), (1, False)]
    with pytest.raises(ScriptError, match="step 0: op"):
        prc.play([{"op": "explode", "key": SERVER_KEY}])
    with pytest.raises(ScriptError, match="not before"):
        prc.play(
            [
                {"after": 2, "op": "leave", "key": SERVER_KEY, "user_id": 1},
                {"after": 1, "op": "revoke", "key": SERVER_KEY},
            ]
        )


async def test_state_file_survives_a_restart(tmp_path: Path):
    db = str(tmp_path / "prc.sqlite3")
    first = PrcSandbox(PrcSandboxConfig(db_path=db))
    first.add_server(SERVER_KEY, name="Kept RP")
    first.join(SERVER_KEY, 1, "Ann", team="Police", callsign="1A")
    first.close()
    again = PrcSandbox(PrcSandboxConfig(db_path=db))
    try:
        assert again.server_name(SERVER_KEY) == "Kept RP"
        assert [(r["name"], r["callsign"]) for r in again.players(SERVER_KEY)] == [("Ann", "1A")]
    finally:
        again.close()


def test_cli_runs_the_sandbox_with_a_script(tmp_path: Path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"after": 0, "op": "join", "key": "CLI-KEY", "user_id": 3, "name": "Cat"}]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.erlc.sandbox",
            "--port",
            "0",
            "--server",
            "CLI-KEY:CLI RP",
            "--script",
            str(script),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("PRC sandbox on http://127.0.0.1:"), line
        base = line.split()[3]

        async def read() -> Any:
            async with aiohttp.ClientSession() as http:
                for _ in range(50):
                    async with http.get(f"{base}/v1/server/players", headers={"Server-Key": "CLI-KEY"}) as resp:
                        if resp.status == 200:
                            return await resp.json()
                    await asyncio.sleep(0.1)
            return None

        assert asyncio.run(read()) == [{"Player": "Cat:3", "Permission": "Normal", "Team": "Civilian"}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_spec_copy_catches_requests_that_break_it():
    validate_prc_request("GET", "/v2/server", {"Players": "true"}, {"Server-Key": "k"}, b"")
    with pytest.raises(AssertionError, match="not an operation"):
        validate_prc_request("GET", "/v2/players", {}, {"Server-Key": "k"}, b"")
    with pytest.raises(AssertionError, match="Server-Key missing"):
        validate_prc_request("GET", "/v2/server", {}, {}, b"")
    with pytest.raises(AssertionError, match="not in the copy"):
        validate_prc_request("GET", "/v2/server", {"Bans": "true"}, {"Server-Key": "k"}, b"")
    with pytest.raises(Exception, match=r"enum|not one of"):
        validate_prc_request("GET", "/v2/server", {"Players": "yes"}, {"Server-Key": "k"}, b"")
    with pytest.raises(AssertionError, match="no body"):
        validate_prc_request("GET", "/v1/server", {}, {"Server-Key": "k"}, b"{}")
    with pytest.raises(Exception, match="does not match"):
        validate_prc_request(
            "POST",
            "/v2/server/command",
            {},
            {"Server-Key": "k", "Content-Type": "application/json"},
            b'{"command": "h"}',
        )


def test_northca_bot_erlc_sandbox_subcommand_keeps_state_in_a_file(tmp_path: Path):
    db = tmp_path / "prc.sqlite3"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "erlc-sandbox",
            "--port",
            "0",
            "--db",
            str(db),
            "--server",
            "SUB-KEY:Sub RP",
            "--rate-limit",
            "7",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split()[3]

        async def drive() -> tuple[int, Any, str, Any]:
            async with aiohttp.ClientSession() as http:
                headers = {"Server-Key": "SUB-KEY"}
                async with http.get(f"{base}/v1/server", headers=headers) as resp:
                    offline = (resp.status, await resp.json(), resp.headers["X-RateLimit-Limit"])
                join = {"user_id": 4, "name": "Dee", "team": "Fire", "callsign": "E-4"}
                async with http.post(f"{base}/_sandbox/servers/SUB-KEY/players", json=join) as resp:
                    assert resp.status == 201
                async with http.get(f"{base}/v1/server/players", headers=headers) as resp:
                    return offline[0], offline[1], offline[2], await resp.json()

        status, body, limit, players = asyncio.run(drive())
        assert (status, body["code"], limit) == (422, 3002, "7")
        assert players == [{"Player": "Dee:4", "Permission": "Normal", "Team": "Fire", "Callsign": "E-4"}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    kept = PrcSandbox(PrcSandboxConfig(db_path=str(db)))
    try:
        assert [r["name"] for r in kept.players("SUB-KEY")] == ["Dee"]
    finally:
        kept.close()


async def test_demo_sandbox_serves_the_demo_server_and_keeps_it(tmp_path: Path, http: aiohttp.ClientSession):
    from bot.erlc.client import PrcClient
    from bot.erlc.sandbox.demo import DEMO_SERVER_KEY, demo_state_path, start_demo_sandbox

    path = demo_state_path(str(tmp_path / "northca-bot.sqlite3"))
    assert path.endswith("northca-bot.prc-sandbox.sqlite3")
    demo = await start_demo_sandbox(path)
    try:
        assert demo.base_url
        snap = await PrcClient(http, demo.base_url).snapshot(DEMO_SERVER_KEY)
        assert snap.server_name == "Demo ER:LC Server" and snap.current_players == 3
        demo.leave(DEMO_SERVER_KEY, 1003)
    finally:
        await demo.stop()
    assert_requests_follow_the_copy(demo.requests)
    again = await start_demo_sandbox(path)
    try:
        assert again.player_count(DEMO_SERVER_KEY) == 2  # a restart keeps the state, the seed is not replayed
    finally:
        await again.stop()


async def test_unknown_api_paths_answer_404_with_the_rate_limit_headers(prc: PrcSandbox, http: aiohttp.ClientSession):
    status, body, headers = await get(http, prc, "/v2/server/players")
    assert body == {"message": "Not Found"}
    assert status == 404 and all(h in headers for h in RATE_HEADERS)
    async with http.post(f"{prc.base_url}/v1/server", headers=RAW) as resp:
        assert resp.status == 404 and "X-RateLimit-Bucket" in resp.headers


def test_a_full_server_refuses_a_join(tmp_path: Path):
    sandbox = PrcSandbox(PrcSandboxConfig())
    try:
        sandbox.add_server(SERVER_KEY, max_players=2)
        sandbox.join(SERVER_KEY, 1, "A")
        sandbox.join(SERVER_KEY, 2, "B")
        sandbox.join(SERVER_KEY, 2, "B")  # already in: nothing changes
        with pytest.raises(ValueError, match="full"):
            sandbox.join(SERVER_KEY, 3, "C")
        assert sandbox.player_count(SERVER_KEY) == 2
    finally:
        sandbox.close()
