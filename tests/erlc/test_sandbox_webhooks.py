"""The PRC sandbox's signed event webhooks: real POSTs on loopback to a receiver, verified with cryptography
against the sandbox's published public key; forged, stale and tampered ones do not verify."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from bot.erlc.sandbox import SIGNATURE_HEADER, TIMESTAMP_HEADER, PrcSandbox, PrcSandboxConfig
from bot.erlc.sandbox.webhooks import custom_command, emergency_call, webhook_probe
from bot.erlc.webhook_key import PRC_WEBHOOK_PUBLIC_KEY, load_public_key
from tests.erlc.conftest import SERVER_KEY

pytestmark = pytest.mark.asyncio


@dataclass
class Receiver:
    """A webhook endpoint that keeps what it was sent and answers 204."""

    url: str = ""
    got: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: web.Request) -> web.Response:
        rec.got.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


def verifies(public_key_b64: str, body: bytes, headers: dict[str, str]) -> bool:
    key = load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(key, Ed25519PublicKey)
    try:
        key.verify(bytes.fromhex(headers[SIGNATURE_HEADER]), headers[TIMESTAMP_HEADER].encode() + body)
    except InvalidSignature:
        return False
    return True


async def test_send_event_posts_signed_payload_that_verifies(prc: PrcSandbox, receiver: Receiver):
    status = await prc.send_event(receiver.url, SERVER_KEY, [custom_command(4242, "verify", "4KX2")])
    assert status == 204
    ((body, headers),) = receiver.got
    assert verifies(prc.public_key_b64, body, headers)
    payload = json.loads(body)
    assert payload["server"] == "Sunset County RP"  # the key is never sent, the server's name is
    (event,) = payload["events"]
    assert event["event"] == "CustomCommand" and event["origin"] == "4242"
    assert event["data"] == {"command": "verify", "argument": "4KX2"}
    assert isinstance(event["timestamp"], int) and str(event["timestamp"]) == headers[TIMESTAMP_HEADER]
    assert SERVER_KEY.encode() not in body


async def test_emergency_call_and_probe_events(prc: PrcSandbox, receiver: Receiver):
    events = [
        webhook_probe(),
        emergency_call("EmergencyCallStarted", call_number=3, team="Fire", caller=77, players=[1, 2]),
    ]
    await prc.send_event(receiver.url, "Any Server Name", events)
    ((body, headers),) = receiver.got
    assert verifies(prc.public_key_b64, body, headers)
    probe, call = json.loads(body)["events"]
    assert probe["event"] == "WebhookProbe" and probe["data"] == {}
    assert call["event"] == "EmergencyCallStarted"
    assert call["data"]["callNumber"] == 3 and call["data"]["team"] == "Fire" and call["data"]["caller"] == 77
    assert set(call["data"]) == {
        "players",
        "caller",
        "description",
        "callNumber",
        "team",
        "position",
        "positionDescriptor",
        "startedAt",
    }


async def test_forged_stale_and_tampered_requests(prc: PrcSandbox, receiver: Receiver):
    body = prc.signer.payload("Sunset County RP", [custom_command(1, "verify", "AAAA")])
    good = prc.signer.sign(body)
    assert verifies(prc.public_key_b64, good.body, good.headers)
    forged = prc.signer.forged(body)
    assert not verifies(prc.public_key_b64, forged.body, forged.headers)
    tampered = prc.signer.tampered(body)
    assert tampered.body != body and not verifies(prc.public_key_b64, tampered.body, tampered.headers)
    stale = prc.signer.stale(body, age_seconds=3600)
    # A replay: the signature is genuine, only the timestamp tells it is old (the receiver must check it).
    assert verifies(prc.public_key_b64, stale.body, stale.headers)
    assert int(good.headers[TIMESTAMP_HEADER]) - int(stale.headers[TIMESTAMP_HEADER]) == 3600
    # And over the wire, as an attacker would send them.
    for attempt in (forged, tampered, stale, prc.signer.unsigned(body)):
        assert await prc.post_signed(receiver.url, attempt.body, attempt.headers) == 204
    assert len(receiver.got) == 4
    assert not verifies(prc.public_key_b64, *receiver.got[0])
    assert SIGNATURE_HEADER not in receiver.got[3][1]


async def test_public_key_is_spki_base64_like_prcs_and_loads(prc: PrcSandbox):
    ours = load_public_key(prc.public_key_b64)
    prcs = load_public_key(PRC_WEBHOOK_PUBLIC_KEY)
    assert isinstance(ours, Ed25519PublicKey) and isinstance(prcs, Ed25519PublicKey)
    assert len(base64.b64decode(prc.public_key_b64)) == len(base64.b64decode(PRC_WEBHOOK_PUBLIC_KEY)) == 44
    assert prc.public_key_b64 != PRC_WEBHOOK_PUBLIC_KEY


async def test_key_pair_survives_a_restart_with_a_state_file(tmp_path):
    db = str(tmp_path / "prc.sqlite3")
    first = PrcSandbox(PrcSandboxConfig(db_path=db))
    key = first.public_key_b64
    first.close()
    again = PrcSandbox(PrcSandboxConfig(db_path=db))
    try:
        assert again.public_key_b64 == key
    finally:
        again.close()
    other = PrcSandbox(PrcSandboxConfig())
    try:
        assert other.public_key_b64 != key
    finally:
        other.close()


async def test_events_admin_route_delivers(prc: PrcSandbox, receiver: Receiver, http):
    url = f"{prc.base_url}/_sandbox/events"
    payload = {"url": receiver.url, "server": SERVER_KEY, "events": [custom_command(9, "verify", "ZZZZ")]}
    async with http.post(url, json=payload) as resp:
        assert resp.status == 200 and (await resp.json())["data"] == {"delivered": True, "status": 204}
    ((body, headers),) = receiver.got
    assert verifies(prc.public_key_b64, body, headers)


async def test_saving_the_webhook_sends_a_probe_and_chat_commands_reach_it(prc: PrcSandbox, receiver: Receiver):
    prc.join(SERVER_KEY, 4242, "OfficerBob", team="Police", callsign="1A-12")
    assert await prc.chat(SERVER_KEY, 4242, ";verify 4KX2") is None  # no webhook yet: goes nowhere
    assert await prc.set_event_webhook(SERVER_KEY, receiver.url) == 204
    assert await prc.chat(SERVER_KEY, 4242, "hello everyone") is None  # plain chat is not sent
    assert await prc.chat(SERVER_KEY, 4242, ";verify   4KX2 ") == 204
    assert len(receiver.got) == 2
    for body, headers in receiver.got:
        assert verifies(prc.public_key_b64, body, headers)
    probe = json.loads(receiver.got[0][0])["events"][0]
    command = json.loads(receiver.got[1][0])["events"][0]
    assert probe["event"] == "WebhookProbe"
    assert command["event"] == "CustomCommand" and command["origin"] == "4242"
    assert command["data"] == {"command": "verify", "argument": "4KX2"}
    with pytest.raises(KeyError):
        await prc.chat(SERVER_KEY, 999, ";verify X")  # only a player in game can type


async def test_emergency_calls_are_sent_when_started_and_ended(prc: PrcSandbox, receiver: Receiver):
    await prc.set_event_webhook(SERVER_KEY, receiver.url)
    number = prc.add_emergency_call(SERVER_KEY, team="Police", caller=77, description="shots fired", descriptor="218")
    await prc.events_sent()
    prc.end_emergency_call(SERVER_KEY, number)
    await prc.events_sent()
    started, ended = (json.loads(body)["events"][0] for body, _ in receiver.got[1:])
    assert started["event"] == "EmergencyCallStarted" and ended["event"] == "EmergencyCallEnded"
    assert started["data"]["callNumber"] == number and started["data"]["description"] == "shots fired"
    assert started["data"]["positionDescriptor"] == "218" and started["data"]["caller"] == 77
    assert prc.webhook_statuses == [204, 204, 204]


async def test_a_script_types_in_chat(prc: PrcSandbox, receiver: Receiver):
    await prc.play(
        [
            {"after": 0, "op": "set_webhook", "key": SERVER_KEY, "url": receiver.url},
            {"after": 0, "op": "join", "key": SERVER_KEY, "user_id": 5, "name": "Ann", "team": "Police"},
            {"after": 0.05, "op": "chat", "key": SERVER_KEY, "user_id": 5, "message": ";verify ABCD"},
        ]
    )
    events = [json.loads(body)["events"][0]["event"] for body, _ in receiver.got]
    assert events == ["WebhookProbe", "CustomCommand"]


async def test_webhook_admin_routes(prc: PrcSandbox, receiver: Receiver, http):
    prc.join(SERVER_KEY, 6, "Cat")
    base = f"{prc.base_url}/_sandbox/servers/{SERVER_KEY}"
    async with http.put(f"{base}/webhook", json={"url": receiver.url}) as resp:
        assert (await resp.json())["data"] == {"probe_status": 204}
    async with http.post(f"{base}/chat", json={"user_id": 6, "message": ";verify QQQQ"}) as resp:
        assert (await resp.json())["data"] == {"webhook_status": 204}
    assert len(receiver.got) == 2


async def test_an_unreachable_webhook_is_not_fatal(prc: PrcSandbox):
    prc.join(SERVER_KEY, 6, "Cat")
    assert await prc.set_event_webhook(SERVER_KEY, "http://127.0.0.1:9/hook") is None
    assert await prc.chat(SERVER_KEY, 6, ";verify QQQQ") is None
