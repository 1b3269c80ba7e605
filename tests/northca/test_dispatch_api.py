"""The dispatch endpoints (panic, calls, scene reports, tickets): the client against the real sandbox
over loopback HTTP. Every request the client sends is validated against the spec copy by the
`sandbox` fixture when each test ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaForbidden, NorthcaNotFound, NorthcaServerError, NorthcaUnauthorized
from bot.northca.models import (
    CreateCallBody,
    CreateSceneReportBody,
    CreateTicketBody,
    UpdateCallBody,
)
from bot.northca.sandbox import NorthcaSandbox
from tests.helpers.ids import GUILD, KEY, MDT, OWNER
from tests.spec import validate_request

pytestmark = pytest.mark.asyncio

HEADERS = {"x-partner-key": KEY, "x-discord-guild": str(GUILD)}


def new_id() -> str:
    return str(uuid.uuid4())


async def state(http: aiohttp.ClientSession, sandbox: NorthcaSandbox) -> dict[str, Any]:
    assert sandbox.base_url
    async with http.get(sandbox.base_url.removesuffix("/v1") + "/_sandbox/state") as resp:
        payload: dict[str, Any] = await resp.json()
    return payload["data"]


async def raw(
    http: aiohttp.ClientSession,
    sandbox: NorthcaSandbox,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """A request the client's strict models could never send (deliberately off-spec)."""
    async with http.request(method, f"{sandbox.base_url}{path}", json=body, headers=headers or HEADERS) as resp:
        return resp.status, await resp.json()


# --- panic ----------------------------------------------------------------------


async def test_panic_reaches_northca_with_the_address_and_shows_in_state(client, sandbox, http):
    sandbox.link(GUILD, MDT)
    result = await client.panic_unit(MDT, "ADAM-12", GUILD, OWNER, address="Route 68 \u202emile 4")
    assert result.panicked is True and result.unit_id == "ADAM-12" and result.ts is not None
    assert result.ts.tzinfo is not None
    [panic] = (await state(http, sandbox))["panics"][MDT]
    # The address went through the sanitizer: the bidi override is gone.
    assert (panic["unit_id"], panic["address"], panic["actor_discord_id"]) == ("ADAM-12", "Route 68 mile 4", str(OWNER))


async def test_panic_without_location_sends_a_null_address(client, sandbox):
    sandbox.link(GUILD, MDT)
    await client.panic_unit(MDT, "ADAM-12", GUILD)
    assert sandbox.requests[-1].body == b'{"address": null}'
    assert sandbox.panics(MDT)[0]["address"] is None


