"""The one place that turns errors into what a user reads, plus permission checks
shared by slash commands and the buttons that stand for them."""

from __future__ import annotations

import functools
import logging
import uuid
from typing import Any, Awaitable, Callable, TypeVar

import discord
from discord import app_commands

from bot.errors import GuildOnly, MissingPermission, UserFacingError
from bot.northca.errors import (
    NorthcaBadRequest,
    NorthcaError,
    NorthcaForbidden,
    NorthcaRateLimited,
    NorthcaUnauthorized,
)

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def northca_message(exc: NorthcaError) -> str:
    if isinstance(exc, NorthcaForbidden) and "not linked" in exc.message.lower():
        return "Northca says this server's MDT is not linked (MDT not linked to this guild). An admin checks it with /link."
    if isinstance(exc, NorthcaForbidden):
        return f"Northca refused this: {exc.message}."
    if isinstance(exc, NorthcaUnauthorized):
        return "Northca refused the bot's partner key. Tell the person who runs this bot to check its configuration."
    if isinstance(exc, NorthcaRateLimited):
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after else " in a moment"
        return f"Northca is busy right now. Try again{wait}."
    if isinstance(exc, NorthcaBadRequest):
        return f"Northca refused this: {exc.message}."
    if exc.retryable:
        return "Northca is not answering right now. Nothing was lost; try again in a minute."
    return f"Northca answered with an error: {exc.message}."


def user_message(error: BaseException) -> tuple[str, bool]:
    """The message for an error, and whether it was expected (False: log with a trace id)."""
    original: BaseException = getattr(error, "original", error)
    if isinstance(original, UserFacingError):
        return original.message, True
    if isinstance(original, NorthcaError):
        return northca_message(original), True
    if isinstance(original, app_commands.NoPrivateMessage):
        return GuildOnly().message, True
    if isinstance(original, app_commands.MissingPermissions):
        names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in original.missing_permissions)
        return f"You need the {names} permission to use this.", True
    if isinstance(original, app_commands.BotMissingPermissions):
        names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in original.missing_permissions)
        return f"The bot needs the {names} permission here. Ask an admin to grant it.", True
    if isinstance(original, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {original.retry_after:.0f} s.", True
    if isinstance(original, app_commands.CheckFailure):
        return "You can't use this here.", True
    return "", False


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    message, expected = user_message(error)
    if not expected:
        trace = uuid.uuid4().hex[:8]
        log.error("unexpected error [trace %s] in %s", trace, _describe(interaction), exc_info=error)
        message = f"Something went wrong on our side (trace `{trace}`). Try again; if it keeps happening, give this code to the bot's admins."
    else:
        log.info("told %s: %s", _describe(interaction), message)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for %s", _describe(interaction), exc_info=True)


def _describe(interaction: discord.Interaction) -> str:
    what = interaction.command.qualified_name if interaction.command else (interaction.data or {}).get("custom_id", "?")
    return f"interaction {interaction.id} ({what}) by {interaction.user.id} in guild {interaction.guild_id}"


def guarded(callback: F) -> F:
    """For button callbacks: errors go to the same handler as app commands."""

    @functools.wraps(callback)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any) -> Any:
        try:
            return await callback(self, interaction, *args)
        except Exception as exc:  # noqa: BLE001 - every error is reported to the user
            await report_error(interaction, exc)

    return wrapper  # type: ignore[return-value]


# --- permission checks, used by commands and re-checked by every button -----


def require_guild(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise GuildOnly()
    return interaction.guild_id


def require_manage_guild(interaction: discord.Interaction, doing: str = "do this") -> None:
    require_guild(interaction)
    perms = interaction.permissions
    if not (perms.manage_guild or perms.administrator):
        raise MissingPermission(f"You need the Manage Server permission to {doing}.")


def has_any_role(interaction: discord.Interaction, role_ids: list[int]) -> bool:
    user = interaction.user
    return isinstance(user, discord.Member) and any(r.id in role_ids for r in user.roles)


def require_supervisor(interaction: discord.Interaction, supervisor_role_ids: list[int], doing: str = "do this") -> None:
    require_guild(interaction)
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator or has_any_role(interaction, supervisor_role_ids):
        return
    raise MissingPermission(f"You need the Manage Server permission or a supervisor role to {doing}.")
