"""/panic, /call create, /call lookup (supervisors: a record's Northca id by its number), /ticket, /report;
dispatch outcomes edit the panic alerts and call cards."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.dispatch import DispatchOutcome
from bot.core.errors import InvalidInput
from bot.core.sharding import ShardSet, owns
from bot.discord.bot import NorthcaBot
from bot.discord.interactions import answer, require_guild, send_modal
from bot.erlc.calls import GameCallRelayed
from cogs.dispatch import flows
from cogs.dispatch.embeds import KIND_NAMES, PRIORITIES, lookup_text
from cogs.dispatch.modals import ReportModal, TicketModal
from cogs.supervisor_check import require_guild_supervisor


class GameCardCatchUp:
    """At start: the cards of in-game calls relayed by a process that stopped before posting them (claimed per
    card, so one of all processes posts each), for this process's servers. In the background: start never waits
    on Discord."""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="game-call-cards")

    async def run(self) -> None:
        shards = ShardSet.of(self.bot.config.discord)
        for guild_id, call_id in await self.bot.dispatcher.game_calls_without_card():
            if owns(shards, guild_id):
                await flows.post_game_call_card(self.bot, guild_id, call_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class DispatchCog(commands.Cog):
    call_group = app_commands.Group(name="call", description="Dispatch calls on Northca.", guild_only=True)

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.dispatcher.outcomes.subscribe(self.on_outcome)
        self.bot.services.erlc_calls.relayed.subscribe(self.on_game_call)
        self.card_catch_up = GameCardCatchUp(self.bot)
        self.bot.add_service(self.card_catch_up)

    async def cog_unload(self) -> None:
        self.bot.dispatcher.outcomes.unsubscribe(self.on_outcome)
        self.bot.services.erlc_calls.relayed.unsubscribe(self.on_game_call)

    async def on_game_call(self, relayed: GameCallRelayed) -> None:
        """An in-game 911 call became a CAD call (its card is posted), or the game ended it (the card updated)."""
        if relayed.created:
            await flows.post_game_call_card(self.bot, relayed.guild_id, relayed.call_id)
        else:
            await flows.refresh_card(self.bot, relayed.guild_id, relayed.call_id)

    async def on_outcome(self, outcome: DispatchOutcome) -> None:
        if outcome.kind == "panic":
            await flows.refresh_alert(self.bot, outcome.guild_id, outcome.record_id)
        elif outcome.kind == "call":
            await flows.refresh_card(self.bot, outcome.guild_id, outcome.record_id)

    @app_commands.command(name="panic", description="10-33: alert the responders (asks you to confirm).")
    @app_commands.describe(location="Where you are (optional)")
    @app_commands.guild_only()
    async def panic(
        self, interaction: discord.Interaction[NorthcaBot], location: app_commands.Range[str, 1, 70] | None = None
    ) -> None:
        await flows.ask_panic_confirm(interaction, location)

    @call_group.command(name="create", description="Create a call on Northca and post its card.")
    @app_commands.describe(
        classification="What it is, for example 10-50 traffic collision",
        description="What is known",
        location="Where",
        priority="How urgent: P1 emergency to P4 low",
        call_type="For example police, fire, ems",
    )
    # The priority is picked from a list, not typed: every card and Northca get the same few values.
    @app_commands.choices(
        priority=[app_commands.Choice(name=f"{code} · {name}", value=code) for code, name in PRIORITIES.items()]
    )
    async def create(
        self,
        interaction: discord.Interaction[NorthcaBot],
        classification: app_commands.Range[str, 1, 100],
        description: app_commands.Range[str, 1, 1000],
        location: app_commands.Range[str, 1, 200],
        priority: app_commands.Choice[str],
        call_type: app_commands.Range[str, 1, 40],
    ) -> None:
        await flows.create_call(
            interaction,
            classification=classification,
            description=description,
            location=location,
            priority=priority.value,
            call_type=call_type,
        )

    @call_group.command(
        name="lookup", description="Supervisors: a call, ticket or report by number, with its Northca id."
    )
    @app_commands.describe(number="Its number, e.g. 12 for Call #12", kind="What it is (default: a call)")
    async def lookup(
        self,
        interaction: discord.Interaction[NorthcaBot],
        number: app_commands.Range[int, 1, 1_000_000_000],
        kind: Literal["call", "ticket", "report", "panic"] = "call",
    ) -> None:
        # Ids are for talking to Northca (its support, its API): behind a supervisor check, never on public cards.
        require_guild_supervisor(interaction, "look up Northca ids")
        guild_id = require_guild(interaction)
        entry = await self.bot.dispatcher.entry_by_number(guild_id, kind, number)
        if entry is None:
            raise InvalidInput.said(f"This server has no {KIND_NAMES[kind].lower()} #{number}.")
        await answer(interaction, lookup_text(entry), allowed_mentions=discord.AllowedMentions.none())

    @app_commands.command(name="ticket", description="Write a ticket to Northca (opens a form).")
    @app_commands.guild_only()
    async def ticket(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_guild(interaction)
        await send_modal(interaction, TicketModal())

    @app_commands.command(name="report", description="Write a scene report to Northca (opens a form).")
    @app_commands.guild_only()
    async def report(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_guild(interaction)
        await send_modal(interaction, ReportModal())
