"""What the fake Discord answers by itself, like Discord: its error bodies, and the built-in
routes (login, interaction callbacks, followups, webhook and channel messages, a channel's history,
member edits, command sync) that keep message objects the way Discord would return them."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import builders
from .recorded import MESSAGE_FLAG_EPHEMERAL, MESSAGE_FLAG_LOADING, InteractionContext, Recorded

#: What a route handler returns: (HTTP status, JSON body or None for an empty body).
Answer = tuple[int, Any]
RouteHandler = Callable[[Recorded, "re.Match[str]"], "Answer | Awaitable[Answer | None] | None"]

# How long Discord keeps an enforced nonce ("the past few minutes"; the exact time is not documented).
NONCE_WINDOW_S = 120.0

# Error bodies Discord sends for common statuses (status -> (message, JSON error code)).
_ERRORS: dict[int, tuple[str, int]] = {
    400: ("Invalid Form Body", 50035),
    401: ("401: Unauthorized", 0),
    403: ("Missing Permissions", 50013),
    404: ("404: Not Found", 0),
    429: ("You are being rate limited.", 0),
    500: ("500: Internal Server Error", 0),
    502: ("502: Bad Gateway", 0),
    503: ("503: Service Unavailable", 0),
}


@dataclass
class Route:
    method: str | None
    pattern: re.Pattern[str]
    handler: RouteHandler


def discord_error(status: int, message: str | None = None, code: int | None = None) -> Answer:
    default_message, default_code = _ERRORS.get(status, (f"{status}: Error", 0))
    return status, {"message": message or default_message, "code": default_code if code is None else code}


class DiscordRoutes:
    """The built-in routes of ``FakeDiscord`` (a mixin: the state lives on the fake)."""

    application_id: int
    bot_user_id: int
    bot_username: str
    messages: dict[int, dict[str, Any]]
    interactions: dict[str, InteractionContext]
    channel_guilds: dict[int, int]
    dm_channels: dict[int, int]
    dms_closed: set[int]
    nonces: dict[str, tuple[int, float]]
    commands: dict[int | None, list[dict[str, Any]]]
    app_emojis: dict[int, dict[str, Any]]
    _routes: list[Route]
    bot_user_payload: Callable[[], dict[str, Any]]

    def _install_default_routes(self) -> None:
        add = self._routes.append
        snow = r"(\d+)"

        def r(method: str | None, pattern: str, handler: RouteHandler) -> None:
            add(Route(method, re.compile(pattern), handler))

        r("GET", r"^/users/@me$", lambda rec, m: (200, self.bot_user_payload()))
        r("GET", r"^/oauth2/applications/@me$", lambda rec, m: (200, self._application()))
        r("POST", r"^/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback$", self._on_callback)
        r("POST", r"^/webhooks/(?P<app>\d+)/(?P<token>[^/]+)$", self._on_followup)
        r(None, r"^/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)$", self._on_webhook_message)
        r("POST", r"^/users/@me/channels$", self._on_dm_open)
        r("POST", r"^/channels/(?P<cid>\d+)/messages$", self._on_channel_post)
        r("GET", r"^/channels/(?P<cid>\d+)/messages$", self._on_channel_history)
        r(None, r"^/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)$", self._on_channel_message)
        r("PUT", rf"^/guilds/{snow}/members/{snow}/roles/{snow}$", lambda rec, m: (204, None))
        r("DELETE", rf"^/guilds/{snow}/members/{snow}/roles/{snow}$", lambda rec, m: (204, None))
        r("PATCH", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", self._on_member_patch)
        r(None, rf"^/applications/{snow}/guilds/(?P<gid>\d+)/commands$", self._on_commands)
        r(None, rf"^/applications/{snow}/commands$", self._on_commands)
        r(None, rf"^/applications/{snow}/emojis$", self._on_app_emojis)
        r(None, rf"^/applications/{snow}/emojis/(?P<eid>\d+)$", self._on_app_emoji)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": builders.user(self.bot_user_id + 1, "owner"),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "bot": self.bot_user_payload(),
        }

    def _context(self, token: str, iid: int | None = None) -> InteractionContext | None:
        ctx = self.interactions.get(token)
        if ctx is None and iid is not None:
            # not injected through the harness: answer anyway, with what the URL tells us
            ctx = InteractionContext(iid, token, 2, self.application_id, None, None, self.bot_user_payload())
            self.interactions[token] = ctx
        return ctx

    def _attachments(self, body: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        by_index = {f"files[{i}]": f for i, f in enumerate(files)}
        out: list[dict[str, Any]] = []
        for i, att in enumerate(body.get("attachments") or []):
            upload = by_index.get(f"files[{att.get('id', i)}]", {})
            aid = builders.snowflake()
            filename = att.get("filename") or upload.get("filename") or f"file{i}"
            out.append(
                {
                    "id": str(aid),
                    "filename": filename,
                    "size": upload.get("size", 0),
                    "url": f"https://cdn.discordapp.com/attachments/0/{aid}/{filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/0/{aid}/{filename}",
                    "content_type": upload.get("content_type"),
                    "description": att.get("description"),
                }
            )
        return out

    def _new_message(
        self,
        body: Mapping[str, Any],
        *,
        channel_id: int,
        ctx: InteractionContext | None = None,
        files: Sequence[Mapping[str, Any]] = (),
        flags: int | None = None,
    ) -> dict[str, Any]:
        mid = builders.snowflake()
        msg = builders.message_payload(
            mid,
            channel_id,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=self._attachments(body, files),
            flags=int(body.get("flags") or 0) if flags is None else flags,
            guild_id=self.channel_guilds.get(channel_id) or (ctx.guild_id if ctx else None),
            author=self.bot_user_payload(),
            interaction_id=ctx.id if ctx else None,
            interaction_type=ctx.type if ctx else 2,
            interaction_user=ctx.user if ctx else None,
            application_id=self.application_id if ctx else None,
            webhook_id=ctx.application_id if ctx else None,
            tts=bool(body.get("tts", False)),
        )
        self.messages[mid] = msg
        return msg

    def _apply_edit(
        self, msg: dict[str, Any], body: Mapping[str, Any] | None, files: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        body = body or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        if "attachments" in body:
            msg["attachments"] = self._attachments(body, files)
        old = int(msg.get("flags") or 0)
        new = int(body["flags"]) if body.get("flags") is not None else old
        # Ephemerality cannot change on edit; an edit ends the "thinking" state.
        msg["flags"] = ((new & ~MESSAGE_FLAG_EPHEMERAL) | (old & MESSAGE_FLAG_EPHEMERAL)) & ~MESSAGE_FLAG_LOADING
        msg["edited_timestamp"] = builders.iso_now()
        return msg

    def _on_callback(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"], int(m["iid"]))
        assert ctx is not None
        if ctx.responded is not None:
            return discord_error(400, "Interaction has already been acknowledged.", 40060)
        body = rec.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        ctx.responded = kind
        message: dict[str, Any] | None = None
        channel_id = ctx.channel_id or builders.DEFAULT_CHANNEL_ID
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            message = self._new_message(data, channel_id=channel_id, ctx=ctx, files=rec.files)
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: a "thinking" placeholder
            flags = (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL) | MESSAGE_FLAG_LOADING
            message = self._new_message({}, channel_id=channel_id, ctx=ctx, flags=flags)
            ctx.loading = True
        elif kind in (6, 7) and ctx.message is not None:  # (deferred) update of the clicked message
            mid = int(ctx.message["id"])
            message = self.messages.setdefault(mid, copy.deepcopy(ctx.message))
            if kind == 7:
                self._apply_edit(message, data, rec.files)
        if message is not None:
            ctx.original_message_id = int(message["id"])
        interaction: dict[str, Any] = {
            "id": str(ctx.id),
            "type": ctx.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and int(message["flags"]) & MESSAGE_FLAG_EPHEMERAL),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            resource["message"] = copy.deepcopy(message)
            rec.created = copy.deepcopy(message)
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return 204, None  # Discord: the callback's response body only when asked for
        return 200, {"interaction": interaction, "resource": resource}

    def _on_followup(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"])
        if ctx is not None and ctx.responded is None:
            return discord_error(404, "Unknown Webhook", 10015)  # Discord: followup before the ack
        body = rec.json or {}
        if ctx is not None and ctx.loading and ctx.original_message_id in self.messages:
            # Discord: the first followup after a deferred response replaces the "thinking"
            # message (same id, and the deferral's ephemerality wins).
            message = self._apply_edit(self.messages[ctx.original_message_id], body, rec.files)
            message["edited_timestamp"] = None
            ctx.loading = False
        else:
            channel_id = (ctx.channel_id if ctx else None) or builders.DEFAULT_CHANNEL_ID
            message = self._new_message(body, channel_id=channel_id, ctx=ctx, files=rec.files)
        if rec.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    def _on_webhook_message(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"])
        mid = (ctx.original_message_id if ctx else None) if m["mid"] == "@original" else int(m["mid"])
        if mid is None or mid not in self.messages:
            return discord_error(404, "Unknown Message", 10008)
        if rec.method == "GET":
            return 200, self.messages[mid]
        if rec.method == "DELETE":
            del self.messages[mid]
            return 204, None
        if rec.method == "PATCH":
            if ctx is not None and mid == ctx.original_message_id:
                ctx.loading = False
            return 200, self._apply_edit(self.messages[mid], rec.json, rec.files)
        return discord_error(405, "405: Method Not Allowed", 0)

    def _on_dm_open(self, rec: Recorded, m: re.Match[str]) -> Answer:
        """Create DM: one DM channel per user, as Discord keeps it."""
        user_id = int((rec.json or {}).get("recipient_id") or 0)
        channel_id = next((c for c, u in self.dm_channels.items() if u == user_id), None)
        if channel_id is None:
            channel_id = builders.snowflake()
            self.dm_channels[channel_id] = user_id
        return 200, {"id": str(channel_id), "type": 1, "recipients": [builders.user(user_id, f"user{user_id}")]}

    def _on_channel_post(self, rec: Recorded, m: re.Match[str]) -> Answer:
        user_id = self.dm_channels.get(int(m["cid"]))
        if user_id is not None and user_id in self.dms_closed:
            # A member who allows no DMs from server members (or blocked the bot).
            return discord_error(403, "Cannot send messages to this user", 50007)
        body = rec.json or {}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the author's message created with this nonce in the past few minutes is returned instead
            # of a new one (the fake's "few minutes": NONCE_WINDOW_S, on its own clock).
            known = self.nonces.get(str(nonce))
            if known is not None and known[0] in self.messages and time.monotonic() - known[1] < NONCE_WINDOW_S:
                return 200, {**self.messages[known[0]], "nonce": nonce}
        message = self._new_message(body, channel_id=int(m["cid"]), files=rec.files)
        if nonce is None:
            return 200, message
        self.nonces[str(nonce)] = (int(message["id"]), time.monotonic())
        # The nonce comes back in the answer (and MESSAGE_CREATE) only: fetched messages do not carry it.
        return 200, {**message, "nonce": nonce}

    def _on_channel_history(self, rec: Recorded, m: re.Match[str]) -> Answer:
        """Get Channel Messages, as Discord answers it: newest first, at most `limit` (1-100, default 50), only
        messages older than `before`, newer than `after`, or the `limit` nearest `around` one id (one of the three).
        Ephemeral interaction answers are not in a channel's history."""
        cid = int(m["cid"])
        query = rec.query
        try:
            limit = int(query.get("limit", 50))
            anchors = {k: int(query[k]) for k in ("before", "after", "around") if k in query}
        except ValueError:
            return discord_error(400, "Invalid Form Body", 50035)
        if not 1 <= limit <= 100 or len(anchors) > 1:
            return discord_error(400, "Invalid Form Body", 50035)
        newest_first = sorted(
            (
                mid
                for mid, msg in self.messages.items()
                if int(msg["channel_id"]) == cid and not int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL
            ),
            reverse=True,
        )
        if "before" in anchors:
            chosen = [mid for mid in newest_first if mid < anchors["before"]][:limit]
        elif "after" in anchors:  # the `limit` oldest after it, still answered newest first
            chosen = [mid for mid in newest_first if mid > anchors["after"]][-limit:]
        elif "around" in anchors:
            older = [mid for mid in newest_first if mid <= anchors["around"]]
            newer = [mid for mid in newest_first if mid > anchors["around"]]
            half = limit // 2
            chosen = (newer[-half:] if half else []) + older[: limit - min(half, len(newer))]
        else:
            chosen = newest_first[:limit]
        return 200, [self.messages[mid] for mid in chosen]

    def _on_channel_message(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        cid, mid = int(m["cid"]), int(m["mid"])
        if rec.method == "DELETE":
            self.messages.pop(mid, None)
            return 204, None
        if rec.method == "GET":
            if mid not in self.messages:
                return discord_error(404, "Unknown Message", 10008)
            return 200, self.messages[mid]
        if rec.method == "PATCH":
            if mid not in self.messages:
                # Lenient: the fake does not know every message a test may reference.
                self.messages[mid] = builders.message_payload(
                    mid, cid, guild_id=self.channel_guilds.get(cid), author=self.bot_user_payload()
                )
            return 200, self._apply_edit(self.messages[mid], rec.json, rec.files)
        return None  # fall through to the catch-all

    def _on_member_patch(self, rec: Recorded, m: re.Match[str]) -> Answer:
        body = rec.json or {}
        payload = builders.member(int(m["uid"]), roles=[int(r) for r in body.get("roles") or []], nick=body.get("nick"))
        payload.pop("permissions")
        return 200, payload

    # Application emojis (owned by the application, usable in every server): List returns {"items": [...]};
    # Create takes {name, image} (a data URI of a PNG, JPEG, GIF or WebP, at most 256 KiB), the name 2-32 letters,
    # digits or underscores, unique per application (a second one is refused: 400, code 50035); at most 2,000.
    def _app_emoji_payload(self, emoji_id: int, name: str) -> dict[str, Any]:
        return {
            "id": str(emoji_id), "name": name, "roles": [], "require_colons": True, "managed": False,
            "animated": False, "available": True, "user": builders.user(self.bot_user_id + 1, "owner"),
        }  # fmt: skip

    def _on_app_emojis(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        if rec.method == "GET":
            return 200, {"items": list(self.app_emojis.values())}
        if rec.method != "POST":
            return None
        body = rec.json or {}
        name, image = str(body.get("name") or ""), str(body.get("image") or "")
        if not re.fullmatch(r"[A-Za-z0-9_]{2,32}", name):
            return discord_error(400, "Invalid Form Body", 50035)
        if not re.fullmatch(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+", image):
            return discord_error(400, "Invalid Form Body", 50035)
        if len(image) * 3 // 4 > 256 * 1024:
            return discord_error(400, "Invalid Form Body", 50035)
        if any(e["name"] == name for e in self.app_emojis.values()) or len(self.app_emojis) >= 2000:
            return discord_error(400, "Invalid Form Body", 50035)
        emoji_id = builders.snowflake()
        self.app_emojis[emoji_id] = self._app_emoji_payload(emoji_id, name)
        return 201, self.app_emojis[emoji_id]

    def _on_app_emoji(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        emoji_id = int(m["eid"])
        if emoji_id not in self.app_emojis:
            return discord_error(404, "Unknown Emoji", 10014)
        if rec.method == "GET":
            return 200, self.app_emojis[emoji_id]
        if rec.method == "DELETE":
            del self.app_emojis[emoji_id]
            return 204, None
        return None

    def _on_commands(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        gid = int(m["gid"]) if "gid" in m.groupdict() else None
        if rec.method == "GET":
            return 200, self.commands.get(gid, [])
        if rec.method != "PUT":
            return None
        known = {c["name"]: c["id"] for c in self.commands.get(gid, [])}
        echoed = []
        for cmd in rec.json or []:
            out = dict(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.update(
                id=known.get(cmd["name"]) or str(builders.snowflake()),
                application_id=str(self.application_id),
                version=str(builders.snowflake()),
            )
            if gid is not None:
                out["guild_id"] = str(gid)
            echoed.append(out)
        self.commands[gid] = echoed
        return 200, echoed
