"""Supervisors of a guild: Manage Server or one of its supervisor roles (its settings, read at every press)."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.bot import bot_of
from bot.discord.interactions import require_guild, require_supervisor


def require_guild_supervisor(interaction: discord.Interaction[Any], doing: str) -> None:
    settings = bot_of(interaction).settings.get(require_guild(interaction))
    require_supervisor(interaction, list(settings.supervisor_role_ids), doing)
