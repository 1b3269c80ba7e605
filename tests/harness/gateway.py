"""What the gateway would do for a harness-driven bot: member and role changes applied to the
guild cache like GUILD_MEMBER_UPDATE, the view store watched so a click waits until its view is
registered, and interactions injected through ``ConnectionState.parse_interaction_create``."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import discord

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
