"""The invite link with exactly the permissions the bot uses (printed at start and in the README)."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    """View Channels, Send Messages, Embed Links and Read Message History: the shift log channel and the status
    panels (found again after a restart). Manage Roles: the On Duty role. Answers to commands need nothing more."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        read_message_history=True,
        manage_roles=True,
    )


# Panic alerts ping the responder role. Discord delivers a bot's role mention only when the role is mentionable or
# the bot has Mention Everyone; the invite does not ask for Mention Everyone (it would also let the bot ping
# @everyone), so the role must be made mentionable, or the permission given by hand.
RESPONDER_PING_NOTE = (
    "panic alerts ping the responder role: make that role mentionable (Server Settings > Roles > "
    "Allow anyone to @mention this role), or give the bot Mention Everyone"
)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(application_id, permissions=required_permissions(), scopes=SCOPES)
