"""The forms for tickets and scene reports (at most 5 text inputs, labels of at most 45 characters)."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.interactions import guarded
from cogs.dispatch import flows
from cogs.dispatch.embeds import PRIORITIES


class TicketModal(discord.ui.Modal, title="New ticket"):
    ticket_title: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Title", max_length=100)
    description: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Description", style=discord.TextStyle.paragraph, max_length=1500
    )
    # A fixed choice is picked, not typed (discord.py 2.6's labelled select in a modal).
    priority: discord.ui.Label[Any] = discord.ui.Label(
        text="Priority",
        description="Optional",
        component=discord.ui.Select(
            placeholder="Pick a priority",
            required=False,
            options=[discord.SelectOption(label=f"{code} · {name}", value=code) for code, name in PRIORITIES.items()],
        ),
    )

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        picked = self.priority.component
        chosen = picked.values[0] if isinstance(picked, discord.ui.Select) and picked.values else ""
        await flows.submit_ticket(interaction, self.ticket_title.value, self.description.value, chosen)


class ReportModal(discord.ui.Modal, title="Scene report"):
    report_title: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Title", max_length=100)
    description: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="What happened", style=discord.TextStyle.paragraph, max_length=1500
    )
    location: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Location", required=False, max_length=200)
    when: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Date and time (YYYY-MM-DD HH:MM, blank: now)", required=False, max_length=16
    )

    def __init__(self, call_id: str | None = None) -> None:
        super().__init__()
        self.call_id = call_id

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await flows.submit_report(
            interaction,
            self.call_id,
            self.report_title.value,
            self.description.value,
            self.location.value,
            self.when.value,
        )
