"""Demo mode made impossible to miss: while the bot runs against its local sandbox, every message it sends
to Discord (interaction answers, followups, edits, channel posts) carries DEMO_MARK.

It is applied at one place, the two doors every message body goes through in discord.py: the webhook adapter
(interaction callbacks and followups) and the bot's HTTP client (channel messages). Only bots that enabled the
mark are affected (the webhook door is recognised by the bot's own aiohttp session), so a production bot in the
same process is not.
"""

from __future__ import annotations

import functools
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import discord.http
from discord.webhook.async_ import AsyncWebhookAdapter

DEMO_MARK = "🧪 demo: local sandbox, not Northca"
CONTENT_LIMIT = 2000
FOOTER_LIMIT = 2048
EMBEDS_TOTAL_LIMIT = 6000  # Discord's limit on all text of a message's embeds together
# Interaction callback types that carry a message: CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE.
_MESSAGE_CALLBACKS = (4, 7)

_demo_sessions: weakref.WeakSet[aiohttp.ClientSession] = weakref.WeakSet()
_installed = False


def mark_message(body: dict[str, Any], *, new: bool) -> dict[str, Any]:
    """A copy of a message body with the demo mark: in the last embed's footer, else at the end of the content
    (trimmed to fit 2000), else (a new message with neither) as the content. Component-only edits stay as they are."""
    body = dict(body)
    embeds = body.get("embeds")
    if embeds and _embed_chars(embeds) + len(DEMO_MARK) + 3 <= EMBEDS_TOTAL_LIMIT:
        embeds = [dict(e) for e in embeds]
        footer = dict(embeds[-1].get("footer") or {})
        old = footer.get("text")
        footer["text"] = (f"{DEMO_MARK} · {old}" if old else DEMO_MARK)[:FOOTER_LIMIT]
        embeds[-1]["footer"] = footer
        body["embeds"] = embeds
    elif (isinstance(body.get("content"), str) and body["content"]) or embeds:
        room = CONTENT_LIMIT - len(DEMO_MARK) - 1
        content: str = body.get("content") or ""
        if len(content) > room:
            content = content[: room - 1] + "…"
        body["content"] = f"{content}\n{DEMO_MARK}" if content else DEMO_MARK
    elif new:
        body["content"] = DEMO_MARK
    return body


def _embed_chars(embeds: list[dict[str, Any]]) -> int:
    total = 0
    for embed in embeds:
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or [])
    return total


def _mark_payload(payload: dict[str, Any] | None, path: str, method: str) -> dict[str, Any] | None:
    if payload is None:
        return None
    if path.endswith("/callback"):
        if payload.get("type") in _MESSAGE_CALLBACKS and isinstance(payload.get("data"), dict):
            return {**payload, "data": mark_message(payload["data"], new=payload["type"] == 4)}
        return payload
    if method in ("POST", "PATCH"):
        return mark_message(payload, new=method == "POST")
    return payload


def _mark_multipart(parts: list[dict[str, Any]] | None, path: str, method: str) -> list[dict[str, Any]] | None:
    if not parts:
        return parts
    out = []
    for part in parts:
        if part.get("name") == "payload_json" and isinstance(part.get("value"), str):
            marked = _mark_payload(json.loads(part["value"]), path, method)
            part = {**part, "value": json.dumps(marked)}
        out.append(part)
    return out


def _install_webhook_door() -> None:
    global _installed
    if _installed:
        return
    original = AsyncWebhookAdapter.request

    @functools.wraps(original)
    async def request(self: AsyncWebhookAdapter, route: Any, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        if session in _demo_sessions:
            kwargs["payload"] = _mark_payload(kwargs.get("payload"), route.path, route.method)
            kwargs["multipart"] = _mark_multipart(kwargs.get("multipart"), route.path, route.method)
        return await original(self, route, session, **kwargs)

    # A class-wide patch on purpose: webhook sends have no per-client hook (only demo sessions are marked).
    AsyncWebhookAdapter.request = request  # type: ignore[method-assign]
    _installed = True


def _is_channel_message(route: discord.http.Route) -> bool:
    return route.method in ("POST", "PATCH") and route.path.startswith("/channels/{channel_id}/messages")


def enable_demo_mark(client: discord.Client) -> None:
    """Mark every message this client sends from now on. Call after login (the HTTP session exists)."""
    http = client.http
    session: aiohttp.ClientSession | None = getattr(http, "_HTTPClient__session", None)
    if session is None:
        raise RuntimeError("enable_demo_mark needs a logged-in client")
    _install_webhook_door()
    _demo_sessions.add(session)
    original: Callable[..., Awaitable[Any]] = http.request

    async def request(route: discord.http.Route, **kwargs: Any) -> Any:
        if _is_channel_message(route):
            if isinstance(kwargs.get("json"), dict):
                kwargs["json"] = mark_message(kwargs["json"], new=route.method == "POST")
            if kwargs.get("form"):
                kwargs["form"] = _mark_multipart(list(kwargs["form"]), route.path, route.method)
        return await original(route, **kwargs)

    # This client's HTTP only: every message route goes through `request`, so marking there covers all.
    http.request = request  # type: ignore[method-assign]
