"""The floor bot: the null bot (bench/null_bot.py) doing what no shift bot can skip, and nothing else. A `/shift
start` opens the shift in the database (the bot's own statement: `ShiftStore.insert_open`, group-committed) and is
answered; a `/shift end` closes it (`ShiftStore.end_open`, one statement), is answered, the shift is written to
Northca (one POST, the body the bot sends) and the answer is edited with the verdict. Requests are made the cheapest
way aiohttp allows (a prepared JSON body, no message asked back), with the bot's garbage-collector settings, so its
CPU time per interaction is what the product's own requests and its commits cost: the part of the real bot's cost
that is not its own code.

Run: python -m bench.floor_bot   (the fake Discord's URL in NORTHCA_BOT_TEST_DISCORD_API, the Northca sandbox's in
FLOOR_BOT_NORTHCA, the SQLite file in FLOOR_BOT_DATABASE; stops on SIGTERM)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from typing import Any, cast

import aiohttp
import discord
import discord.gateway
import discord.http
import orjson
import yarl

from bench.sandbox_proc import KEY, MDT
from bot.core.shifts.store import ShiftStore
from bot.core.timefmt import from_ms, now_ms, to_iso
from bot.ops.cli import TEST_DISCORD_API_ENV
from bot.ops.runtime import settle_heap
from bot.storage import Database

NORTHCA_ENV = "FLOOR_BOT_NORTHCA"
DATABASE_ENV = "FLOOR_BOT_DATABASE"
JSON = {"Content-Type": "application/json"}


class FloorBot(discord.Client):
    def __init__(self, northca_url: str, database: Database) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.members = True
        super().__init__(intents=intents)
        self.northca_url = northca_url.rstrip("/")
        self.database = database
        self.shifts = ShiftStore(database)
        self.northca = aiohttp.ClientSession()  # made in run(), on its running loop

    async def setup_hook(self) -> None:
        await self.database.open()
        settle_heap()  # the bot's own garbage-collector settings (bot/ops/runtime.py): the floor is not taxed more

    async def on_ready(self) -> None:
        settle_heap()  # as the bot does after each READY

    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        data = cast(dict[str, Any], interaction.data or {})
        options: list[dict[str, Any]] = data.get("options") or [{}]
        guild_id, member_id = interaction.guild_id or 0, interaction.user.id
        now = now_ms()
        if options[0].get("name") == "start":
            opened = await self.shifts.insert_open(
                shift_id=str(uuid.uuid4()), guild_id=guild_id, member_id=member_id, mdt_id=MDT,
                officer_name=interaction.user.name, officer_badge=None, department=None, callsign=None, started_ms=now,
            )  # fmt: skip
            await self._answer(interaction, "You are on duty." if opened else "You are already on duty.")
            return
        shift = await self.shifts.end_open(
            guild_id, member_id, end_ms=now, reason="member", ended_by=None, note=None, status="completed", now=now
        )
        if shift is None:
            await self._answer(interaction, "You are not on duty.")
            return
        await self._answer(interaction, "Shift ended: awaiting sync.")
        body = {
            "id": shift.id, "officer_name": shift.officer_name, "status": shift.status,
            "start_time": to_iso(from_ms(shift.started_ms)), "end_time": to_iso(from_ms(shift.ended_ms or now)),
            "duration_ms": shift.duration_ms,
        }  # fmt: skip
        headers = {"x-partner-key": KEY, "x-discord-guild": str(guild_id), "accept": "application/json", **JSON}
        url = f"{self.northca_url}/mdts/{MDT}/shifts"
        async with self.northca.post(url, data=orjson.dumps(body), headers=headers) as resp:
            await resp.read()
            verdict = "Synced to Northca." if resp.status < 300 else f"Northca answered {resp.status}."
        path = f"/webhooks/{interaction.application_id}/{interaction.token}/messages/@original"
        await self._request(interaction, "PATCH", path, {"content": f"Shift ended. {verdict}"})

    async def _answer(self, interaction: discord.Interaction[discord.Client], content: str) -> None:
        body = {"type": 4, "data": {"content": content, "flags": 64}}
        await self._request(interaction, "POST", f"/interactions/{interaction.id}/{interaction.token}/callback", body)

    @staticmethod
    async def _request(
        interaction: discord.Interaction[discord.Client], method: str, path: str, body: dict[str, Any]
    ) -> None:
        url = discord.http.Route.BASE + path
        async with interaction._session.request(method, url, data=orjson.dumps(body), headers=JSON) as resp:
            await resp.read()


async def run() -> None:
    base = os.environ[TEST_DISCORD_API_ENV]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1))
    client = FloorBot(os.environ[NORTHCA_ENV], Database(os.environ[DATABASE_ENV]))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(client.close()))
    try:
        async with client:
            await client.start("floor-bot-token")
    finally:
        await client.northca.close()
        await client.database.close()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run())


if __name__ == "__main__":
    main()
