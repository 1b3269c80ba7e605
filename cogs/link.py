"""/link, its persistent Approve button, and /unlink."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.links import GuildLink, Linkage, LinkService, LiveCheck, validate_mdt_id
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.discord_text import discord_ts, quoted
from bot.discord.interactions import answer, defer, edit_answer, guarded, require_guild, require_manage_guild
from bot.wording import meanwhile_text
from cogs.style import BRAND, ERROR, NEUTRAL, SUCCESS, WARNING

log = logging.getLogger(__name__)

STATUS_TEXT = {
    "pending": "⏳ Waiting for the MDT owner to approve",
    "approved": "✅ Linked",
    "denied": "⛔ Denied by the MDT owner",
    "expired": "⌛ Expired before it was approved",
}
COLOURS = {
    "pending": WARNING,
    "approved": SUCCESS,
    "denied": ERROR,
    "expired": NEUTRAL,
}


def link_embed(link: GuildLink, live: LiveCheck | None = None) -> discord.Embed:
    embed = discord.Embed(title="Northca MDT link", colour=COLOURS.get(link.status, BRAND))
    embed.add_field(name="MDT", value=f"`{link.mdt_id}`", inline=False)
    embed.add_field(name="Status", value=status_text(link), inline=False)
    if link.owner_discord_id:
        embed.add_field(name="MDT owner", value=f"<@{link.owner_discord_id}>", inline=True)
    if link.requested_by:
        embed.add_field(name="Requested by", value=f"<@{link.requested_by}> {discord_ts(link.created_at)}", inline=True)
    if link.linkage is Linkage.UNDECIDED and link.expires_at:
        embed.add_field(name="Expires", value=discord_ts(link.expires_at), inline=True)
    if live is not None:
        if live.linked_on_northca is None:
            why = (
                live.error
                if live.changed is None
                else f"{meanwhile_text(live.changed.facts())}; run /link to check it again"
            )
            text = f"Could not ask Northca just now ({quoted(str(why))}). The stored status is shown."
        elif live.linked_on_northca:
            text = "Northca confirms the link."
        else:
            text = "Northca does not list this link (yet)."
        embed.add_field(name="Checked live", value=text, inline=False)
    embed.set_footer(text=next_step(link))
    return embed


def status_text(link: GuildLink) -> str:
    # A status the spec does not list (Northca may add some, e.g. `in_review`): shown, not approved.
    return STATUS_TEXT.get(link.status) or f"❔ `{link.status}` on Northca: not approved yet"


def next_step(link: GuildLink) -> str:
    if link.linkage is Linkage.UNDECIDED:
        who = "the MDT owner" if link.owner_discord_id else "the MDT's owner on Northca"
        return f"Next: {who} presses Approve below (or approves on Northca). Check with /link."
    if link.linkage is Linkage.LINKED:
        return "Officers can now use /shift and /status."
    return "Next: an admin runs /link again to make a new request."


class ApproveLinkButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"northca:link:approve:(?P<request_id>[A-Za-z0-9._~-]{1,70})",
):
    """Persistent across restarts: any message carrying it works, however old."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(
            discord.ui.Button(
                label="Approve link",
                style=discord.ButtonStyle.success,
                custom_id=f"northca:link:approve:{request_id}",
                emoji="✅",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ApproveLinkButton:
        return cls(match["request_id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        links = bot_of(interaction).links
        guild_id = require_guild(interaction)
        # Who may press it is decided by the service (the MDT owner only), on every press,
        # before acknowledging, so a refusal is answered privately at once.
        await links.require_approver(guild_id, self.request_id, interaction.user.id)
        await defer(interaction)
        link, already = await links.approve(guild_id, self.request_id, interaction.user.id)
        await edit_answer(interaction, embed=link_embed(link), view=None)
        text = (
            "This link was already approved."
            if already
            else f"Approved: this server is now linked to MDT `{link.mdt_id}`."
        )
        await answer(interaction, text)


class UnlinkConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"northca:link:unlink:(?P<choice>confirm|cancel)(?::(?P<link>[0-9a-f]{16}))?",
):
    """Confirm carries the fingerprint of the link it asked about: it never removes another one."""

    def __init__(self, choice: str, link_fingerprint: str | None = None) -> None:
        self.choice = choice
        self.link_fingerprint = link_fingerprint
        confirm = choice == "confirm"
        super().__init__(
            discord.ui.Button(
                label="Unlink" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"northca:link:unlink:{choice}" + (f":{link_fingerprint}" if link_fingerprint else ""),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UnlinkConfirmButton:
        return cls(match["choice"], match["link"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_manage_guild(interaction, "unlink this server")
        if self.choice == "cancel":
            await edit_answer(interaction, "Unlink cancelled; nothing changed.", embed=None, view=None)
            return
        await defer(interaction)
        links = bot_of(interaction).links
        link, on_northca = await links.unlink(require_guild(interaction), interaction.user.id, self.link_fingerprint)
        text = f"Unlinked MDT `{link.mdt_id}` from this server."
        if on_northca:
            text += " Northca removed the link too."
        elif link.owner_discord_id:
            text += (
                f" Northca keeps its side until the MDT owner <@{link.owner_discord_id}> unlinks"
                " (with /unlink, or on Northca)."
            )
        await edit_answer(interaction, text, embed=None, view=None)


def approve_view(link: GuildLink) -> discord.ui.View | None:
    request_id = link.request_id
    if (
        link.linkage is not Linkage.UNDECIDED
        or not request_id
        or not re.fullmatch(r"[A-Za-z0-9._~-]{1,70}", request_id)
    ):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ApproveLinkButton(request_id))
    return view


class LinkCog(commands.Cog):
    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    @property
    def links(self) -> LinkService:
        assert self.bot.links is not None
        return self.bot.links

    @app_commands.command(name="link", description="Link this server to your Northca MDT, or see the link's status.")
    @app_commands.describe(mdt_id="The MDT id from your Northca MDT settings. Leave out to see the current link.")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def link(
        self, interaction: discord.Interaction[NorthcaBot], mdt_id: app_commands.Range[str, 1, 200] | None = None
    ) -> None:
        require_manage_guild(interaction, "link this server to an MDT")
        guild_id = require_guild(interaction)
        if mdt_id is None:
            await defer(interaction, ephemeral=True, thinking=True)
            check = await self.links.live_status(guild_id, interaction.user.id)
            await answer(interaction, embed=link_embed(check.link, check), view=approve_view(check.link))
            return
        validate_mdt_id(mdt_id)  # bad input is answered at once, before any call
        # Errors stay private (ephemeral); the request itself is posted for the owner to see.
        await defer(interaction, ephemeral=True, thinking=True)
        link = await self.links.request_link(guild_id, mdt_id, interaction.user.id)
        await answer(interaction, f"Link request sent for MDT `{link.mdt_id}`: {next_step(link)}")
        undecided = link.linkage is Linkage.UNDECIDED
        content = (
            f"<@{link.owner_discord_id}>, please approve this link." if link.owner_discord_id and undecided else None
        )
        await answer(interaction, content, embed=link_embed(link), view=approve_view(link), ephemeral=False)

    @app_commands.command(name="unlink", description="Forget this server's Northca MDT link.")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def unlink(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_manage_guild(interaction, "unlink this server")
        link = await self.links.current(require_guild(interaction))
        if link is None:
            await answer(interaction, "This server has no MDT link to remove.")
            return
        view = discord.ui.View(timeout=None)
        view.add_item(UnlinkConfirmButton("confirm", link.fingerprint))
        view.add_item(UnlinkConfirmButton("cancel"))
        await answer(
            interaction,
            f"Unlink MDT `{link.mdt_id}` from this server? Shifts and statuses stop syncing until it is linked again.",
            view=view,
        )


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(ApproveLinkButton, UnlinkConfirmButton)
    await bot.add_cog(LinkCog(bot))
