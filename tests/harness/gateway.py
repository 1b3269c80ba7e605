"""The gateway, two ways.

``GatewayMirror`` (a mixin of ``Harness``): what the gateway would do for a harness-driven bot in this
process: member and role changes applied to the guild cache like GUILD_MEMBER_UPDATE, the view store
watched so a click waits until its view is registered, and interactions injected through
``ConnectionState.parse_interaction_create``.

``GatewayDiscord``: a FakeDiscord with a real gateway websocket, for bots that connect (in other
processes, or real ``AutoShardedClient``s): one socket per shard, guilds announced to their shard,
interactions routed to the socket of the guild's shard."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.gateway
import yarl
from aiohttp import WSMsgType, web

from . import builders
from .discord_routes import Answer, discord_error
from .fake_api import FakeDiscord
from .recorded import FakeTimeout, NoResponse, Recorded, Reply, Session

log = logging.getLogger(__name__)


class ErrorLog(logging.Handler):
    """Keeps the last ERROR records from discord.py (command/view errors) for timeout messages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: deque[str] = deque(maxlen=10)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[1]!r}"
        self.records.append(f"{record.name}: {text}")


class GatewayMirror:
    """The gateway side of ``Harness`` (a mixin: the state lives on the harness)."""

    bot: discord.Client
    fake: FakeDiscord
    state: Any  # discord.py's ConnectionState
    timeout: float
    enforce_role_hierarchy: bool
    _payload_roles: dict[tuple[int, int], list[str]]
    _store_changed: asyncio.Event
    _hooked_store: Any
    _errors: ErrorLog
    _error_users: int

    def _sync_member(self, guild_id: int, member: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the guild cache and the member payload consistent, like Discord would.

        New members are cached. For known members the cache wins (it holds roles the bot
        granted through the fake), unless the test changed the payload's roles since the
        last interaction: then the payload wins and is applied like GUILD_MEMBER_UPDATE.
        """
        payload = copy.deepcopy(dict(member))
        guild = self.state._get_guild(guild_id)
        if guild is None:
            return payload
        uid = int(payload["user"]["id"])
        key = (guild_id, uid)
        cached = guild.get_member(uid)
        roles = [str(r) for r in payload.get("roles", [])]
        if cached is None:
            data = {k: v for k, v in payload.items() if k != "permissions"}
            # A raw member payload, as the gateway sends it; discord.py types it as MemberWithUserPayload.
            guild._add_member(discord.Member(data=data, guild=guild, state=self.state))  # type: ignore[arg-type]
        elif self._payload_roles.get(key) != roles:
            self._member_update(guild, cached, [int(r) for r in roles], nick=payload.get("nick"))
        else:
            payload["roles"] = [str(r) for r in cached._roles]
        self._payload_roles[key] = roles
        return payload

    def _member_update(
        self, guild: discord.Guild, member: discord.Member, roles: Sequence[int], *, nick: Any = ...
    ) -> None:
        """Apply a change through the gateway's own GUILD_MEMBER_UPDATE parser
        (dispatches ``on_member_update`` like Discord would)."""
        u = member._user
        data: dict[str, Any] = {
            "guild_id": str(guild.id),
            "user": {
                "id": str(u.id),
                "username": u.name,
                "discriminator": u.discriminator,
                "global_name": u.global_name,
                "avatar": u._avatar,
            },
            "roles": [str(r) for r in roles],
            "nick": member.nick if nick is ... else nick,
            "joined_at": member.joined_at.isoformat() if member.joined_at else None,
            "flags": member._flags,
            "pending": member.pending,
        }
        self.state.parse_guild_member_update(data)

    def delete_role(self, guild_id: int, role_id: int) -> None:
        """An admin deletes a role in Discord: GUILD_ROLE_DELETE through the gateway's own parser
        (dispatches ``on_guild_role_delete``)."""
        self.state.parse_guild_role_delete({"guild_id": str(guild_id), "role_id": str(role_id)})

    def delete_channel(self, guild_id: int, channel_id: int) -> None:
        """An admin deletes a channel in Discord: CHANNEL_DELETE through the gateway's own parser
        (dispatches ``on_guild_channel_delete``)."""
        guild = self.state._get_guild(guild_id)
        channel = guild.get_channel(channel_id) if guild is not None else None
        if channel is None:
            raise AssertionError(f"channel {channel_id} is not in guild {guild_id}'s cache")
        self.state.parse_channel_delete(
            {"id": str(channel_id), "guild_id": str(guild_id), "type": channel.type.value, "name": channel.name}
        )

    def _role_change_denied(self, guild: discord.Guild, role: discord.Role) -> Answer | None:
        if not self.enforce_role_hierarchy:
            return None
        me = guild.me
        if me is None or guild.owner_id == me.id:
            return None
        perms = me.guild_permissions
        if not (perms.manage_roles or perms.administrator):
            return discord_error(403)
        if role.is_default() or role.managed or role >= me.top_role:
            return discord_error(403)
        return None

    def _on_role(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        guild = self.state._get_guild(int(m["gid"]))
        if guild is None:
            return None  # not a cached guild: plain 204
        role = guild.get_role(int(m["rid"]))
        if role is None:
            return discord_error(404, "Unknown Role", 10011)
        denied = self._role_change_denied(guild, role)
        if denied is not None:
            return denied
        member = guild.get_member(int(m["uid"]))
        if member is not None:
            roles = [r for r in member._roles if r != role.id]
            if rec.method == "PUT":
                roles.append(role.id)
            self._member_update(guild, member, roles)
        return 204, None

    def _on_member_patch(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        guild = self.state._get_guild(int(m["gid"]))
        member = guild.get_member(int(m["uid"])) if guild is not None else None
        if guild is None or member is None:
            return None
        body = rec.json or {}
        roles = list(member._roles)
        if "roles" in body:
            new = [int(r) for r in body["roles"] or []]
            for rid in set(new) ^ set(roles):
                role = guild.get_role(rid)
                if role is None:
                    return discord_error(400, "Invalid Form Body", 50035)
                denied = self._role_change_denied(guild, role)
                if denied is not None:
                    return denied
            roles = new
        nick = body.get("nick", ...)
        self._member_update(guild, member, roles, nick=nick)
        updated = guild.get_member(member.id)
        assert updated is not None
        payload = builders.member(
            updated.id, roles=updated._roles, nick=updated.nick, username=updated.name, bot=updated.bot
        )
        payload.pop("permissions")
        return 200, payload

    def _hook_view_store(self) -> None:
        """Wrap the view store's add methods (on the instance) to signal waiting clicks."""
        store = self.state._view_store
        if store is self._hooked_store:
            return
        harness = self

        def wrap(name: str) -> None:
            original = getattr(type(store), name)

            def hooked(*args: Any, **kwargs: Any) -> Any:
                try:
                    return original(store, *args, **kwargs)
                finally:
                    harness._store_changed.set()

            setattr(store, name, hooked)

        wrap("add_view")
        wrap("add_dynamic_items")
        self._hooked_store = store

    def _view_ready(self, component_type: int, custom_id: str, message: Mapping[str, Any]) -> bool:
        store = self.state._view_store
        if any(p.fullmatch(custom_id) for p in getattr(store, "_dynamic_items", {})):
            return True
        views: dict[Any, dict[Any, Any]] = getattr(store, "_views", {})
        key = (component_type, custom_id)
        ids: list[int | None] = [int(message["id"]), None]
        meta = message.get("interaction_metadata")
        if meta:  # discord.py <= 2.7.0 keys response views by interaction id
            ids.append(int(meta["id"]))
        return any(key in views.get(i, {}) for i in ids)

    async def _wait_dispatchable(self, ready: Callable[[], bool], timeout: float) -> None:
        self._hook_view_store()
        deadline = asyncio.get_running_loop().time() + timeout
        while not ready():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.debug("no view/modal ready to dispatch after %.1fs; injecting anyway", timeout)
                return
            self._store_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._store_changed.wait(), remaining)

    def _error_summary(self) -> str:
        if not self._errors.records:
            return ""
        return "\nrecent discord.py errors:\n  " + "\n  ".join(self._errors.records)

    async def _inject(self, payload: Mapping[str, Any], describe: str, timeout: float | None) -> Reply:
        from .harness import Harness  # imported here: harness.py imports this module

        # A Session holds the whole harness, which this mixin is only a part of.
        if not isinstance(self, Harness):
            raise TypeError(f"GatewayMirror is a mixin of Harness; {type(self).__name__} cannot inject interactions")
        timeout = self.timeout if timeout is None else timeout
        ctx = self.fake.register_interaction(payload)
        session = Session(self, ctx, describe)
        path = f"/interactions/{ctx.id}/{ctx.token}/callback"
        since = len(self.fake.requests)
        if self._error_users == 0:
            self._errors.records.clear()
            logging.getLogger("discord").addHandler(self._errors)
        self._error_users += 1
        try:
            started = time.monotonic()
            # discord.py may mutate what it parses (e.g. resolved members): give it a copy
            self.state.parse_interaction_create(copy.deepcopy(dict(payload)))
            try:
                rec = await self.fake.wait_for(lambda r: r.method == "POST" and r.path == path, timeout, since=since)
            except FakeTimeout:
                raise NoResponse(
                    f"{describe}: no interaction callback within {timeout}s{self._error_summary()}"
                ) from None
        finally:
            self._error_users -= 1
            if self._error_users == 0:
                logging.getLogger("discord").removeHandler(self._errors)
        await rec.answered.wait()
        if not rec.ok:  # e.g. fail_next() on the callback: the bot saw an HTTPException
            log.debug("%s: callback answered %s %s", describe, rec.status, rec.response)
        session.callback_seq = session.cursor = rec.seq
        return Reply(session, rec, kind="callback", ack_time=rec.time - started)


