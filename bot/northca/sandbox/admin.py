"""Sandbox-only admin routes (`/_sandbox/...`): decide a link request, faults, plant a shift, state."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bot.northca.sandbox.dispatch import DispatchApi
from bot.northca.sandbox.faults import FAULT_KINDS
from bot.northca.sandbox.links import DecisionRefused, LinkApi
from bot.northca.sandbox.shifts import ShiftApi
from bot.northca.sandbox.units import UnitApi
from bot.northca.sandbox.wire import envelope_error, json_response


class AdminApi(LinkApi, ShiftApi, UnitApi, DispatchApi):
    """The sandbox-only routes, over every kind of state."""

    async def _admin_decide(self, request: web.Request) -> web.Response:
        decision = {"approve": "approved", "deny": "denied", "expire": "expired"}.get(request.match_info["decision"])
        if decision is None:
            return envelope_error(404, "Unknown decision: use approve, deny or expire")
        try:
            return json_response(200, {"ok": True, "data": self.decide(request.match_info["request_id"], decision)})
        except KeyError:
            return envelope_error(404, "Link request not found")
        except DecisionRefused as exc:
            return envelope_error(409, str(exc))

    async def _admin_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return envelope_error(400, f"Malformed fault request: send a JSON object. {_FAULTS_USAGE}")
        if not isinstance(body, dict):
            return envelope_error(400, f"Malformed fault request: send a JSON object. {_FAULTS_USAGE}")
        try:
            options = _fault_options(body)
        except (ValueError, TypeError):
            return envelope_error(400, f"Malformed fault request: wrong value types. {_FAULTS_USAGE}")
        try:
            if body.get("clear"):
                self.faults.clear()
            if "link_request_status" in body:
                self.faults.link_request_status = str(body["link_request_status"])
            if "latency_ms" in body:
                self.faults.latency = options["latency_ms"] / 1000
            if "fault" in body:
                self.faults.add(
                    str(body["fault"]),
                    int(options["times"]),
                    path=body.get("path"),
                    method=body.get("method"),
                    retry_after=options["retry_after"],
                    hang_seconds=options["hang_seconds"],
                    status=int(body.get("status", 400)),
                    message=str(body.get("message", "Refused")),
                )
        except ValueError as exc:  # our own messages (unknown fault, times < 1)
            return envelope_error(400, str(exc))
        except re.error:
            return envelope_error(400, "Malformed fault request: path is not a valid regular expression.")
        return json_response(
            200, {"ok": True, "data": {"latency_ms": self.faults.latency * 1000, "queued": len(self.faults.queue)}}
        )

    async def _admin_plant_shift(self, request: web.Request) -> web.Response:
        try:
            record = await request.json()
        except ValueError:
            return envelope_error(400, "Invalid JSON")
        if not isinstance(record, dict):
            return envelope_error(400, "Expected a JSON object")
        self.plant_shift(request.match_info["mdt_id"], record)
        return json_response(201, {"ok": True, "data": {"planted": True}})

    async def _admin_state(self, request: web.Request) -> web.Response:
        mdts = [dict(r) for r in self.db.execute("SELECT * FROM mdts ORDER BY id")]
        links = [dict(r) for r in self.db.execute("SELECT guild_id, mdt_id, owner_discord_id FROM links")]
        data = {
            "mdts": mdts,
            "links": links,
            "link_requests": self.link_requests(),
            "shifts": {m["id"]: self.shifts(m["id"]) for m in mdts},
            "units": {m["id"]: list(self.units(m["id"]).values()) for m in mdts},
        }
        data.update(self._dispatch_state([m["id"] for m in mdts]))
        return json_response(200, {"ok": True, "data": data})


_FAULTS_USAGE = (
    'Example: {"fault": "500", "times": 2, "path": "/shifts$", "method": "POST"} or {"latency_ms": 150} '
    'or {"clear": true}. Faults: ' + ", ".join(FAULT_KINDS) + "."
)


def _fault_options(body: dict[str, Any]) -> dict[str, float]:
    """The numeric options of a fault request; ValueError/TypeError when one is not a number."""

    def number(name: str, default: float) -> float:
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(name)
        return float(value)

    for name in ("path", "method"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise TypeError(name)
    times = number("times", 1)
    if times != int(times):
        raise ValueError("times")
    return {
        "latency_ms": number("latency_ms", 0),
        "times": times,
        "retry_after": number("retry_after", 1.0),
        "hang_seconds": number("hang_seconds", 60.0),
    }