async def test_repeated_panic_is_harmless_one_panic_per_unit(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("commit_then_500", times=1, path="/panic$")
    # The first attempt is stored but its answer lost: the client repeats it, safely.
    result = await client.panic_unit(MDT, "ADAM-12", GUILD, address="Main St")
    assert result.panicked is True
    await client.panic_unit(MDT, "ADAM-12", GUILD, address="Main St")
    assert [r.status for r in sandbox.requests] == [500, 200, 200]
    assert [(p["unit_id"], p["address"]) for p in sandbox.panics(MDT)] == [("ADAM-12", "Main St")]


async def test_panic_for_an_mdt_not_linked_to_the_guild_is_forbidden(client, sandbox):
    with pytest.raises(NorthcaForbidden):
        await client.panic_unit(MDT, "ADAM-12", GUILD)
    assert sandbox.panics(MDT) == []


# --- calls ---------------------------------------------------------------------


async def test_call_created_with_bot_id_and_status_defaults_to_open(client, sandbox, http):
    sandbox.link(GUILD, MDT)
    call_id = new_id()
    body = CreateCallBody(
        id=call_id,
        classification="10-50",
        description="Two vehicles\nblocking lane",
        location="Route 68",
        call_type="Traffic",
        priority="2",
        units_assigned=["ADAM-12"],
        created_by="B. Bubbleton",
    )
    call = await client.create_call(MDT, body, GUILD, OWNER)
    assert (call.id, call.status, call.units_assigned) == (call_id, "open", ["ADAM-12"])
    assert call.description == "Two vehicles blocking lane"  # sanitized: the line break became a space
    [held] = (await state(http, sandbox))["calls"][MDT]
    assert held == {
        "id": call_id,
        "classification": "10-50",
        "description": "Two vehicles blocking lane",
        "location": "Route 68",
        "status": "open",
        "call_type": "Traffic",
        "priority": "2",
        "units_assigned": ["ADAM-12"],
        "created_by": "B. Bubbleton",
    }


async def test_call_without_id_gets_one_from_the_server(client, sandbox):
    sandbox.link(GUILD, MDT)
    call = await client.create_call(MDT, CreateCallBody(description="Shots fired"), GUILD)
    assert call.id and [c["id"] for c in sandbox.calls(MDT)] == [call.id]
    assert call.units_assigned is None and call.status == "open"


async def test_call_retried_after_commit_then_500_is_stored_once(client, sandbox):
    sandbox.link(GUILD, MDT)
    body = CreateCallBody(id=new_id(), description="Robbery")
    sandbox.faults.add("commit_then_500", times=1, method="POST", path="/calls$")
    with pytest.raises(NorthcaServerError):
        await client.create_call(MDT, body, GUILD)
    # The client repeated the same id (the sandbox refuses a known id as for shifts); one call only.
    assert sum(r.method == "POST" for r in sandbox.requests) >= 2
    assert [c["id"] for c in sandbox.calls(MDT)] == [body.id]


@pytest.mark.parametrize("body", [{}, {"id": None}, {"id": " \u200b "}], ids=["unset", "null", "blank"])
async def test_call_without_id_is_not_retried_after_commit_then_500(client, sandbox, body):
    # A null or (once cleaned) empty id lets the server choose one: a repeat would be a second call.
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("commit_then_500", times=1, method="POST", path="/calls$")
    with pytest.raises(NorthcaServerError):
        await client.create_call(MDT, CreateCallBody(description="Robbery", **body), GUILD)
    assert len(sandbox.requests) == 1 and len(sandbox.calls(MDT)) == 1


async def test_patch_sets_the_full_units_assigned_and_leaves_the_rest(client, sandbox):
    sandbox.link(GUILD, MDT)
    call_id = new_id()
    await client.create_call(MDT, CreateCallBody(id=call_id, description="Robbery", units_assigned=["ADAM-12"]), GUILD)
    update = UpdateCallBody(units_assigned=["ADAM-12", "LINCOLN-3"], status="en route")
    call = await client.update_call(MDT, call_id, update, GUILD, OWNER)
    assert (call.units_assigned, call.status, call.description) == (["ADAM-12", "LINCOLN-3"], "en route", "Robbery")
    # Applying the same full list again changes nothing: a retried PATCH is harmless.
    again = await client.update_call(MDT, call_id, update, GUILD, OWNER)
    assert again.units_assigned == ["ADAM-12", "LINCOLN-3"]
    assert sandbox.calls(MDT)[0]["units_assigned"] == ["ADAM-12", "LINCOLN-3"]


async def test_patch_retried_after_commit_then_500_applies_once(client, sandbox):
    sandbox.link(GUILD, MDT)
    call_id = new_id()
    await client.create_call(MDT, CreateCallBody(id=call_id), GUILD)
    sandbox.faults.add("commit_then_500", times=1, method="PATCH")
    call = await client.update_call(MDT, call_id, UpdateCallBody(units_assigned=["ADAM-12"]), GUILD)
    assert call.units_assigned == ["ADAM-12"]
    assert [r.status for r in sandbox.requests if r.method == "PATCH"] == [500, 200]


async def test_patch_applies_only_the_documented_fields(http, sandbox):
    sandbox.link(GUILD, MDT)
    status, _created = await raw(http, sandbox, "POST", f"/mdts/{MDT}/calls", {"id": "C-1", "created_by": "Alice"})
    assert status == 201
    status, answer = await raw(
        http,
        sandbox,
        "PATCH",
        f"/mdts/{MDT}/calls/C-1",
        {"id": "C-2", "created_by": "Mallory", "location": "Pier", "future": 1},
    )
    assert status == 200
    assert (answer["data"]["id"], answer["data"]["created_by"], answer["data"]["location"]) == ("C-1", "Alice", "Pier")
    assert [(c["id"], c["created_by"], c["location"]) for c in sandbox.calls(MDT)] == [("C-1", "Alice", "Pier")]
    sandbox.requests.clear()  # deliberately off-spec; not the client's requests


async def test_patch_of_an_unknown_call_is_not_found(client, sandbox):
    sandbox.link(GUILD, MDT)
    with pytest.raises(NorthcaNotFound):
        await client.update_call(MDT, "no-such-call", UpdateCallBody(status="closed"), GUILD)


async def test_calls_need_the_mdt_linked_to_this_guild(client, sandbox):
    sandbox.link(GUILD + 1, MDT)
    with pytest.raises(NorthcaForbidden):
        await client.create_call(MDT, CreateCallBody(id=new_id()), GUILD)
    assert sandbox.calls(MDT) == []


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/calls", {"id": "C-1", "callsign": "A"}, "Unknown fields: callsign"),
        ("POST", "/calls", {"units_assigned": "ADAM-12"}, "Invalid units_assigned"),
        ("POST", "/calls", {"units_assigned": ["ADAM-12", 3]}, "Invalid units_assigned"),
        ("POST", "/calls", {"priority": 2}, "Invalid priority"),
        ("POST", "/calls", ["not", "an", "object"], "Invalid JSON"),
        ("PATCH", "/calls/C-1", {"units_assigned": [None]}, "Invalid units_assigned"),
        ("POST", "/scene-reports", {"title": "T", "officer_callsign": "A"}, "Unknown fields: officer_callsign"),
        ("POST", "/scene-reports", {"date": 20260301}, "Invalid date"),
        ("POST", "/tickets", {"dispatch_call_id": "C-1"}, "Unknown fields: dispatch_call_id"),
        ("POST", "/tickets", {"officer_badge": 512}, "Invalid officer_badge"),
        ("POST", "/units/active/ADAM-12/panic", {"address": 5}, "Invalid address"),
        ("POST", "/units/active/ADAM-12/panic", {"address": "x", "lat": 1}, "Unknown fields: lat"),
    ],
)
async def test_sandbox_refuses_unknown_fields_and_wrong_types(http, sandbox, method, path, body, message):
    sandbox.link(GUILD, MDT)
    sandbox.db.execute("INSERT INTO calls (mdt_id, id, created_at, updated_at) VALUES (?, 'C-1', 'now', 'now')", (MDT,))
    assert await raw(http, sandbox, method, f"/mdts/{MDT}{path}", body) == (400, {"ok": False, "error": message})
    assert sandbox.panics(MDT) == [] and len(sandbox.calls(MDT)) == 1
    assert sandbox.dispatch_records("scene_reports", MDT) == sandbox.dispatch_records("tickets", MDT) == []
    sandbox.requests.clear()  # deliberately off-spec; not the client's requests


