"""The forms for tickets and scene reports (at most 5 text inputs, labels of at most 45 characters)."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.interactions import guarded
from cogs.dispatch import flows


class TicketModal(discord.ui.Modal, title="New ticket"):
    ticket_title: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Title", max_length=100)
    description: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Description", style=discord.TextStyle.paragraph, max_length=1500
    )
    priority: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Priority (optional)", required=False, max_length=20
    )

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await flows.submit_ticket(interaction, self.ticket_title.value, self.description.value, self.priority.value)


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
