"""Discord as the dashboard sees it, over plain HTTP (never discord.py: the dashboard runs without a gateway).

Two kinds of call:
- as the user (their OAuth2 access token, scopes `identify guilds`): the code exchange, who they are, their
  servers with their permissions there;
- as the bot (its token): a server the bot is in (name, owner, roles, channels) and a member's roles, from which
  the member's permissions are worked out as Discord does (owner: all; Administrator: all; else the @everyone
  role's and the member's roles' bits together).

Every answer about a server or a member is kept for `cache_seconds` on the injected clock: the permission check
runs on every request, and Discord is asked again once the cache is older (a user who lost Manage Server loses
the pages within that time). Tokens and the client secret are never logged or put in an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
# Discord's channel types a setting may name: text and announcement channels.
TEXT_CHANNEL_TYPES = (0, 5)
# The bot's permissions a channel setting needs there (the names /settings uses for the missing ones).
VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS = 1 << 10, 1 << 11, 1 << 14
_ALL = (1 << 53) - 1


class DiscordUnavailable(Exception):
    """Discord did not answer usefully (network, 5xx, 429): worded for the page, never carrying a token."""


class DiscordRefused(Exception):
    """Discord refused the user's token or code (401/400): the login is over."""


@dataclass(frozen=True)
class DiscordUser:
    id: int
    name: str


@dataclass(frozen=True)
class UserGuild:
    """A server in the user's OAuth2 guild list, with their permissions there as Discord computed them."""

    id: int
    name: str
    permissions: int
    owner: bool

    @property
    def manages(self) -> bool:
        return self.owner or bool(self.permissions & (ADMINISTRATOR | MANAGE_GUILD))


@dataclass(frozen=True)
class RoleView:
    id: int
    name: str
    permissions: int
    position: int
    managed: bool


@dataclass(frozen=True)
class ChannelView:
    id: int
    name: str
    type: int
    # The channel's permission overwrites (type 0: role, 1: member; allow, deny bits).
    overwrites: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class GuildView:
    """A server the bot is in, as the bot sees it over REST."""

    id: int
    name: str
    owner_id: int
    roles: tuple[RoleView, ...]
    channels: tuple[ChannelView, ...]

    def role(self, role_id: int) -> RoleView | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def channel(self, channel_id: int) -> ChannelView | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    @property
    def text_channels(self) -> list[ChannelView]:
        return [c for c in self.channels if c.type in TEXT_CHANNEL_TYPES]

    @property
    def everyone(self) -> RoleView | None:
        return self.role(self.id)

    def permissions_of(self, user_id: int, role_ids: tuple[int, ...]) -> int:
        """A member's server-wide permissions, as Discord computes them."""
        if user_id == self.owner_id:
            return _ALL
        bits = self.everyone.permissions if self.everyone else 0
        for role_id in role_ids:
            role = self.role(role_id)
            if role is not None:
                bits |= role.permissions
        return _ALL if bits & ADMINISTRATOR else bits

    def channel_permissions_of(self, user_id: int, role_ids: tuple[int, ...], channel_id: int) -> int:
        """A member's permissions in one channel: the server's, then the channel's overwrites (@everyone, roles,
        the member), as Discord applies them."""
        bits = self.permissions_of(user_id, role_ids)
        if bits == _ALL:
            return bits
        channel = self.channel(channel_id)
        if channel is None:
            return 0
        allow_roles = deny_roles = 0
        for target, kind, allow, deny in channel.overwrites:
            if kind == 0 and target == self.id:
                bits = (bits & ~deny) | allow
            elif kind == 0 and target in role_ids:
                allow_roles |= allow
                deny_roles |= deny
        bits = (bits & ~deny_roles) | allow_roles
        for target, kind, allow, deny in channel.overwrites:
            if kind == 1 and target == user_id:
                bits = (bits & ~deny) | allow
        return bits


@dataclass(frozen=True)
class MemberView:
    user_id: int
    name: str
    role_ids: tuple[int, ...]


@dataclass
class _Cached:
    at_ms: int
    value: Any