async def test_dispatch_endpoints_need_the_partner_key_and_guild(http, sandbox):
    sandbox.link(GUILD, MDT)
    for headers in (
        {"x-discord-guild": str(GUILD)},
        {"x-partner-key": "wrong", "x-discord-guild": str(GUILD)},
        {"x-partner-key": KEY},
    ):
        for path in ("/calls", "/tickets", "/scene-reports", "/units/active/A/panic"):
            assert await raw(http, sandbox, "POST", f"/mdts/{MDT}{path}", {}, headers) == (
                401,
                {"ok": False, "error": "Unauthorized"},
            )
    sandbox.requests.clear()  # deliberately off-spec (headers missing)
    bad = NorthcaClient(http, sandbox.base_url or "", "not-the-key", timeout=2)
    with pytest.raises(NorthcaUnauthorized):
        await bad.create_ticket(MDT, CreateTicketBody(id=new_id()), GUILD)


# --- scene reports and tickets --------------------------------------------------------


async def test_scene_report_defaults_to_draft_and_links_a_call(client, sandbox, http):
    sandbox.link(GUILD, MDT)
    call = await client.create_call(MDT, CreateCallBody(id=new_id(), description="Robbery"), GUILD)
    report_id = new_id()
    body = CreateSceneReportBody(
        id=report_id,
        title="Robbery at 24/7",
        description="Suspect fled north",
        location="Route 68",
        date="2026-03-01",
        time="01:23",
        officer_name="B. Bubbleton",
        officer_badge="512",
        dispatch_call_id=call.id,
    )
    report = await client.create_scene_report(MDT, body, GUILD, OWNER)
    assert (report.id, report.status, report.dispatch_call_id) == (report_id, "DRAFT", call.id)
    [held] = (await state(http, sandbox))["scene_reports"][MDT]
    assert held["title"] == "Robbery at 24/7" and held["status"] == "DRAFT" and held["date"] == "2026-03-01"


async def test_ticket_defaults_to_open_and_server_id_when_none_given(client, sandbox, http):
    sandbox.link(GUILD, MDT)
    body = CreateTicketBody(
        title="Speeding",
        description="82 in a 45",
        officer_name="B. Bubbleton",
        officer_badge="512",
        officer_callsign="ADAM-12",
        priority="low",
    )
    ticket = await client.create_ticket(MDT, body, GUILD, OWNER)
    assert ticket.id and ticket.status == "open" and ticket.officer_callsign == "ADAM-12"
    [held] = (await state(http, sandbox))["tickets"][MDT]
    assert held["id"] == ticket.id and held["priority"] == "low"


