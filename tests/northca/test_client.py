"""The Northca client against the real sandbox over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.northca.client import NorthcaClient
from bot.northca.errors import (
    NorthcaAnswerTooLarge,
    NorthcaBadRequest,
    NorthcaConflict,
    NorthcaForbidden,
    NorthcaGone,
    NorthcaRateLimited,
    NorthcaServerError,
    NorthcaUnauthorized,
    NorthcaUnavailable,
)
from bot.northca.models import ActiveUnitUpsert, CreateShiftBody
from tests.helpers.ids import ADMIN, GUILD, KEY, MDT, OWNER
from tests.helpers.northca import HugeAnswer
from tests.spec import validate_request

pytestmark = pytest.mark.asyncio


def completed_shift(**overrides) -> CreateShiftBody:
    start = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
    fields = dict(
        id=str(uuid.uuid4()),
        officer_name="B. Bubbleton",
        officer_badge="512",
        department="Patrol",
        status="completed",
        start_time=start,
        end_time=start + timedelta(hours=2),
        duration_ms=7_200_000,
    )
    fields.update(overrides)
    return CreateShiftBody(**fields)


# --- link requests -----------------------------------------------------------


async def test_link_request_created_pending_with_owner(client, sandbox):
    req = await client.create_link_request(GUILD, MDT, ADMIN)
    assert req.status == "pending"
    assert req.owner_discord_id == str(OWNER)
    assert req.requester_discord_id == str(ADMIN)
    assert req.expires_at is not None and req.expires_at.tzinfo is not None
    rec = sandbox.requests[-1]
    assert rec.headers["x-discord-guild"] == str(GUILD) and rec.headers["x-discord-actor"] == str(ADMIN)


async def test_link_request_unknown_mdt_is_invalid(client):
    with pytest.raises(NorthcaBadRequest) as info:
        await client.create_link_request(GUILD, "no-such-mdt")
    assert info.value.message == "Invalid mdt_id" and info.value.status == 400


async def test_link_request_not_retried_on_server_error(client, sandbox):
    sandbox.faults.add("500", times=1, path="/link-requests")
    with pytest.raises(NorthcaServerError):
        await client.create_link_request(GUILD, MDT, ADMIN)
    assert len(sandbox.requests) == 1  # a link request is never sent twice blindly


async def test_confirm_by_owner_links_then_answers_already(client, sandbox):
    req = await client.create_link_request(GUILD, MDT, ADMIN)
    with pytest.raises(NorthcaForbidden):
        await client.list_shifts(MDT, GUILD)
    first = await client.confirm_link_request(req.id, GUILD, OWNER)
    assert first.already is False
    again = await client.confirm_link_request(req.id, GUILD, OWNER)
    assert again.already is True
    assert [m.mdt_id for m in await client.list_guild_mdts(GUILD)] == [MDT]
    assert await client.list_shifts(MDT, GUILD) == []


async def test_confirm_by_someone_else_is_forbidden(client):
    req = await client.create_link_request(GUILD, MDT, ADMIN)
    with pytest.raises(NorthcaForbidden):
        await client.confirm_link_request(req.id, GUILD, ADMIN)


async def test_confirm_expired_and_denied(client, sandbox):
    expired = await client.create_link_request(GUILD, MDT, ADMIN)
    sandbox.decide(expired.id, "expired")
    with pytest.raises(NorthcaGone):
        await client.confirm_link_request(expired.id, GUILD, OWNER)
    denied = await client.create_link_request(GUILD, MDT, ADMIN)
    sandbox.decide(denied.id, "denied")
    with pytest.raises(NorthcaConflict):
        await client.confirm_link_request(denied.id, GUILD, OWNER)


async def test_unlink_owner_only(client, sandbox):
    sandbox.link(GUILD, MDT)
    with pytest.raises(NorthcaForbidden):
        await client.unlink_mdt(MDT, GUILD, ADMIN)
    await client.unlink_mdt(MDT, GUILD, OWNER)
    assert await client.list_guild_mdts(GUILD) == []
    with pytest.raises(NorthcaForbidden) as info:
        await client.list_shifts(MDT, GUILD)
    assert info.value.message == "MDT not linked to this guild"


# --- shifts ------------------------------------------------------------------


async def test_create_and_list_shift_round_trip(client, sandbox):
    sandbox.link(GUILD, MDT)
    body = completed_shift()
    created = await client.create_shift(MDT, body, GUILD, ADMIN)
    assert created.id == body.id and created.duration_ms == 7_200_000
    assert created.start_time == body.start_time and created.end_time.tzinfo is not None
    listed = await client.list_shifts(MDT, GUILD, limit=10)
    assert [s.id for s in listed] == [body.id]
    assert listed[0].created_by_discord_id == str(ADMIN)


async def test_shift_requires_link(client):
    with pytest.raises(NorthcaForbidden) as info:
        await client.create_shift(MDT, completed_shift(), GUILD)
    assert info.value.message == "MDT not linked to this guild"


async def test_list_most_recent_first_with_filters_and_cap(client, sandbox):
    sandbox.link(GUILD, MDT)
    ids = []
    for i in range(5):
        body = completed_shift(department="Fire" if i % 2 else "Patrol")
        ids.append(body.id)
        await client.create_shift(MDT, body, GUILD)
    newest_first = [s.id for s in await client.list_shifts(MDT, GUILD)]
    assert newest_first == list(reversed(ids))
    fire = await client.list_shifts(MDT, GUILD, department="Fire")
    assert {s.department for s in fire} == {"Fire"} and len(fire) == 2
    assert await client.list_shifts(MDT, GUILD, status="active") == []
    assert len(await client.list_shifts(MDT, GUILD, limit=2)) == 2
    await client.list_shifts(MDT, GUILD, limit=5000)  # capped by the client to the spec's 200
    assert sandbox.requests[-1].query["limit"] == "200"


# --- active units ------------------------------------------------------------


async def test_upsert_units_and_empty_strings_read_as_unset(client, sandbox):
    sandbox.link(GUILD, MDT)
    units = await client.upsert_active_units(
        MDT,
        [ActiveUnitUpsert(id="ADAM-12", officer_name="B. Bubbleton", status="10-8"), ActiveUnitUpsert(id="LINCOLN-3")],
        GUILD,
    )
    by_id = {u.id: u for u in units}
    assert by_id["ADAM-12"].status == "10-8"
    assert by_id["LINCOLN-3"].status is None and by_id["LINCOLN-3"].rank is None
    assert sandbox.units(MDT)["LINCOLN-3"]["rank"] == ""  # what the API stores


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"unit": []}, "Expected { units: [...] }"),
        ({"units": [{"id": ""}]}, "Each unit must include a non-empty id"),
        ({"units": [{"id": "A"}, {"id": "A"}]}, "Duplicate unit id in request body"),
    ],
)
async def test_sandbox_unit_validation_messages(http, sandbox, body, message):
    # Raw requests: the client's models make these bodies impossible to send.
    sandbox.link(GUILD, MDT)
    headers = {"x-partner-key": KEY, "x-discord-guild": str(GUILD)}
    async with http.put(f"{sandbox.base_url}/mdts/{MDT}/units/active", json=body, headers=headers) as resp:
        assert resp.status == 400
        assert await resp.json() == {"ok": False, "error": message}
    sandbox.requests.clear()  # deliberately off-spec; not the client's requests


async def test_sandbox_auth_and_body_errors(http, sandbox):
    url = f"{sandbox.base_url}/link-requests"
    cases = [
        ({"x-discord-guild": str(GUILD)}, b'{"mdt_id": "x"}', 401, "Unauthorized"),
        ({"x-partner-key": "wrong", "x-discord-guild": str(GUILD)}, b'{"mdt_id": "x"}', 401, "Unauthorized"),
        ({"x-partner-key": KEY}, b'{"mdt_id": "x"}', 401, "Unauthorized"),
        ({"x-partner-key": KEY, "x-discord-guild": str(GUILD)}, b"{not json", 400, "Invalid JSON"),
        ({"x-partner-key": KEY, "x-discord-guild": str(GUILD)}, b"{}", 400, "Missing required fields: mdt_id"),
        (
            {"x-partner-key": KEY, "x-discord-guild": str(GUILD)},
            b'{"mdt_id": "x", "extra": 1}',
            400,
            "Unknown fields: extra",
        ),
    ]
    for headers, body, status, message in cases:
        async with http.post(url, data=body, headers={**headers, "content-type": "application/json"}) as resp:
            assert (resp.status, (await resp.json())["error"]) == (status, message)
    sandbox.requests.clear()


async def test_wrong_key_maps_to_unauthorized(http, sandbox):
    bad = NorthcaClient(http, sandbox.base_url, "not-the-key", timeout=2)
    with pytest.raises(NorthcaUnauthorized) as info:
        await bad.create_link_request(GUILD, MDT)
    assert info.value.message == "Unauthorized"


# --- retries, deadlines, odd answers ------------------------------------------


async def test_500_then_success_is_retried(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("500", times=1)
    assert await client.list_shifts(MDT, GUILD) == []
    assert [r.status for r in sandbox.requests] == [500, 200]


async def test_429_waits_what_retry_after_says(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("429", times=1, retry_after=0.6)
    started = time.monotonic()
    await client.upsert_active_units(MDT, [ActiveUnitUpsert(id="ADAM-12", status="10-8")], GUILD)
    waited = time.monotonic() - started
    assert 0.6 <= waited < 2.0
    assert [r.status for r in sandbox.requests] == [429, 200]


async def test_hang_hits_the_deadline(http, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("hang", times=10, hang_seconds=30)
    client = NorthcaClient(http, sandbox.base_url, KEY, timeout=0.3, deadline=1.0, backoff_base=0.05)
    started = time.monotonic()
    with pytest.raises(NorthcaUnavailable):
        await client.list_shifts(MDT, GUILD)
    assert time.monotonic() - started < 1.5


async def test_commit_then_500_never_leaves_two_shifts(client, sandbox):
    sandbox.link(GUILD, MDT)
    body = completed_shift()
    sandbox.faults.add("commit_then_500", times=1, method="POST")
    with pytest.raises(NorthcaServerError):
        await client.create_shift(MDT, body, GUILD)
    # The client retried the same id; the write happened exactly once.
    assert sum(r.method == "POST" for r in sandbox.requests) >= 2
    assert [s["id"] for s in sandbox.shifts(MDT)] == [body.id]
    assert [s.id for s in await client.list_shifts(MDT, GUILD)] == [body.id]


async def test_shift_without_id_is_not_retried(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("commit_then_500", times=1, method="POST")
    body = CreateShiftBody(officer_name="No Id", status="completed")
    with pytest.raises(NorthcaServerError):
        await client.create_shift(MDT, body, GUILD)
    assert len(sandbox.shifts(MDT)) == 1


async def test_html_502_is_a_readable_server_error(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("html502", times=10)
    with pytest.raises(NorthcaServerError) as info:
        await client.list_shifts(MDT, GUILD)
    assert info.value.status == 502
    assert "not the JSON envelope (text/html)" in info.value.message


async def test_empty_200_is_a_readable_error(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("empty200", times=10)
    with pytest.raises(NorthcaServerError) as info:
        await client.list_shifts(MDT, GUILD)
    assert "empty body" in info.value.message


async def test_refused_connection_is_unavailable(http):
    # A port nobody listens on: bind, note it, close.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = NorthcaClient(http, f"http://127.0.0.1:{port}/v1", KEY, timeout=0.5, deadline=1.0, backoff_base=0.01)
    with pytest.raises(NorthcaUnavailable) as info:
        await client.create_link_request(GUILD, MDT)
    assert info.value.status is None and info.value.sent is False


async def test_responses_with_unknown_fields_and_nulls_parse(http):
    # A server richer than the spec: extra fields, nulls, "" on units.
    async def shifts(request: web.Request) -> web.Response:
        validate_request(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        data = [
            {
                "id": "s1",
                "future_field": {"x": 1},
                "start_time": "2026-11-21T20:00:00Z",
                "end_time": None,
                "duration_ms": None,
                "officer_name": None,
                "updated_at": "2026-11-21T22:00:00.123+00:00",
            }
        ]
        return web.json_response({"ok": True, "data": data, "meta": {"page": 1}})

    async def units(request: web.Request) -> web.Response:
        validate_request(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        return web.json_response(
            {"ok": True, "data": [{"id": "ADAM-12", "status": "", "officer_badge": "", "rank": None, "zone": "N"}]}
        )

    app = web.Application()
    app.router.add_get("/v1/mdts/{m}/shifts", shifts)
    app.router.add_put("/v1/mdts/{m}/units/active", units)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        client = NorthcaClient(http, f"http://127.0.0.1:{runner.addresses[0][1]}/v1", KEY, timeout=2)
        [shift] = await client.list_shifts(MDT, GUILD)
        assert shift.end_time is None and shift.start_time.tzinfo is not None and shift.updated_at.microsecond == 123000
        [unit] = await client.upsert_active_units(MDT, [ActiveUnitUpsert(id="ADAM-12")], GUILD)
        assert unit.status is None and unit.officer_badge is None and unit.rank is None
    finally:
        await runner.cleanup()


# --- safety ------------------------------------------------------------------


async def test_key_never_in_logs_errors_or_repr(client, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox.faults.add("500", times=2)
    sandbox.faults.add("html502", times=1)
    texts = [repr(client)]
    for call in (client.list_shifts(MDT, GUILD), client.create_link_request(GUILD, "nope")):
        try:
            await call
        except Exception as exc:
            texts += [str(exc), repr(exc)]
    texts += [r.getMessage() for r in caplog.records]
    assert texts and not any(KEY in t for t in texts)
    assert KEY not in repr(vars(client))


async def test_refuses_plain_http_off_loopback(http):
    with pytest.raises(ValueError, match="https"):
        NorthcaClient(http, "http://api.northca.dev/v1", KEY)
    NorthcaClient(http, "https://api.northca.dev/v1", KEY)
    NorthcaClient(http, "http://[::1]:8787/v1", KEY)
    NorthcaClient(http, "http://localhost:8787/v1", KEY)


async def test_path_segments_are_quoted(client, sandbox):
    with pytest.raises(NorthcaForbidden):
        await client.list_shifts("a/../b c", GUILD)
    # The id stayed one path segment: nothing can reach another route through it.
    assert sandbox.requests[-1].path == "/v1/mdts/a%2F..%2Fb%20c/shifts"


# --- odd answers do not hide good data, stall the bot, or freeze it ---------------


async def test_one_malformed_item_does_not_hide_the_others(client, sandbox, caplog):
    sandbox.link(GUILD, MDT)
    good = [completed_shift(), completed_shift()]
    await client.create_shift(MDT, good[0], GUILD)
    for i in range(3):  # badly typed records, some with an unreadable time
        sandbox.plant_shift(MDT, {"id": f"bad-{i}", "duration_ms": "two hours", "start_time": "yesterday"})
    await client.create_shift(MDT, good[1], GUILD)
    sandbox.plant_shift(MDT, {"id": "bad-3", "end_time": "soon"})
    caplog.clear()
    window = await client.list_shift_window(MDT, GUILD, limit=200)
    assert [s.id for s in window.items] == [good[1].id, good[0].id]
    assert window.skipped == 4 and window.raw_count == 6 and not window.full
    assert {"bad-0", "bad-1", "bad-2"} <= window.ids  # still recognisable by id
    assert [s.id for s in await client.list_shifts(MDT, GUILD)] == [good[1].id, good[0].id]
    caplog.clear()
    await client.list_shifts(MDT, GUILD)
    warnings = [r.getMessage() for r in caplog.records if "do not parse" in r.getMessage()]
    assert len(warnings) == 1 and "4 of 6" in warnings[0]  # once per answer, not once per item


@pytest.mark.parametrize("announce_length", [True, False])
async def test_huge_answer_is_refused_unread(http, announce_length):
    huge = HugeAnswer(64 * 1024 * 1024, announce_length=announce_length)
    await huge.start()
    try:
        client = NorthcaClient(http, huge.base_url, KEY, timeout=20, deadline=30, backoff_base=0.01)
        with pytest.raises(NorthcaAnswerTooLarge) as info:
            await client.list_shifts(MDT, GUILD, limit=200)
        assert "larger than 4 MiB" in info.value.message and "refused unread" in info.value.message
        assert not info.value.retryable and huge.requests == 1  # a bad answer, not asked again
        await asyncio.wait_for(huge.finished.wait(), 30)
        assert huge.sent[0] < huge.size, "the client read the whole answer"
    finally:
        await huge.stop()


async def test_retry_after_is_capped(client, sandbox):
    sandbox.link(GUILD, MDT)
    sandbox.faults.add("429", times=1, retry_after=86400)
    with pytest.raises(NorthcaRateLimited) as info:
        await client.list_shifts(MDT, GUILD)  # a day's wait does not fit the deadline: given up at once
    assert info.value.retry_after == 300.0  # what every caller honours: at most 5 minutes
    assert [r.status for r in sandbox.requests] == [429]