class DiscordApi:
    """The dashboard's Discord calls, on its own aiohttp session, opened at the first call and closed by `close`
    (`api_base`: Discord's, or the test fake's)."""

    def __init__(
        self,
        *,
        bot_token: str,
        client_id: int | None,
        client_secret: str | None,
        api_base: str = DISCORD_API,
        cache_seconds: float = 60.0,
        clock: Callable[[], int],
        timeout_seconds: float = 10.0,
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.api_base = api_base.rstrip("/")
        self.client_id = client_id
        self._bot_token = bot_token
        self._client_secret = client_secret
        self.cache_ms = int(cache_seconds * 1000)
        self.clock = clock
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._cache: dict[tuple[str, int, int], _Cached] = {}

    def __repr__(self) -> str:  # never the tokens
        return f"DiscordApi({self.api_base!r})"

    @property
    def authorize_url(self) -> str:
        """Discord's consent page (on the website, not under /api)."""
        root = self.api_base.split("/api", 1)[0]
        return f"{root}/oauth2/authorize"

    @property
    def oauth_ready(self) -> bool:
        return self.client_id is not None and bool(self._client_secret)

    # --- as the user ---------------------------------------------------------------------------------------------
    async def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> str:
        """The user's access token for an authorization code (with the PKCE verifier)."""
        if not self.oauth_ready:
            raise DiscordRefused("the dashboard's OAuth2 client is not configured")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": str(self.client_id),
            "client_secret": self._client_secret or "",
        }
        body = await self._call("POST", "/oauth2/token", data=form)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise DiscordRefused("Discord's token answer carried no access token")
        return token

    async def current_user(self, access_token: str) -> DiscordUser:
        body = await self._call("GET", "/users/@me", bearer=access_token)
        name = body.get("global_name") or body.get("username") or "?"
        return DiscordUser(int(body["id"]), str(name))

    async def user_guilds(self, user_id: int, access_token: str) -> list[UserGuild]:
        """The user's servers with their permissions there (at login)."""
        body = await self._call("GET", "/users/@me/guilds", bearer=access_token)
        return [
            UserGuild(int(g["id"]), str(g.get("name", "?")), int(g.get("permissions", 0)), bool(g.get("owner")))
            for g in body
        ]

    # --- as the bot ----------------------------------------------------------------------------------------------
    async def bot_guild_ids(self) -> set[int]:
        """The servers the bot is in (cached)."""
        cached = self._fresh(("bot-guilds", 0, 0))
        if cached is not None:
            return set(cached)
        ids: set[int] = set()
        after = 0
        while True:
            page = await self._call("GET", f"/users/@me/guilds?limit=200&after={after}", bot=True)
            ids |= {int(g["id"]) for g in page}
            if len(page) < 200:
                break
            after = max(int(g["id"]) for g in page)
        self._keep(("bot-guilds", 0, 0), sorted(ids))
        return ids

    async def guild(self, guild_id: int) -> GuildView | None:
        """The server as the bot sees it; None when the bot is not in it (cached)."""
        key = ("guild", guild_id, 0)
        cached = self._fresh(key)
        if cached is not None:
            return cached if isinstance(cached, GuildView) else None
        try:
            data = await self._call("GET", f"/guilds/{guild_id}", bot=True)
            channels = await self._call("GET", f"/guilds/{guild_id}/channels", bot=True)
        except _NotThere:
            self._keep(key, False)
            return None
        view = GuildView(
            id=int(data["id"]),
            name=str(data.get("name", "?")),
            owner_id=int(data.get("owner_id", 0)),
            roles=tuple(
                RoleView(
                    int(r["id"]),
                    str(r.get("name", "?")),
                    int(r.get("permissions", 0)),
                    int(r.get("position", 0)),
                    bool(r.get("managed")),
                )
                for r in data.get("roles", [])
            ),
            channels=tuple(
                ChannelView(
                    int(c["id"]),
                    str(c.get("name", "?")),
                    int(c.get("type", 0)),
                    tuple(
                        (int(o["id"]), int(o.get("type", 0)), int(o.get("allow", 0)), int(o.get("deny", 0)))
                        for o in c.get("permission_overwrites", [])
                    ),
                )
                for c in channels
            ),
        )
        self._keep(key, view)
        return view

    async def member(self, guild_id: int, user_id: int) -> MemberView | None:
        """A member of a server as the bot sees it; None when not a member (cached)."""
        key = ("member", guild_id, user_id)
        cached = self._fresh(key)
        if cached is not None:
            return cached if isinstance(cached, MemberView) else None
        try:
            data = await self._call("GET", f"/guilds/{guild_id}/members/{user_id}", bot=True)
        except _NotThere:
            self._keep(key, False)
            return None
        user = data.get("user") or {}
        name = data.get("nick") or user.get("global_name") or user.get("username") or str(user_id)
        view = MemberView(user_id, str(name), tuple(int(r) for r in data.get("roles", [])))
        self._keep(key, view)
        return view

    @property
    def bot_user_id(self) -> int | None:
        """The bot's own id (from its token's first part), for the channel permission check."""
        return self._bot_id

    _bot_id: int | None = None

    async def bot_member(self, guild_id: int) -> MemberView | None:
        if self._bot_id is None:
            me = await self._call("GET", "/users/@me", bot=True)
            self._bot_id = int(me["id"])
        return await self.member(guild_id, self._bot_id)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def forget(self, guild_id: int) -> None:
        """Drop what is cached about a server (after the bot changed something there)."""
        self._cache = {k: v for k, v in self._cache.items() if k[1] != guild_id}

    # --- plumbing ------------------------------------------------------------------------------------------------
    def _fresh(self, key: tuple[str, int, int]) -> Any:
        entry = self._cache.get(key)
        if entry is None or self.clock() - entry.at_ms >= self.cache_ms:
            return None
        return entry.value

    def _keep(self, key: tuple[str, int, int], value: Any) -> None:
        if self.cache_ms > 0:
            self._cache[key] = _Cached(self.clock(), value)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        bearer: str | None = None,
        bot: bool = False,
        data: dict[str, str] | None = None,
    ) -> Any:
        headers = {"User-Agent": "DiscordBot (northca-duty-bot dashboard, 1)"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        elif bot:
            headers["Authorization"] = f"Bot {self._bot_token}"
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.request(
                method, self.api_base + path, headers=headers, data=data, timeout=self.timeout
            ) as response:
                status = response.status
                body = await response.json(content_type=None) if status != 204 else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DiscordUnavailable(f"Discord could not be reached ({type(exc).__name__})") from None
        if status in (403, 404) and bot:
            raise _NotThere()
        if status in (400, 401, 403):
            raise DiscordRefused(f"Discord refused the request ({status})")
        if status >= 300:
            raise DiscordUnavailable(f"Discord answered {status}")
        return body


class _NotThere(Exception):
    """The bot is not in that server, or the member is not in it."""