# --- the gateway websocket, for a bot in another process (or a real discord.py client) ---------------------------

HEARTBEAT_MS = 41250
BOT_ROLE_POSITION = 1
_INTERACTION_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events on (the formula bot/core/sharding.shard_of follows)."""
    return (guild_id >> 22) % shard_count


@dataclass
class FakeGuild:
    """A guild the fake gateway announces (READY, GUILD_CREATE) to the shard it belongs to."""

    id: int
    name: str
    owner_id: int
    channels: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    members: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return builders.guild_payload(
            self.id, name=self.name, owner_id=self.owner_id, roles=self.roles, members=self.members,
            channels=self.channels,
        )  # fmt: skip


@dataclass
class ShardSocket:
    """One identified gateway connection: the socket a shard's events go out on."""

    shard_id: int
    shard_count: int
    ws: web.WebSocketResponse
    number: int  # the gateway's count of identified connections: a replaced socket has a higher one
    guild_ids: list[int] = field(default_factory=list)  # what its READY listed
    sequence: int = 0
    ready: bool = False
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Run:
    """One batch of interactions: when each was sent and when its first answer (the callback) arrived."""

    expected: int
    sent: dict[int, float] = field(default_factory=dict)  # interaction id -> monotonic time sent
    answered: dict[int, float] = field(default_factory=dict)
    callback_types: dict[int, int] = field(default_factory=dict)
    contents: dict[int, str] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def latencies_ms(self) -> list[float]:
        return [(self.answered[i] - t) * 1000 for i, t in self.sent.items() if i in self.answered]


