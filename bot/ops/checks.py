"""`northca-bot check-config --online`: the token with Discord, the partner key with one cheap Northca call,
the database path by opening it, and whether panic alerts can ping each server's responder role; one line each."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.core.config import Config
from bot.core.settings.store import SettingsStore
from bot.discord.invite import RESPONDER_PING_NOTE, invite_url
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaError, NorthcaUnauthorized
from bot.ops.startup import StartupError, open_database
from bot.storage import Database
from bot.wording import counted

Check = tuple[bool, str]
ADMINISTRATOR = 1 << 3
MENTION_EVERYONE = 1 << 17


async def check_discord(config: Config) -> Check:
    token = config.discord.token.get_secret_value() if config.discord.token else ""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        user = await http.static_login(token)
    except discord.LoginFailure:
        return False, "Discord: the bot token was refused. Copy it again from the developer portal (Bot > Reset Token)."
    except discord.HTTPException as exc:
        return False, f"Discord: answered HTTP {exc.status} while checking the token. Try again later."
    except (aiohttp.ClientError, OSError) as exc:
        return False, f"Discord: cannot reach it ({type(exc).__name__}). Check this machine's network."
    finally:
        await http.close()
    return True, (
        f"Discord: OK, the token belongs to {user.get('username', '?')} (id {user.get('id', '?')}); "
        f"invite it with {invite_url(int(user['id']))} ({RESPONDER_PING_NOTE})."
    )


async def check_northca(config: Config) -> Check:
    key = config.northca.partner_key
    if key is None:
        return True, "Northca: no partner key, so the bot runs against its LOCAL sandbox (nothing reaches Northca)."
    guild = config.discord.dev_guild_id or 0
    async with aiohttp.ClientSession() as session:
        client = NorthcaClient(
            session,
            config.northca.base_url,
            key.get_secret_value(),
            timeout=config.northca.timeout_seconds,
            deadline=config.northca.timeout_seconds,
        )
        try:
            await client.list_guild_mdts(guild)
        except NorthcaUnauthorized:
            return False, "Northca: the partner key was refused. Check [northca] partner_key or NORTHCA_PARTNER_KEY."
        except NorthcaError as exc:
            if exc.status is None or exc.retryable:
                return False, (
                    f"Northca: no usable answer from {config.northca.base_url}. Check base_url and the network."
                )
            # Any other refusal (403, 404, 400) came after the key was accepted.
    return True, f"Northca: OK, {config.northca.base_url} accepts the partner key."


async def check_database(config: Config) -> Check:
    db = Database(config.database.target)
    try:
        await open_database(db)
    except StartupError as exc:
        return False, f"Database: {exc}"
    finally:
        await db.close()
    return True, f"Database: OK, {config.database.where} opens and is writable."


async def _responder_roles(config: Config) -> dict[int, int]:
    """Each server's responder role, from the stored settings (server id -> role id)."""
    db = Database(config.database.target)
    try:
        await open_database(db)
        stored = await SettingsStore(db).load_all()
    finally:
        await db.close()
    return {
        guild: int(role) for guild, values in stored.items() if isinstance(role := values.get("role.responder"), int)
    }


async def _responder_problem(http: discord.http.HTTPClient, guild_id: int, role_id: int, bot_id: int) -> str | None:
    """Why panic alerts in this server would notify nobody, or None (fine, or the bot cannot see the server)."""
    try:
        roles = {int(r["id"]): r for r in await http.get_roles(guild_id)}
        member = await http.get_member(guild_id, bot_id)
    except discord.HTTPException:
        return None  # the bot left the server, or cannot see it: nothing to check there
    role = roles.get(role_id)
    if role is None:
        return f"server {guild_id}: the responder role {role_id} no longer exists: set another with /settings role"
    permissions = 0
    for held in (guild_id, *(int(r) for r in member.get("roles", []))):  # @everyone's id is the server's
        if held in roles:
            permissions |= int(roles[held].get("permissions", 0))
    if role.get("mentionable") or permissions & (ADMINISTRATOR | MENTION_EVERYONE):
        return None
    return (
        f"server {guild_id}: panic alerts will not ping the responder role @{role.get('name', role_id)}: "
        "it is not mentionable and the bot lacks Mention Everyone"
    )


async def check_responder_pings(config: Config) -> Check:
    """Panic alerts ping each server's responder role: it must be mentionable, or the bot needs Mention Everyone."""
    roles = await _responder_roles(config)
    if not roles:
        return True, f"Responders: no server has set a responder role yet; once set, {RESPONDER_PING_NOTE}."
    token = config.discord.token.get_secret_value() if config.discord.token else ""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        me = await http.static_login(token)
        problems = [
            p
            for guild, role in sorted(roles.items())
            if (p := await _responder_problem(http, guild, role, int(me["id"])))
        ]
    except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
        return False, f"Responders: could not ask Discord ({type(exc).__name__}): check again later."
    finally:
        await http.close()
    if problems:
        return False, f"Responders: {'; '.join(problems[:5])}. Fix: {RESPONDER_PING_NOTE}."
    return True, f"Responders: OK, panic alerts can ping the responder role in {counted(len(roles), 'server')}."


async def check_online(config: Config) -> list[Check]:
    checks = [await check_discord(config), await check_northca(config), await check_database(config)]
    if checks[0][0] and checks[2][0]:  # needs a token Discord accepts and a database that opens
        checks.append(await check_responder_pings(config))
    return checks