@pytest.mark.parametrize("kind", ["scene_report", "ticket"])
async def test_report_or_ticket_retried_after_commit_then_500_is_stored_once(client, sandbox, kind):
    sandbox.link(GUILD, MDT)
    record_id = new_id()
    sandbox.faults.add("commit_then_500", times=1, method="POST")
    with pytest.raises(NorthcaServerError):
        if kind == "ticket":
            await client.create_ticket(MDT, CreateTicketBody(id=record_id, title="Speeding"), GUILD)
        else:
            await client.create_scene_report(MDT, CreateSceneReportBody(id=record_id, title="Robbery"), GUILD)
    assert sum(r.method == "POST" for r in sandbox.requests) >= 2
    table = "tickets" if kind == "ticket" else "scene_reports"
    assert [r["id"] for r in sandbox.dispatch_records(table, MDT)] == [record_id]


async def test_500_then_success_on_a_create_with_id_is_retried_to_success(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("500", times=1, method="POST")
    ticket = await client.create_ticket(MDT, CreateTicketBody(id="T-1"), GUILD)
    assert ticket.id == "T-1" and [r.status for r in sandbox.requests] == [500, 201]


# --- request bodies are strict ------------------------------------------------------


async def test_request_bodies_refuse_fields_that_are_not_documented():
    from pydantic import ValidationError

    # Each gets a field it does not have, on purpose (hence the call-arg ignores): the model must refuse it.
    with pytest.raises(ValidationError):
        CreateCallBody(callsign="A")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        UpdateCallBody(id="C-1")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CreateTicketBody(dispatch_call_id="C-1")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        CreateSceneReportBody(officer_callsign="A")  # type: ignore[call-arg]
    # Only what was set goes out: no accidental nulls overwrite a call's fields on PATCH.
    assert UpdateCallBody(units_assigned=["A\u200bDAM-12"]).to_json() == {"units_assigned": ["ADAM-12"]}


# --- answers are read leniently ---------------------------------------------------


@pytest.fixture
async def rich_northca(http: aiohttp.ClientSession) -> AsyncIterator[NorthcaClient]:
    """A Northca richer or poorer than the recovered docs: unknown fields, missing fields, odd types."""

    async def answer(request: web.Request) -> web.Response:
        validate_request(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        path = request.path
        if path.endswith("/panic"):
            data: Any = {"panicked": True, "unit_id": "ADAM-12", "ts": "2026-03-01T01:23:45.678Z", "level": 3}
        elif path.endswith("/tickets"):
            data = {"ticket_number": 77, "priority": 1, "status": None}
        elif path.endswith("/scene-reports"):
            data = None
        else:
            data = {
                "id": "C-1",
                "units_assigned": ["ADAM-12", 7, None],
                "priority": 1,
                "zone": {"n": 1},
                "description": ["odd"],
            }
        return web.json_response({"ok": True, "data": data, "meta": {"v": "1.2"}})

    app = web.Application()
    app.router.add_route("*", "/v1/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield NorthcaClient(http, f"http://127.0.0.1:{runner.addresses[0][1]}/v1", KEY, timeout=2)
    finally:
        await runner.cleanup()


async def test_answers_with_unknown_missing_and_odd_fields_parse(rich_northca):
    panic = await rich_northca.panic_unit(MDT, "ADAM-12", GUILD, address="Main St")
    assert panic.panicked is True and panic.ts is not None and panic.ts.microsecond == 678000
    call = await rich_northca.create_call(MDT, CreateCallBody(id="C-1"), GUILD)
    assert (call.id, call.units_assigned, call.priority, call.description) == ("C-1", ["ADAM-12", "7"], "1", None)
    updated = await rich_northca.update_call(MDT, "C-1", UpdateCallBody(status="closed"), GUILD)
    assert updated.id == "C-1"
    ticket = await rich_northca.create_ticket(MDT, CreateTicketBody(id="T-1"), GUILD)
    assert (ticket.id, ticket.priority, ticket.status) == (None, "1", None)
    report = await rich_northca.create_scene_report(MDT, CreateSceneReportBody(id="R-1"), GUILD)
    assert report.id is None and report.status is None
