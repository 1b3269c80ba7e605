"""Posting to a guild's configured channels (the shift log, the reports channel) from the activity and
leave cogs: only a channel of that guild, never a ping, a failure logged and not raised."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.discord.interactions import post

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


def guild_channel(bot: NorthcaBot, guild_id: int, channel_id: int | None) -> discord.TextChannel | None:
    """The text channel, when it is one of this guild's."""
    if channel_id is None:
        return None
    channel = bot.get_channel(channel_id)
    if isinstance(channel, discord.TextChannel) and channel.guild.id == guild_id:
        return channel
    return None


async def post_in(
    bot: NorthcaBot,
    guild_id: int,
    channel_id: int | None,
    text: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    nonce: int | None = None,
) -> discord.Message | None:
    channel = guild_channel(bot, guild_id, channel_id)
    if channel is None:
        return None
    try:
        return await post(channel, text, embed=embed, view=view, allowed_mentions=NO_MENTIONS, nonce=nonce)
    except discord.HTTPException as exc:
        log.warning("guild %s: could not post to channel %s (%s)", guild_id, channel_id, exc)
        return None


async def shift_log(bot: NorthcaBot, guild_id: int, text: str) -> None:
    """The audit line of an admin action, in the guild's shift-log channel when one is set."""
    await post_in(bot, guild_id, bot.settings.get(guild_id).shift_log_channel_id, text)
