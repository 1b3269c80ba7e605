"""The one department autocomplete: the interaction's server's departments matching what is typed,
by the department rule (bot/core/departments.py), for every command with a department option."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.discord.bot import bot_of
from bot.discord.discord_text import fit_choices
from bot.discord.interactions import require_guild


async def department_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    names = bot_of(interaction).shifts.department_choices(require_guild(interaction), current)
    return fit_choices([app_commands.Choice(name=d, value=d) for d in names])
