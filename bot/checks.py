"""`northca-bot check-config --online`: the token with Discord, the partner key with one cheap Northca call,
the database path by opening it; one line each."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.config import Config
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaError, NorthcaUnauthorized
from bot.startup import StartupError, open_database
from bot.storage import Database

Check = tuple[bool, str]


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
    return True, f"Discord: OK, the token belongs to {user.get('username', '?')} (id {user.get('id', '?')})."


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


async def check_online(config: Config) -> list[Check]:
    return [await check_discord(config), await check_northca(config), await check_database(config)]
