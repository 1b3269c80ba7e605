"""Discord's OAuth2 and its REST views of servers, on the fake Discord: what the web dashboard talks to.

`FakeOAuth(fake, bot)` adds, like Discord:
- `GET /oauth2/authorize` (the consent page, on the website root, not under /api): checks the client id, the
  registered redirect URI, the scopes, `code_challenge_method=S256`, then sends the browser back to the
  redirect URI with a single-use `code` and the `state` unchanged, for the user "logged in to Discord" in that
  browser (`signed_in`), as if they clicked Authorize;
- `POST /api/oauth2/token` (form): the code exchanged once, with the client secret, the same redirect URI and
  the PKCE verifier whose S256 is the challenge; else 400 `invalid_grant` / `invalid_client`;
- with a user's Bearer token: `GET /users/@me` (the user), `GET /users/@me/guilds` (their servers with
  `owner` and `permissions` computed from the bot's cache like Discord, plus `other_guilds` the bot is not in);
- with the bot's token: `GET /users/@me/guilds` (the bot's servers), `GET /guilds/{id}` (name, owner, roles),
  `GET /guilds/{id}/channels`, `GET /guilds/{id}/members/{user}` (404 code 10007 for a non-member, 404 code
  10004 for a server the bot is not in), all read from the bot's live cache, so a role taken away in a test
  (`Harness.set_roles` / the gateway mirror) shows at once.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import discord

from . import builders
from .discord_routes import Answer, discord_error
from .fake_api import FakeDiscord, Redirect
from .recorded import Recorded

__all__ = ["FakeOAuth", "OAuthClient"]

SCOPES = {"identify", "guilds"}


@dataclass
class OAuthClient:
    client_id: int
    secret: str
    redirect_uris: set[str] = field(default_factory=set)


@dataclass
class _Grant:
    user_id: int
    client_id: int
    redirect_uri: str
    challenge: str
    scope: str


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class FakeOAuth:
    def __init__(self, fake: FakeDiscord, bot: discord.Client) -> None:
        self.fake = fake
        self.bot = bot
        self.clients: dict[int, OAuthClient] = {}
        # Who is logged in to Discord in the browser that opens the consent page (None: nobody: access_denied).
        self.signed_in: int | None = None
        self.users: dict[int, dict[str, Any]] = {}
        self.codes: dict[str, _Grant] = {}
        self.tokens: dict[str, int] = {}
        # Servers a user is in where the bot is not: user id -> [(guild id, name, permissions)].
        self.other_guilds: dict[int, list[tuple[int, str, int]]] = {}
        self._handlers = [
            fake.route("GET", r"^/oauth2/authorize$", self._authorize),
            fake.route("POST", r"^/oauth2/token$", self._token),
            fake.route("GET", r"^/users/@me$", self._me),
            fake.route("GET", r"^/users/@me/guilds$", self._my_guilds),
            fake.route("GET", r"^/guilds/(?P<gid>\d+)$", self._guild),
            fake.route("GET", r"^/guilds/(?P<gid>\d+)/channels$", self._channels),
            fake.route("GET", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", self._member),
        ]

    def close(self) -> None:
        for handler in self._handlers:
            self.fake.remove_route(handler)

    # --- what a test sets up ----------------------------------------------------------------------------------
    def add_client(self, client_id: int, secret: str, redirect_uri: str) -> OAuthClient:
        client = self.clients.setdefault(client_id, OAuthClient(client_id, secret))
        client.redirect_uris.add(redirect_uri)
        return client

    def add_user(self, user_id: int, username: str, *, global_name: str | None = None) -> None:
        self.users[user_id] = builders.user(user_id, username, global_name=global_name)

    def revoke(self, user_id: int) -> None:
        """Every token of the user stops working (they deauthorized the app)."""
        self.tokens = {t: u for t, u in self.tokens.items() if u != user_id}

    @property
    def token_requests(self) -> list[Recorded]:
        return self.fake.find("POST", r"^/oauth2/token$")

    # --- the routes -------------------------------------------------------------------------------------------
    def _authorize(self, rec: Recorded, m: re.Match[str]) -> Answer:
        q = rec.query
        client = self.clients.get(int(q.get("client_id", "0") or 0))
        if client is None:
            return 400, {"error": "invalid_client"}
        redirect = q.get("redirect_uri", "")
        if redirect not in client.redirect_uris:
            return 400, {"error": "invalid_request", "error_description": "Invalid OAuth2 redirect_uri"}
        if q.get("response_type") != "code" or not set(q.get("scope", "").split()) >= SCOPES:
            return 400, {"error": "invalid_scope"}
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return 400, {"error": "invalid_request", "error_description": "PKCE S256 required"}
        back: dict[str, str] = {"state": q["state"]} if "state" in q else {}
        if self.signed_in is None:
            return 302, Redirect(f"{redirect}?{urlencode({'error': 'access_denied', **back})}")
        code = secrets.token_urlsafe(16)
        self.codes[code] = _Grant(self.signed_in, client.client_id, redirect, q["code_challenge"], q["scope"])
        return 302, Redirect(f"{redirect}?{urlencode({'code': code, **back})}")

    def _token(self, rec: Recorded, m: re.Match[str]) -> Answer:
        form = {k: v[0] for k, v in parse_qs(rec.json if isinstance(rec.json, str) else "").items()}
        client = self.clients.get(int(form.get("client_id", "0") or 0))
        if client is None or not secrets.compare_digest(client.secret, form.get("client_secret", "")):
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)  # single use, right or wrong
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.client_id != client.client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or s256(form.get("code_verifier", "")) != grant.challenge
        ):
            return 400, {"error": "invalid_grant"}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = grant.user_id
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 604800,
            "refresh_token": secrets.token_urlsafe(24),
            "scope": grant.scope,
        }

    def _bearer(self, rec: Recorded) -> int | bool | None:
        """The user of a Bearer token; False for the bot's token; None for a bad Bearer token."""
        auth = rec.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        return self.tokens.get(auth.removeprefix("Bearer "))

    def _me(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        user_id = self._bearer(rec)
        if user_id is False:
            return None  # the bot: the built-in route
        if user_id is None:
            return discord_error(401)
        assert isinstance(user_id, int)
        return 200, self.users.get(user_id) or builders.user(user_id)

    def _my_guilds(self, rec: Recorded, m: re.Match[str]) -> Answer:
        user_id = self._bearer(rec)
        if user_id is None:
            return discord_error(401)
        if user_id is False:
            return 200, [{"id": str(g.id), "name": g.name, "icon": None, "owner": False} for g in self.bot.guilds]
        assert isinstance(user_id, int)
        out: list[dict[str, Any]] = []
        for guild in self.bot.guilds:
            member = guild.get_member(user_id)
            owner = guild.owner_id == user_id
            if member is None and not owner:
                continue
            # The owner has every permission (and is a member even when the test cached no member for them).
            perms = discord.Permissions.all().value if owner or member is None else member.guild_permissions.value
            out.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": None,
                    "owner": owner,
                    "permissions": str(perms),
                    "features": [],
                }
            )
        for gid, name, perms in self.other_guilds.get(user_id, []):
            out.append({"id": str(gid), "name": name, "icon": None, "owner": False, "permissions": str(perms)})
        return 200, out

    def _bot_guild(self, rec: Recorded, gid: str) -> discord.Guild | Answer:
        if self._bearer(rec) is not False:
            return discord_error(401)
        guild = self.bot.get_guild(int(gid))
        if guild is None:
            return 404, {"message": "Unknown Guild", "code": 10004}
        return guild

    def _name(self, user_id: int) -> str:
        return str(self.users.get(user_id, {}).get("username") or f"user{str(user_id)[-4:]}")

    def _guild(self, rec: Recorded, m: re.Match[str]) -> Answer:
        guild = self._bot_guild(rec, m["gid"])
        if not isinstance(guild, discord.Guild):
            return guild
        roles = [
            builders.role(r.id, r.name, permissions=r.permissions.value, position=r.position, managed=r.managed)
            for r in guild.roles
        ]
        return 200, {"id": str(guild.id), "name": guild.name, "owner_id": str(guild.owner_id), "roles": roles}

    def _channels(self, rec: Recorded, m: re.Match[str]) -> Answer:
        guild = self._bot_guild(rec, m["gid"])
        if not isinstance(guild, discord.Guild):
            return guild
        out = []
        for c in guild.channels:
            payload = builders.channel(c.id, guild_id=guild.id, name=c.name, type=c.type.value, position=c.position)
            payload["permission_overwrites"] = [
                {
                    "id": str(target.id),
                    "type": 0 if isinstance(target, discord.Role) else 1,
                    "allow": str(ow.pair()[0].value),
                    "deny": str(ow.pair()[1].value),
                }
                for target, ow in c.overwrites.items()
            ]
            out.append(payload)
        return 200, out

    def _member(self, rec: Recorded, m: re.Match[str]) -> Answer:
        guild = self._bot_guild(rec, m["gid"])
        if not isinstance(guild, discord.Guild):
            return guild
        member = guild.get_member(int(m["uid"]))
        if member is None:
            if int(m["uid"]) == guild.owner_id:  # the owner is always a member
                payload = builders.member(guild.owner_id, username=self._name(guild.owner_id))
                payload.pop("permissions", None)
                return 200, payload
            return 404, {"message": "Unknown Member", "code": 10007}
        payload = builders.member(member.id, roles=[r.id for r in member.roles if r.id != guild.id], nick=member.nick)
        payload["user"] = builders.user(member.id, member.name, global_name=member.global_name)
        payload.pop("permissions", None)
        return 200, payload