class GatewayDiscord(FakeDiscord):
    """FakeDiscord plus Discord's gateway websocket, for clients that ``connect()`` (other processes, real
    ``AutoShardedClient``s): one socket per shard, each told only about its own guilds, and interactions sent as
    INTERACTION_CREATE on the socket of the guild's shard, timed from send to the first answer.

    What discord.py expects (discord/gateway.py, discord/shard.py, 2.7): HELLO (op 10) first; IDENTIFY (op 2)
    with ``d.shard = [id, count]`` when sharded; READY carrying ``session_id`` and ``resume_gateway_url``;
    heartbeats (op 1) ACKed (op 11); a RESUME (op 6) is refused with INVALID_SESSION (op 9, d=false), after which
    discord.py identifies again on a new socket. ``GET /gateway/bot`` gives the ws URL (an AutoShardedClient
    without a shard_count asks for it); ``start()`` also points ``DiscordWebSocket.DEFAULT_GATEWAY`` here.
    """

    def __init__(self, *, heartbeat_ms: int = HEARTBEAT_MS, **options: Any) -> None:
        super().__init__(**options)
        self.heartbeat_ms = heartbeat_ms
        self.guilds: dict[int, FakeGuild] = {}
        self.shard_count: int | None = None  # from the first IDENTIFY; every process must name the same
        self.shards: dict[int, ShardSocket] = {}  # shard id -> its current (latest identified) socket
        self.identified: list[ShardSocket] = []  # every IDENTIFY, in order
        self.sent: dict[int, float] = {}  # interaction id -> monotonic time sent on the gateway
        self.answered: dict[int, float] = {}  # interaction id -> time of its first callback
        self.sent_on: dict[int, ShardSocket] = {}  # interaction id -> the socket it went out on
        self.run: Run | None = None
        self._shards_changed = asyncio.Condition()
        self._old_gateway: yarl.URL | None = None
        self.route("GET", r"^/gateway(/bot)?$", self._on_gateway_url)
        self.route("GET", r"^/guilds/(?P<gid>\d+)$", self._on_guild)
        self.route("GET", r"^/guilds/(?P<gid>\d+)/channels$", self._on_guild_channels)

    # --- guilds -------------------------------------------------------------------

    def add_guild(
        self,
        guild_id: int,
        *,
        owner_id: int,
        name: str = "Test Guild",
        channels: Sequence[Mapping[str, Any]] = (),
        roles: Sequence[Mapping[str, Any]] = (),
        members: Sequence[Mapping[str, Any]] = (),
        bot_permissions: int = builders.DEFAULT_APP_PERMISSIONS,
    ) -> FakeGuild:
        """A guild the bot is in: the bot's own managed role and member are added; its channels are known to the
        REST routes (messages posted there carry the guild id). Add guilds before the shards identify."""
        user = self.bot_user_payload()
        bot_role = builders.role(
            builders.snowflake(), user["username"], permissions=bot_permissions, position=BOT_ROLE_POSITION,
            managed=True, tags={"bot_id": str(self.bot_user_id)},
        )  # fmt: skip
        me = builders.member(self.bot_user_id, roles=[int(bot_role["id"])], username=user["username"], bot=True)
        guild = FakeGuild(
            guild_id, name, owner_id, [dict(c) for c in channels], [*map(dict, roles), bot_role],
            [*map(dict, members), me],
        )  # fmt: skip
        for c in guild.channels:
            self.channel_guilds[int(c["id"])] = guild_id
        self.guilds[guild_id] = guild
        return guild

    def guilds_of_shard(self, shard_id: int, shard_count: int) -> list[int]:
        return [g for g in self.guilds if shard_of(g, shard_count) == shard_id]

    def _on_guild(self, rec: Recorded, m: re.Match[str]) -> Answer:
        guild = self.guilds.get(int(m["gid"]))
        return (200, guild.payload()) if guild is not None else discord_error(404, "Unknown Guild", 10004)

    def _on_guild_channels(self, rec: Recorded, m: re.Match[str]) -> Answer:
        guild = self.guilds.get(int(m["gid"]))
        if guild is None:
            return discord_error(404, "Unknown Guild", 10004)
        return 200, guild.payload()["channels"]

    # --- lifecycle ------------------------------------------------------------------

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http", "ws", 1)

    def _on_gateway_url(self, rec: Recorded, m: re.Match[str]) -> Answer:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": self.shard_count or 1, "session_start_limit": limit}

    async def start(self) -> None:
        await super().start()
        if self._old_gateway is None:
            self._old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    async def stop(self) -> None:
        for shard in list(self.shards.values()):
            await shard.ws.close()
        if self._old_gateway is not None:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._old_gateway
            self._old_gateway = None
        await super().stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        return await super()._handle(request)

    # --- the gateway ----------------------------------------------------------------------

    @staticmethod
    async def _send(ws: web.WebSocketResponse, op: int, d: Any) -> None:
        await ws.send_str(json.dumps({"op": op, "d": d}))

    async def _dispatch(self, shard: ShardSocket, event: str, d: Any) -> None:
        async with shard.send_lock:  # one sequence, in order, per socket
            shard.sequence += 1
            await shard.ws.send_str(json.dumps({"op": 0, "d": d, "t": event, "s": shard.sequence}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        shard: ShardSocket | None = None
        await self._send(ws, 10, {"heartbeat_interval": self.heartbeat_ms})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, d = frame.get("op"), frame.get("d")
                if op == 1:  # heartbeat
                    await self._send(ws, 11, None)
                elif op == 2:  # identify
                    shard = await self._identify(ws, d)
                elif op == 6:  # resume: no sessions are kept, so identify afresh
                    await self._send(ws, 9, False)
                elif op == 8 and shard is not None:  # request guild members: none beyond GUILD_CREATE's
                    chunk = {"guild_id": d["guild_id"], "members": [], "chunk_index": 0, "chunk_count": 1}
                    if d.get("nonce"):
                        chunk["nonce"] = d["nonce"]
                    await self._dispatch(shard, "GUILD_MEMBERS_CHUNK", chunk)
        finally:
            if shard is not None and self.shards.get(shard.shard_id) is shard:
                async with self._shards_changed:
                    shard.ready = False
                    self._shards_changed.notify_all()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: Mapping[str, Any]) -> ShardSocket:
        shard_id, count = (int(x) for x in d.get("shard") or (0, 1))
        if self.shard_count is None:
            self.shard_count = count
        elif count != self.shard_count:
            log.warning("shard %d identified with %d shards, the gateway has %d", shard_id, count, self.shard_count)
        shard = ShardSocket(shard_id, count, ws, len(self.identified) + 1, self.guilds_of_shard(shard_id, count))
        self.identified.append(shard)
        old = self.shards.get(shard_id)
        async with self._shards_changed:
            self.shards[shard_id] = shard  # a restarted process's new socket replaces the dead one's
            self._shards_changed.notify_all()
        if old is not None and not old.ws.closed:
            await old.ws.close()
        user = self.bot_user_payload()
        ready = {
            "v": 10, "user": user, "guilds": [{"id": str(g), "unavailable": True} for g in shard.guild_ids],
            "session_id": f"session-{shard.number}", "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
            "application": {"id": str(self.application_id), "flags": 0}, "shard": [shard_id, count],
        }  # fmt: skip
        await self._dispatch(shard, "READY", ready)
        for guild_id in shard.guild_ids:
            await self._dispatch(shard, "GUILD_CREATE", self.guilds[guild_id].payload())
        async with self._shards_changed:
            shard.ready = self.shards.get(shard_id) is shard
            self._shards_changed.notify_all()
        return shard

    def is_ready(self, shard_id: int) -> bool:
        shard = self.shards.get(shard_id)
        return shard is not None and shard.ready and not shard.ws.closed

    async def wait_ready(self, shard_ids: Iterable[int], timeout: float, *, after: int = 0) -> None:
        """Until each shard has a socket that got its READY and GUILD_CREATEs (identified after connection number
        ``after``, e.g. ``len(fake.identified)`` before a restart, to wait for a new one)."""
        wanted = list(shard_ids)

        def ready() -> bool:
            return all(self.is_ready(s) and self.shards[s].number > after for s in wanted)

        try:
            async with asyncio.timeout(timeout), self._shards_changed:
                await self._shards_changed.wait_for(ready)
        except TimeoutError:
            state = {s: (self.shards[s].number, self.is_ready(s)) if s in self.shards else None for s in wanted}
            raise FakeTimeout(f"shards {wanted} not ready within {timeout}s (number, ready): {state}") from None

    async def reconnect(self, shard_id: int) -> ShardSocket:
        """Ask a shard's client to reconnect (op 7, as Discord does when it moves a session); returns the socket
        being left. discord.py then tries RESUME, is refused, and identifies on a new socket."""
        shard = self.shards[shard_id]
        await self._send(shard.ws, 7, None)
        return shard

    async def wait_gone(self, shard_ids: Iterable[int], timeout: float) -> None:
        """Until none of these shards has a live socket (e.g. its process was killed and the socket's end seen)."""
        wanted = list(shard_ids)
        try:
            async with asyncio.timeout(timeout), self._shards_changed:
                await self._shards_changed.wait_for(lambda: not any(self.is_ready(s) for s in wanted))
        except TimeoutError:
            raise FakeTimeout(f"shards {wanted} still connected after {timeout}s") from None

    # --- interactions -------------------------------------------------------------------------

    def shard_of_payload(self, payload: Mapping[str, Any]) -> int:
        guild_id = payload.get("guild_id")
        return shard_of(int(guild_id), self.shard_count or 1) if guild_id else 0

    async def send_interaction(self, payload: Mapping[str, Any], timeout: float = 30.0) -> int:
        """Send INTERACTION_CREATE on the socket of the guild's shard, waiting (up to ``timeout``) for that shard
        to be connected and ready; returns the interaction id. Its first answer time lands in ``answered``."""
        iid = int(payload["id"])
        self.register_interaction(payload)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            shard_id = self.shard_of_payload(payload)
            await self.wait_ready([shard_id], max(0.0, deadline - asyncio.get_running_loop().time()))
            shard = self.shards[shard_id]
            self.sent[iid] = time.monotonic()
            if self.run is not None:
                self.run.sent[iid] = self.sent[iid]
            try:
                await self._dispatch(shard, "INTERACTION_CREATE", payload)
            except ConnectionError:  # the socket died under us: wait for the shard's next one
                async with self._shards_changed:
                    shard.ready = False
                continue
            self.sent_on[iid] = shard
            return iid

    async def drive(self, payloads: Sequence[Mapping[str, Any]], rate: float, timeout: float) -> Run:
        """Send each interaction: all at once (rate 0) or ``rate`` per second, on schedule; then wait (up to
        ``timeout``) until each has its first answer."""
        for p in payloads:
            self.register_interaction(p)
        run = self.run = Run(len(payloads))
        loop = asyncio.get_running_loop()
        begin = loop.time()
        try:
            sends = []
            for i, p in enumerate(payloads):
                if rate > 0:
                    delay = begin + i / rate - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sends.append(asyncio.create_task(self.send_interaction(p, timeout)))
            await asyncio.gather(*sends)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.done.wait(), timeout)
        finally:
            self.run = None
        return run

    async def wait_answered(self, interaction_ids: Iterable[int], timeout: float) -> None:
        """Until each interaction has had its first callback."""
        wanted = set(interaction_ids)
        if wanted <= self.answered.keys():
            return
        try:
            # (answers are noted before the waiters see a request: the callback that completes the set matches)
            await self.wait_for(lambda r: wanted <= self.answered.keys(), timeout)
        except FakeTimeout:
            missing = sorted(wanted - self.answered.keys())
            raise FakeTimeout(f"{len(missing)} interactions unanswered after {timeout}s: {missing[:5]}") from None

    @staticmethod
    def _callback_of(rec: Recorded) -> int | None:
        """The interaction a request is the callback of, if it is one."""
        m = _INTERACTION_CALLBACK.match(rec.path) if rec.method == "POST" else None
        return int(m[1]) if m is not None else None

    def callbacks(self, interaction_id: int) -> list[Recorded]:
        """Every callback the bot sent for one interaction (exactly one, if it answered once)."""
        prefix = f"/interactions/{interaction_id}/"
        return [r for r in self.requests if r.method == "POST" and r.path.startswith(prefix)]

    def _record(self, rec: Recorded) -> None:
        iid = self._callback_of(rec)
        if iid is not None and iid in self.sent and iid not in self.answered:
            self.answered[iid] = rec.time  # before the waiters (super) see the request
        super()._record(rec)
        if iid is None:
            return
        run = self.run
        if run is not None and iid in run.sent and iid not in run.answered:
            run.answered[iid] = rec.time
            body = rec.json if isinstance(rec.json, dict) else {}
            run.callback_types[iid] = int(body.get("type", 0))
            run.contents[iid] = str((body.get("data") or {}).get("content") or "")
            if len(run.answered) == run.expected:
                run.done.set()
