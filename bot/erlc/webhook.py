"""The signed event webhook receiver: `POST /erlc/events/{token}` on the bot's web server (bot/web/server.py).

Each connected server has its own unguessable token (`erlc_servers.webhook_token`, rotatable). A request is
accepted only when its `X-Signature-Ed25519` (hex) verifies over `X-Signature-Timestamp + raw body` with PRC's
public key (configuration: `[erlc] webhook_public_key`, SPKI in base64), its timestamp is within `max_age_seconds`
of now, and its token names a connected server; anything else is answered 401 and changes nothing. Events are
de-duplicated and handed to the service (`;verify CODE`, emergency calls).

Freshness compares with the wall clock (the signer's clock), not the bot's injected scheduling clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from aiohttp import web
from cryptography.exceptions import InvalidSignature

from bot.core.timefmt import now_ms
from bot.erlc.service import ErlcService
from bot.erlc.webhook_key import load_public_key

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS = 100


class SignatureCheck:
    def __init__(self, public_key_b64: str, max_age_seconds: float = 300.0, wall_clock: Callable[[], int] = now_ms):
        self.key = load_public_key(public_key_b64)
        self.max_age_ms = int(max_age_seconds * 1000)
        self.wall_clock = wall_clock

    def valid(self, signature_hex: str | None, timestamp: str | None, body: bytes) -> bool:
        if not signature_hex or not timestamp or len(signature_hex) != 128 or len(timestamp) > 20:
            return False
        if not timestamp.isdigit():
            return False
        if abs(self.wall_clock() - int(timestamp) * 1000) > self.max_age_ms:
            return False
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        try:
            self.key.verify(signature, timestamp.encode("ascii") + body)
        except InvalidSignature:
            return False
        return True


def _refused(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=401)


def webhook_routes(service: ErlcService, check: SignatureCheck) -> list[web.RouteDef]:
    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _refused("invalid request")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _refused("invalid request")
        if not check.valid(
            request.headers.get("X-Signature-Ed25519"), request.headers.get("X-Signature-Timestamp"), body
        ):
            log.info("ER:LC webhook: a request with a bad or stale signature was refused")
            return _refused("invalid signature")
        server = await service.server_for_webhook(request.match_info["token"])
        if server is None:
            return _refused("unknown webhook")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return web.json_response({"error": "not JSON"}, status=400)
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list):
            return web.json_response({"error": "no events"}, status=400)
        new = await service.handle_events(server.guild_id, events[:MAX_EVENTS])
        return web.json_response({"ok": True, "new": new})

    return [web.post("/erlc/events/{token}", receive)]
