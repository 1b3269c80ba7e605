"""What the settings' setters are told about a role or channel picked in Discord (bot.settings.RoleFacts,
ChannelFacts): the bot's own position and permissions, read from the guild's cache. Shared by the /settings
commands and the /settings panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.core.errors import InvalidInput
from bot.core.settings import ChannelFacts, RoleFacts
from bot.core.settings.records import GuildSettings

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

# What the bot needs in a channel it posts to, by Discord's names.
NEEDED_IN_CHANNEL = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
)


def responder_not_pinged(guild: discord.Guild | None, settings: GuildSettings) -> bool:
    """Whether a panic alert's ping of the responder role would notify nobody, as far as the bot can see: the role
    is not mentionable and the bot has no Mention Everyone. False when the bot cannot see the role or itself."""
    role = guild.get_role(settings.responder_role_id) if guild and settings.responder_role_id else None
    if guild is None or role is None or guild.me is None:
        return False
    return not role.mentionable and not guild.me.guild_permissions.mention_everyone


def role_facts(interaction: discord.Interaction[NorthcaBot], role: discord.Role) -> RoleFacts:
    guild = interaction.guild
    me = guild.me if guild is not None else None
    above = me is not None and role.position >= me.top_role.position
    return RoleFacts(role.id, role.name, managed=role.managed, is_everyone=role.is_default(), above_bot=above)


def channel_facts(
    interaction: discord.Interaction[NorthcaBot], channel: app_commands.AppCommandChannel | discord.abc.GuildChannel
) -> ChannelFacts:
    """The bot's own permissions in the channel: from the cached guild (overwrites included), or the
    interaction's app_permissions when it is the channel the command was used in."""
    if channel.type not in (discord.ChannelType.text, discord.ChannelType.news):
        raise InvalidInput.said("Pick a text channel.")
    guild = interaction.guild
    full = guild.get_channel(channel.id) if guild is not None else None
    perms: discord.Permissions | None = None
    if full is not None and guild is not None and guild.me is not None:
        perms = full.permissions_for(guild.me)
    elif channel.id == interaction.channel_id:
        perms = interaction.app_permissions
    missing = tuple(name for attr, name in NEEDED_IN_CHANNEL if perms is not None and not getattr(perms, attr))
    return ChannelFacts(channel.id, channel.name, missing)
