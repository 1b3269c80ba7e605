"""The null bot: the same discord.py, the same intents and transport as the real bot, and no work at all. It answers
every interaction with one constant message, so its CPU time and latency are the floor the real bot is measured
against.

Run: python -m bench.null_bot   (the fake Discord's URL in NORTHCA_BOT_TEST_DISCORD_API; stops on SIGTERM)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import discord
import discord.gateway
import discord.http
import yarl

from bot.ops.cli import TEST_DISCORD_API_ENV


class NullBot(discord.Client):
    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


async def run() -> None:
    base = os.environ[TEST_DISCORD_API_ENV]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1))
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    client = NullBot(intents=intents)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(client.close()))
    async with client:
        await client.start("null-bot-token")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run())


if __name__ == "__main__":
    main()
