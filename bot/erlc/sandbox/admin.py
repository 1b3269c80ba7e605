"""Sandbox-only admin routes (`/_sandbox/...`): the same as `PrcSandbox`'s Python methods, over HTTP, for the
CLI sandbox and demos. Never part of the PRC API.

    POST   /_sandbox/servers                          {key, name?, owner_id?, max_players?}
    POST   /_sandbox/servers/{key}/players            {user_id, name, team?, callsign?, permission?}   (join)
    PATCH  /_sandbox/servers/{key}/players/{user_id}  {team?, callsign?, permission?}
    DELETE /_sandbox/servers/{key}/players/{user_id}                                                   (leave)
    PUT    /_sandbox/servers/{key}/queue              {user_ids}
    POST   /_sandbox/servers/{key}/calls              {team?, caller?, description?, position?, descriptor?}
    POST   /_sandbox/servers/{key}/revoke             (later requests answer 2002)
    PUT    /_sandbox/servers/{key}/webhook            {url}: the owner saves the Event Webhook (a probe is sent)
    POST   /_sandbox/servers/{key}/chat               {user_id, message}: `;cmd arg` reaches the webhook
    POST   /_sandbox/faults                           {code?, status?, times?, key?, path?, retry_after?,
                                                       hang_seconds?, body_bytes?, latency_ms?} or {clear: true}
    POST   /_sandbox/script                           [steps] (played in the background; see `script`)
    POST   /_sandbox/events                           {url, server, events}: a signed webhook POST
    GET    /_sandbox/public-key                       {public_key}
    GET    /_sandbox/state
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.erlc.sandbox.script import ScriptError, validate_script
from bot.erlc.sandbox.state import UnknownServer
from bot.erlc.sandbox.wire import json_response

if TYPE_CHECKING:
    from bot.erlc.sandbox.app import PrcSandbox

AdminHandler = Callable[[web.Request, Any], Awaitable[Any]]


def add_admin_routes(app: web.Application, sandbox: PrcSandbox) -> None:
    def route(method: str, path: str, handler: AdminHandler, status: int = 200) -> None:
        async def wrapped(request: web.Request) -> web.Response:
            body: Any = None
            if request.can_read_body:
                try:
                    body = await request.json()
                except ValueError:
                    return json_response(400, {"error": "send a JSON body"})
            try:
                result = await handler(request, body if body is not None else {})
            except UnknownServer:
                return json_response(404, {"error": "no sandbox server has this key"})
            except (KeyError, ValueError, TypeError, ScriptError) as exc:
                return json_response(400, {"error": str(exc).strip("'\"")})
            return json_response(status, {"ok": True, "data": result})

        app.router.add_route(method, path, wrapped)

    def key_of(request: web.Request) -> str:
        return request.match_info["key"]

    async def add_server(request: web.Request, body: Any) -> Any:
        sandbox.add_server(
            str(body["key"]),
            name=str(body.get("name", "Sandbox Private Server")),
            owner_id=int(body.get("owner_id", 1)),
            max_players=int(body.get("max_players", 40)),
        )
        return {"key_added": True}

    async def join(request: web.Request, body: Any) -> Any:
        sandbox.join(
            key_of(request),
            int(body["user_id"]),
            str(body["name"]),
            team=str(body.get("team", "Civilian")),
            callsign=body.get("callsign"),
            permission=str(body.get("permission", "Normal")),
        )
        return {"players": sandbox.player_count(key_of(request))}

    async def change(request: web.Request, body: Any) -> Any:
        key, user_id = key_of(request), int(request.match_info["user_id"])
        if "team" in body:
            sandbox.set_team(key, user_id, str(body["team"]))
        if "callsign" in body:
            sandbox.set_callsign(key, user_id, body["callsign"])
        if "permission" in body:
            sandbox.set_permission(key, user_id, str(body["permission"]))
        return {"changed": True}

    async def leave(request: web.Request, body: Any) -> Any:
        sandbox.leave(key_of(request), int(request.match_info["user_id"]))
        return {"players": sandbox.player_count(key_of(request))}

    async def queue(request: web.Request, body: Any) -> Any:
        sandbox.set_queue(key_of(request), [int(u) for u in body.get("user_ids", [])])
        return {"queue": sandbox.queue(key_of(request))}

    async def call(request: web.Request, body: Any) -> Any:
        position = body.get("position", [0.0, 0.0])
        number = sandbox.add_emergency_call(
            key_of(request),
            team=str(body.get("team", "Police")),
            caller=body.get("caller"),
            description=body.get("description"),
            position=(float(position[0]), float(position[1])),
            descriptor=body.get("descriptor"),
        )
        return {"call_number": number}

    async def webhook(request: web.Request, body: Any) -> Any:
        status = await sandbox.set_event_webhook(key_of(request), body.get("url"))
        return {"probe_status": status}

    async def chat(request: web.Request, body: Any) -> Any:
        status = await sandbox.chat(key_of(request), int(body["user_id"]), str(body["message"]))
        return {"webhook_status": status}

    async def revoke(request: web.Request, body: Any) -> Any:
        sandbox.revoke_key(key_of(request))
        return {"revoked": True}

    async def faults(request: web.Request, body: Any) -> Any:
        if body.get("clear"):
            sandbox.clear_faults()
        if "latency_ms" in body:
            sandbox.faults.latency = max(0.0, float(body["latency_ms"]) / 1000)
        if "code" in body or "status" in body or "hang_seconds" in body or "body_bytes" in body:
            sandbox.inject(
                code=None if body.get("code") is None else int(body["code"]),
                status=None if body.get("status") is None else int(body["status"]),
                times=int(body.get("times", 1)),
                key=body.get("key"),
                path=body.get("path"),
                retry_after=float(body.get("retry_after", 1.0)),
                hang_seconds=None if body.get("hang_seconds") is None else float(body["hang_seconds"]),
                body_bytes=None if body.get("body_bytes") is None else int(body["body_bytes"]),
            )
        return {"queued": len(sandbox.faults.queue), "latency_ms": sandbox.faults.latency * 1000}

    async def script(request: web.Request, body: Any) -> Any:
        steps = validate_script(body)
        sandbox.play(steps)
        return {"steps": len(steps)}

    async def events(request: web.Request, body: Any) -> Any:
        try:
            status = await sandbox.send_event(str(body["url"]), str(body["server"]), list(body["events"]))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return {"delivered": False, "error": type(exc).__name__}
        return {"delivered": 200 <= status < 300, "status": status}

    async def public_key(request: web.Request, body: Any) -> Any:
        return {"public_key": sandbox.public_key_b64}

    async def state(request: web.Request, body: Any) -> Any:
        servers = [dict(r) for r in sandbox.db.execute("SELECT * FROM servers ORDER BY name")]
        return {
            "servers": [
                {
                    **{k: v for k, v in s.items() if k != "co_owner_ids"},
                    "players": [dict(p) for p in sandbox.players(s["key"])],
                    "queue": sandbox.queue(s["key"]),
                    "calls": [dict(c) for c in sandbox.calls(s["key"])],
                }
                for s in servers
            ],
            "rate_limited": sandbox.limits.refused,
        }

    route("POST", "/_sandbox/servers", add_server, 201)
    route("POST", "/_sandbox/servers/{key}/players", join, 201)
    route("PATCH", "/_sandbox/servers/{key}/players/{user_id}", change)
    route("DELETE", "/_sandbox/servers/{key}/players/{user_id}", leave)
    route("PUT", "/_sandbox/servers/{key}/queue", queue)
    route("POST", "/_sandbox/servers/{key}/calls", call, 201)
    route("POST", "/_sandbox/servers/{key}/revoke", revoke)
    route("PUT", "/_sandbox/servers/{key}/webhook", webhook)
    route("POST", "/_sandbox/servers/{key}/chat", chat)
    route("POST", "/_sandbox/faults", faults)
    route("POST", "/_sandbox/script", script, 202)
    route("POST", "/_sandbox/events", events)
    route("GET", "/_sandbox/public-key", public_key)
    route("GET", "/_sandbox/state", state)
