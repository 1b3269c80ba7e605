"""/erlc: connect the server's ER:LC private server (the key typed in a form, checked live, stored encrypted),
disconnect, status, verify (link your Roblox account), staff links and CSV import, players, the live board,
and how long presence history is kept. The rules live in bot/erlc/; this is the Discord side."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import InvalidInput
from bot.core.settings.service import ERLC_DUTY_TEAMS
from bot.core.timefmt import from_ms
from bot.discord.bot import bot_of
from bot.discord.discord_text import discord_ts
from bot.discord.interactions import (
    answer,
    defer,
    edit_answer,
    guarded,
    post,
    require_guild,
    require_manage_guild,
    send_modal,
)
from bot.erlc.port import GameServerError
from bot.erlc.records import ErlcEvent, ServerConnectionChanged
from bot.erlc.service import VERIFY_TTL_MS
from cogs.department_choices import department_autocomplete
from cogs.erlc.board import ErlcBoardUpdater
from cogs.erlc.buttons import players_view
from cogs.erlc.embeds import board_embed, connect_refused, connected_line, players_embed, status_embed
from cogs.guild_channels import NO_MENTIONS, post_in, shift_log
from cogs.supervisor_check import require_guild_supervisor

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)


class ConnectModal(discord.ui.Modal, title="Connect your ER:LC server"):
    # The key goes through a form, never a slash option: clients log and show options.
    key: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Server key (server settings → API key)", min_length=1, max_length=200
    )

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        require_manage_guild(interaction, "connect the ER:LC server")
        guild_id = require_guild(interaction)
        bot = bot_of(interaction)
        await defer(interaction, ephemeral=True, thinking=True)
        try:
            connected = await bot.erlc.connect(guild_id, interaction.user.id, self.key.value)
        except GameServerError as exc:
            await edit_answer(interaction, connect_refused(exc))
            return
        await edit_answer(
            interaction,
            connected_line(connected.server.server_name, connected.players, connected.max_players, connected.online)
            + " The key is stored encrypted and will not be shown again.",
        )


class ImportModal(discord.ui.Modal, title="Import member links (CSV)"):
    rows: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="discord_id,roblox_id per line",
        style=discord.TextStyle.paragraph,
        max_length=4000,
        placeholder="123456789012345678,1234567",
    )

    @guarded
    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        require_manage_guild(interaction, "import member links")
        guild_id = require_guild(interaction)
        bot = bot_of(interaction)
        done, refused = await bot.erlc.import_links(guild_id, interaction.user.id, self.rows.value)
        text = f"Imported {done} links."
        if refused:
            text += f" {len(refused)} not imported:\n" + "\n".join(
                f"- Roblox {roblox_id} for <@{discord_id}>: already linked to another member"
                for discord_id, roblox_id in refused[:20]
            )
            if len(refused) > 20:
                text += f"\n… and {len(refused) - 20} more"
        await answer(interaction, text, allowed_mentions=NO_MENTIONS)
        await shift_log(bot, guild_id, f"🎮 <@{interaction.user.id}> imported {done} ER:LC member links (CSV).")


class ErlcCog(commands.Cog):
    erlc = app_commands.Group(
        name="erlc", description="Your ER:LC private server: connect it, see who is in game.", guild_only=True
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot
        self.board_updater = ErlcBoardUpdater(bot)

    async def cog_load(self) -> None:
        self.bot.events.erlc.subscribe(self.on_erlc)
        # Started with the bot's background services (not in `northca-bot sync`, which has no database).
        self.bot.add_service(self.board_updater)

    async def cog_unload(self) -> None:
        self.bot.events.erlc.unsubscribe(self.on_erlc)
        await self.board_updater.stop()

    # --- connecting (Manage Server) ---

    @erlc.command(name="connect", description="Admins: connect this server's ER:LC private server (key in a form).")
    @app_commands.default_permissions(manage_guild=True)
    async def connect(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_manage_guild(interaction, "connect the ER:LC server")
        await send_modal(interaction, ConnectModal())

    @erlc.command(name="disconnect", description="Admins: disconnect the ER:LC server (the stored key is deleted).")
    @app_commands.default_permissions(manage_guild=True)
    async def disconnect(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_manage_guild(interaction, "disconnect the ER:LC server")
        server = await self.bot.erlc.disconnect(require_guild(interaction), interaction.user.id)
        await answer(
            interaction, f"Disconnected “{discord.utils.escape_markdown(server.server_name)}”; its key is deleted."
        )

    @erlc.command(name="status", description="The ER:LC server: connected, last poll, players, queue, rate limits.")
    async def status(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        perms = interaction.permissions
        admin = perms.manage_guild or perms.administrator
        calls = await self.bot.services.erlc_calls.status(guild_id)
        await answer(interaction, embed=status_embed(await self.bot.erlc.status(guild_id), admin=admin, calls=calls))

    @erlc.command(name="webhook-rotate", description="Admins: a new event webhook URL (the old one stops working).")
    @app_commands.default_permissions(manage_guild=True)
    async def webhook_rotate(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_manage_guild(interaction, "change the webhook URL")
        url = await self.bot.erlc.rotate_webhook(require_guild(interaction), interaction.user.id)
        await answer(interaction, f"New event webhook URL (paste it in the game's server settings):\n`{url}`")

    @erlc.command(name="retention", description="Admins: how many days the in-game presence history is kept.")
    @app_commands.describe(days="1 to 3650 (default 90)")
    @app_commands.default_permissions(manage_guild=True)
    async def retention(self, interaction: discord.Interaction[NorthcaBot], days: int) -> None:
        require_manage_guild(interaction, "change the presence retention")
        await self.bot.settings.set_erlc_presence_days(require_guild(interaction), interaction.user.id, days)
        await answer(interaction, f"In-game presence history is now kept for {days} days.")

    @erlc.command(name="calls", description="Admins: in-game emergency calls become calls on the Northca CAD.")
    @app_commands.describe(enabled="On: each in-game 911 call is created once on the MDT, with a card in dispatch")
    @app_commands.default_permissions(manage_guild=True)
    async def calls(self, interaction: discord.Interaction[NorthcaBot], enabled: bool) -> None:
        require_manage_guild(interaction, "change where in-game calls go")
        guild_id = require_guild(interaction)
        await self.bot.settings.set_erlc_calls_to_cad(guild_id, interaction.user.id, enabled)
        if not enabled:
            await answer(interaction, "In-game emergency calls are no longer sent to the CAD.")
            return
        status = await self.bot.services.erlc_calls.status(guild_id)
        text = "In-game emergency calls now become calls on the Northca CAD, each once, with a card in dispatch."
        if not status.linked:
            text += " ⚠️ This server is not linked to a Northca MDT yet: calls are skipped until an admin runs /link."
        if self.bot.settings.get(guild_id).dispatch_channel_id is None:
            text += " No dispatch channel is set (`/settings channel dispatch`): the calls are created without a card."
        await answer(interaction, text)

    @erlc.command(name="in-game-required", description="Admins: going on duty needs the member in the game server.")
    @app_commands.describe(required="On: /shift start and On duty refuse a member not verified or not in game")
    @app_commands.default_permissions(manage_guild=True)
    async def in_game_required(self, interaction: discord.Interaction[NorthcaBot], required: bool) -> None:
        require_manage_guild(interaction, "change who may go on duty")
        await self.bot.settings.set_erlc_in_game_required(require_guild(interaction), interaction.user.id, required)
        await answer(
            interaction,
            "Going on duty now needs the member verified (/erlc verify) and in the ER:LC server."
            if required
            else "Going on duty no longer needs the member in the ER:LC server.",
        )

    @erlc.command(name="gamelock", description="Admins: end the shift of a member out of the game this long.")
    @app_commands.describe(minutes="Grace in minutes, 1 to 1440; 0 turns gamelock off")
    @app_commands.default_permissions(manage_guild=True)
    async def gamelock(self, interaction: discord.Interaction[NorthcaBot], minutes: int) -> None:
        require_manage_guild(interaction, "change gamelock")
        await self.bot.settings.set_erlc_gamelock_minutes(require_guild(interaction), interaction.user.id, minutes)
        await answer(
            interaction,
            f"Gamelock is on: a member on duty out of the game for more than {minutes} min has the shift ended at "
            "the moment they left."
            if minutes
            else "Gamelock is off: leaving the game no longer ends a shift.",
        )

    @erlc.command(name="auto-duty", description="Admins: joining a duty team in game puts a verified member on duty.")
    @app_commands.describe(enabled="On: automatic shifts (members may opt out with /erlc my-auto-duty)")
    @app_commands.default_permissions(manage_guild=True)
    async def auto_duty(self, interaction: discord.Interaction[NorthcaBot], enabled: bool) -> None:
        require_manage_guild(interaction, "change automatic shifts")
        await self.bot.settings.set_erlc_auto_duty(require_guild(interaction), interaction.user.id, enabled)
        await answer(
            interaction,
            "Automatic shifts are on: a verified member joining Police, Sheriff, Fire or DOT in game goes on duty; "
            "leaving the team or the game ends the shift by the gamelock rules."
            if enabled
            else "Automatic shifts are off.",
        )

    @erlc.command(name="status-from-game", description="Admins: the game sets the unit status of members on duty.")
    @app_commands.describe(enabled="On: joining a duty team sets the on-duty code, leaving the game the off-duty code")
    @app_commands.default_permissions(manage_guild=True)
    async def status_from_game(self, interaction: discord.Interaction[NorthcaBot], enabled: bool) -> None:
        require_manage_guild(interaction, "change the status from the game")
        await self.bot.settings.set_erlc_status_from_game(require_guild(interaction), interaction.user.id, enabled)
        codes = self.bot.unit_status.config
        await answer(
            interaction,
            f"Status from the game is on: a member on duty joining a duty team in game is set to "
            f"{codes.on_duty_code}, leaving the game to {codes.off_duty_code} (after the gamelock grace when "
            "gamelock is on), unless they chose a status themselves since."
            if enabled
            else "Status from the game is off: only members and shifts set unit statuses.",
        )

    @erlc.command(name="quota-in-game", description="Admins: quotas count time in game during shifts.")
    @app_commands.describe(enabled="On: quotas count the time in game during shifts; off: the duty time")
    @app_commands.default_permissions(manage_guild=True)
    async def quota_in_game(self, interaction: discord.Interaction[NorthcaBot], enabled: bool) -> None:
        require_manage_guild(interaction, "change what quotas count")
        await self.bot.settings.set_erlc_quota_in_game(require_guild(interaction), interaction.user.id, enabled)
        await answer(
            interaction,
            "Quotas now count the time in game during shifts (from the presence history)."
            if enabled
            else "Quotas now count the duty time.",
        )

    @erlc.command(name="my-auto-duty", description="Whether joining a duty team in game puts you on duty.")
    @app_commands.describe(enabled="Off: you are never put on duty automatically here")
    async def my_auto_duty(self, interaction: discord.Interaction[NorthcaBot], enabled: bool) -> None:
        if not await self.bot.erlc.set_auto_duty_opt_out(require_guild(interaction), interaction.user.id, not enabled):
            raise InvalidInput.said("Your Roblox account is not linked here: verify first with /erlc verify.")
        await answer(
            interaction,
            "Joining a duty team in game puts you on duty here (when the server has automatic shifts on)."
            if enabled
            else "You are no longer put on duty automatically here.",
        )

    @erlc.command(name="team-department", description="Admins: the department a shift of an in-game team carries.")
    @app_commands.describe(
        team="The in-game duty team", department="One of this server's departments (leave empty: remove the mapping)"
    )
    @app_commands.choices(team=[app_commands.Choice(name=t, value=t) for t in ERLC_DUTY_TEAMS])
    @app_commands.default_permissions(manage_guild=True)
    async def team_department(
        self, interaction: discord.Interaction[NorthcaBot], team: str, department: str | None = None
    ) -> None:
        require_manage_guild(interaction, "map in-game teams to departments")
        settings = await self.bot.settings.set_erlc_team_department(
            require_guild(interaction), interaction.user.id, team, department
        )
        mapped = dict(settings.erlc_team_departments).get(team)
        await answer(
            interaction,
            f"A shift started by a member in game on the {team} team now carries "
            f"**{discord.utils.escape_markdown(mapped)}** (unless they choose a department)."
            if mapped is not None
            else f"The {team} team is no longer mapped to a department.",
        )

    team_department.autocomplete("department")(department_autocomplete)

    # --- who is who ---

    @erlc.command(name="verify", description="Link your Roblox account: set a code as your in-game callsign.")
    @app_commands.describe(roblox_name="Your Roblox username (optional: then only that account can use the code)")
    async def verify(self, interaction: discord.Interaction[NorthcaBot], roblox_name: str | None = None) -> None:
        guild_id = require_guild(interaction)
        code, expires = await self.bot.erlc.new_code(guild_id, interaction.user.id, roblox_name)
        status = await self.bot.erlc.status(guild_id)
        chat = " or type `;verify " + code + "` in the game chat" if status.webhook_url else ""
        await answer(
            interaction,
            f"Your code is **`{code}`**. In the game, join this server on a team with a callsign and set your "
            f"callsign to `{code}`{chat} within {VERIFY_TTL_MS // 60000} minutes "
            f"(expires {discord_ts(from_ms(expires), 'R')}). The bot links your Roblox account when it sees it. "
            "Keep the code to yourself: it is single-use and works for you only.",
        )

    @erlc.command(name="me", description="Which Roblox account is linked to you here.")
    async def me(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        link = await self.bot.erlc.link_of(require_guild(interaction), interaction.user.id)
        if link is None:
            await answer(interaction, "No Roblox account is linked to you here. Run /erlc verify to link one.")
            return
        name = f" ({discord.utils.escape_markdown(link.roblox_name)})" if link.roblox_name else ""
        await answer(
            interaction,
            f"Linked to Roblox user {link.roblox_id}{name} since {discord_ts(from_ms(link.linked_ms), 'D')}."
            " /erlc unlink-me removes it.",
        )

    @erlc.command(name="unlink-me", description="Remove the link between you and your Roblox account here.")
    async def unlink_me(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        link = await self.bot.erlc.unlink(require_guild(interaction), interaction.user.id, interaction.user.id)
        await answer(interaction, f"Your link to Roblox user {link.roblox_id} is removed.")

    @erlc.command(name="link", description="Staff: link a member to a Roblox user id by hand.")
    @app_commands.describe(member="The Discord member", roblox_id="Their Roblox user id (from their profile's address)")
    async def link(self, interaction: discord.Interaction[NorthcaBot], member: discord.Member, roblox_id: str) -> None:
        require_guild_supervisor(interaction, "link members to Roblox accounts")
        guild_id = require_guild(interaction)
        if not roblox_id.strip().isdigit():
            raise InvalidInput.said("A Roblox user id is a number (from the profile's address).")
        await self.bot.erlc.staff_link(guild_id, interaction.user.id, member.id, int(roblox_id.strip()))
        await answer(
            interaction, f"Linked {member.mention} to Roblox user {int(roblox_id)}.", allowed_mentions=NO_MENTIONS
        )
        await shift_log(
            self.bot, guild_id, f"🎮 <@{interaction.user.id}> linked {member.mention} to Roblox user {int(roblox_id)}."
        )

    @erlc.command(name="unlink", description="Staff: remove a member's Roblox link.")
    async def unlink(self, interaction: discord.Interaction[NorthcaBot], member: discord.Member) -> None:
        require_guild_supervisor(interaction, "unlink members")
        guild_id = require_guild(interaction)
        link = await self.bot.erlc.unlink(guild_id, interaction.user.id, member.id)
        await answer(
            interaction, f"Unlinked {member.mention} (Roblox user {link.roblox_id}).", allowed_mentions=NO_MENTIONS
        )
        await shift_log(
            self.bot, guild_id, f"🎮 <@{interaction.user.id}> unlinked {member.mention} (Roblox user {link.roblox_id})."
        )

    @erlc.command(name="import", description="Admins: import member links from CSV (discord_id,roblox_id).")
    @app_commands.default_permissions(manage_guild=True)
    async def import_links(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        require_manage_guild(interaction, "import member links")
        await send_modal(interaction, ImportModal())

    # --- seeing it ---

    @erlc.command(name="players", description="Who is in game: team, callsign, linked members, on duty.")
    async def players(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        lines = await self.bot.erlc.players(require_guild(interaction))
        await answer(
            interaction, embed=players_embed(lines, 0), view=players_view(len(lines), 0), allowed_mentions=NO_MENTIONS
        )

    @erlc.command(name="board", description="Admins: post a live status board of the game server.")
    @app_commands.describe(channel="Where to post it (default: this channel)")
    @app_commands.default_permissions(manage_guild=True)
    async def board(
        self, interaction: discord.Interaction[NorthcaBot], channel: discord.TextChannel | None = None
    ) -> None:
        require_manage_guild(interaction, "post the ER:LC board")
        guild_id = require_guild(interaction)
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel) or target.guild.id != guild_id:
            raise InvalidInput.said("Pick a text channel of this server for the board.")
        message = await post(
            target, embed=board_embed(await self.bot.erlc.board(guild_id)), allowed_mentions=NO_MENTIONS
        )
        old = await self.bot.erlc.put_board(guild_id, target.id, message.id)
        self.board_updater.edited_now(guild_id)
        if old is not None:
            try:
                await self.bot.get_partial_messageable(old[0], guild_id=guild_id).get_partial_message(old[1]).delete()
            except discord.HTTPException:
                log.info("erlc board: the replaced board %s was already gone", old[1])
        await answer(interaction, f"Posted the ER:LC board in {target.mention}; it updates itself.")
        await shift_log(self.bot, guild_id, f"📋 <@{interaction.user.id}> posted the ER:LC board in {target.mention}.")

    # --- listeners ---

    async def on_erlc(self, event: ErlcEvent) -> None:
        if not isinstance(event, ServerConnectionChanged):
            return
        name = discord.utils.escape_markdown(event.server_name)
        settings = self.bot.settings.get(event.guild_id)
        if event.actor_id is None:
            # PRC refused the stored key on a poll: the admins are told once (the alerts channel, else the log).
            text = (
                f"⚠️ The ER:LC server “{name}” is disconnected: PRC refused its key (rotated or removed in the game)."
                " Polling stopped. An admin runs /erlc connect with the new key."
            )
            channel_id = settings.alerts_channel_id or settings.shift_log_channel_id
            await post_in(self.bot, event.guild_id, channel_id, text)
            return
        verb = "connected" if event.connected else "disconnected"
        await shift_log(self.bot, event.guild_id, f"🎮 <@{event.actor_id}> {verb} the ER:LC server “{name}”.")
