"""The signed event webhook receiver on the bot's web server (127.0.0.1, port 0), fed by the PRC sandbox's
signer: forged, stale, tampered, unsigned and unknown-URL requests get 401 and change nothing; `;verify CODE`
links; deliveries are handled once; emergency calls are stored once and published."""

from __future__ import annotations

import pytest

from bot.erlc.records import EmergencyCallEvent
from bot.erlc.sandbox import PrcSandbox
from bot.erlc.sandbox.webhooks import custom_command, emergency_call, webhook_probe
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.erlc.conftest import SERVER_KEY
from tests.helpers.bot import WEB, make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OTHER

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def services(sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, prc_client):
    config = make_config(sandbox, db_path, game=prc, web=WEB)
    built = game_services(config, db, client, prc_client, Clock())
    assert built.web is not None
    await built.web.start()
    prc.join(SERVER_KEY, 900, "Someone")
    await built.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    yield built
    await built.web.stop()


async def local_url(services) -> str:
    status = await services.erlc.status(GUILD)
    assert status.webhook_url is not None and status.webhook_url.startswith("https://bot.example.org/erlc/events/")
    token = status.webhook_url.rsplit("/", 1)[1]
    assert len(token) >= 40  # unguessable
    return f"{services.web.base_url}/erlc/events/{token}"


async def test_forged_stale_tampered_unsigned_and_unknown_url_get_401_and_change_nothing(
    services, prc: PrcSandbox, db: Database
):
    url = await local_url(services)
    code, _ = await services.erlc.new_code(GUILD, OFFICER)
    body = prc.signer.payload("Sunset County RP", [custom_command(101, "verify", code)])
    for signed in (prc.signer.forged(body), prc.signer.stale(body, 600), prc.signer.tampered(body),
                   prc.signer.unsigned(body)):  # fmt: skip
        assert await prc.post_signed(url, signed.body, signed.headers) == 401
    good = prc.signer.sign(body)
    assert await prc.post_signed(url.rsplit("/", 1)[0] + "/not-a-token", good.body, good.headers) == 401
    assert await services.erlc.link_of(GUILD, OFFICER) is None
    assert await db.fetchall("SELECT * FROM erlc_webhook_events") == []
    # The same request, correctly signed and fresh, to the right URL: accepted and handled.
    assert await prc.post_signed(url, good.body, good.headers) == 200
    assert (await services.erlc.link_of(GUILD, OFFICER)).roblox_id == 101


async def test_verify_by_chat_command_once_and_deliveries_deduplicated(services, prc: PrcSandbox, db: Database):
    url = await local_url(services)
    assert await prc.send_event(url, SERVER_KEY, [webhook_probe()]) == 200
    code, _ = await services.erlc.new_code(GUILD, OFFICER)
    body = prc.signer.payload("Sunset County RP", [custom_command(101, "verify", code.lower())])
    signed = prc.signer.sign(body)
    assert await prc.post_signed(url, signed.body, signed.headers) == 200
    assert await prc.post_signed(url, signed.body, signed.headers) == 200  # PRC retried: handled once
    [link] = await services.erlc.links(GUILD)
    assert (link.discord_id, link.roblox_id, link.how) == (OFFICER, 101, "command")
    assert len(await db.fetchall("SELECT * FROM erlc_webhook_events")) == 2  # the probe and the command
    # Another player typing the used code links nothing; another member's code is theirs only.
    other_code, _ = await services.erlc.new_code(GUILD, OTHER)
    assert await prc.send_event(url, SERVER_KEY, [custom_command(102, "verify", code)]) == 200
    assert await prc.send_event(url, SERVER_KEY, [custom_command(103, "hello", other_code)]) == 200
    assert [(k.discord_id, k.roblox_id) for k in await services.erlc.links(GUILD)] == [(OFFICER, 101)]


async def test_emergency_calls_stored_once_and_published(services, prc: PrcSandbox):
    url = await local_url(services)
    seen: list[EmergencyCallEvent] = []
    services.events.erlc_calls.subscribe_now(seen.append)
    started = emergency_call(
        "EmergencyCallStarted", call_number=4, caller=101, players=[101, 102], description="Shots fired",
        position_descriptor="Postal 218", started_at=1_764_000_000,
    )  # fmt: skip
    body = prc.signer.payload("Sunset County RP", [started])
    signed = prc.signer.sign(body)
    assert await prc.post_signed(url, signed.body, signed.headers) == 200
    assert await prc.post_signed(url, signed.body, signed.headers) == 200  # delivered twice: handled once
    ended = emergency_call("EmergencyCallEnded", call_number=4, caller=101, started_at=1_764_000_000)
    assert await prc.send_event(url, SERVER_KEY, [ended, {"event": "SomethingNew", "data": {}}]) == 200
    [call] = await services.erlc.store.calls(GUILD)
    assert (call["call_number"], call["team"], call["caller_id"], call["description"], call["location"]) == (
        4, "Police", 101, "Shots fired", "Postal 218",
    )  # fmt: skip
    assert call["ended_ms"] is not None
    assert [(e.number, e.ended) for e in seen] == [(4, False), (4, True)]


async def test_a_disconnected_server_webhook_is_refused(services, prc: PrcSandbox):
    url = await local_url(services)
    await services.erlc.disconnect(GUILD, ADMIN)
    assert await prc.send_event(url, SERVER_KEY, [webhook_probe()]) == 401


async def test_a_rotated_webhook_url_refuses_the_old_one(services, prc: PrcSandbox):
    old = await local_url(services)
    new = await services.erlc.rotate_webhook(GUILD, ADMIN)
    assert new.rsplit("/", 1)[1] != old.rsplit("/", 1)[1]
    assert await prc.send_event(old, SERVER_KEY, [webhook_probe()]) == 401
    assert await prc.send_event(await local_url(services), SERVER_KEY, [webhook_probe()]) == 200


async def test_no_web_server_unless_configured(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, prc_client
):
    built = game_services(make_config(sandbox, db_path, game=prc), db, client, prc_client)
    assert built.web is None and not any(type(s).__name__ == "WebServer" for s in built.background)
    prc.join(SERVER_KEY, 900, "Someone")
    await built.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    assert (await built.erlc.status(GUILD)).webhook_url is None  # polling only: no URL to show
