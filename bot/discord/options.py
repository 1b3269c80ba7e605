"""Every option of every slash command checked before the command runs, in one place (`NorthcaTree` calls
`check_options`): what Discord's client guarantees, a forged or buggy client does not, and discord.py passes
option values through as sent.

- A number stays within the command's declared range (`Range[int, 1, 100]`), and any whole number within what the
  database stores (bot/core/parsing.py's MAX_ID), a user's id too; a number option is finite.
- A text stays within its declared length, and a value with declared choices is one of them.
- A role or a channel belongs to the interaction's server: it is in that server's roles or channels as the gateway
  told us (a payload may carry another server's role or channel, and Discord's resolved data does not say whose it
  is). Nothing of another server is stored in, or shown from, this one's settings.
"""

from __future__ import annotations

import math
from typing import Any

import discord
from discord import app_commands

from bot.core.errors import InvalidInput
from bot.core.parsing import MAX_ID

# Discord's own cap on a text option.
MAX_TEXT = 6000
_ROLE, _CHANNEL = discord.AppCommandOptionType.role, discord.AppCommandOptionType.channel
_USER, _MENTIONABLE = discord.AppCommandOptionType.user, discord.AppCommandOptionType.mentionable


class RefusedOption(app_commands.AppCommandError):
    """An option no real Discord client sends; `original` is what the error handler tells the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.original = InvalidInput.said(message)


def check_options(interaction: discord.Interaction[Any]) -> None:
    """Raise RefusedOption for the first option of a slash command out of its bounds (see the module)."""
    if interaction.type is not discord.InteractionType.application_command:
        return  # autocomplete stores nothing, and its namespace is partial by design
    command = interaction.command
    if not isinstance(command, app_commands.Command):
        return
    given = interaction.namespace
    if not vars(given):
        return  # no option given (a plain /shift start or /shift end): nothing to check
    for param in command.parameters:
        value = getattr(given, param.display_name, None)
        if value is None:
            continue
        problem = _problem(interaction, param, value)
        if problem is not None:
            raise RefusedOption(f"The option `{param.display_name}` {problem}.")


def _problem(interaction: discord.Interaction[Any], param: app_commands.Parameter, value: Any) -> str | None:
    if param.type in (_ROLE, _CHANNEL):
        return _foreign(interaction, param.type, value)
    if param.type in (_USER, _MENTIONABLE):
        item_id = getattr(value, "id", None)
        return None if isinstance(item_id, int) and 0 < item_id <= MAX_ID else "names no Discord user"
    if param.choices and value not in {c.value for c in param.choices}:
        return "is not one of its choices"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _out_of(value, param, -MAX_ID, MAX_ID)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "is not a number"
        return _out_of(value, param, -math.inf, math.inf)
    if isinstance(value, str):
        shortest = int(param.min_value or 0)
        longest = int(param.max_value or MAX_TEXT)
        if not shortest <= len(value) <= longest:
            return f"must be {shortest} to {longest} characters long"
    return None


def _out_of(value: float, param: app_commands.Parameter, lowest: float, highest: float) -> str | None:
    low = lowest if param.min_value is None else max(lowest, param.min_value)
    high = highest if param.max_value is None else min(highest, param.max_value)
    return None if low <= value <= high else f"must be from {_num(low)} to {_num(high)}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _foreign(interaction: discord.Interaction[Any], kind: discord.AppCommandOptionType, value: Any) -> str | None:
    """Why a role or channel option cannot be used here, or None when it belongs to the interaction's server."""
    what = "role" if kind is _ROLE else "channel"
    item_id = getattr(value, "id", None)
    guild = interaction.guild
    if not isinstance(item_id, int) or not isinstance(guild, discord.Guild):
        return f"names a {what} I cannot see in this server: pick one from the list"
    found = guild.get_role(item_id) if kind is _ROLE else guild.get_channel_or_thread(item_id)
    if found is None:
        return f"names a {what} of another server (or one just deleted): pick one of this server's {what}s"
    return None
