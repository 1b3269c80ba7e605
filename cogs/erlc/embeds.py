"""The wording of /erlc: the connect verdict per typed error, status, players pages, the live board."""

from __future__ import annotations

import discord

from bot.core.timefmt import from_ms
from bot.discord.discord_text import discord_ts, fit
from bot.erlc.calls import CallsStatus
from bot.erlc.port import GameKeyInvalid, GameRateLimited, GameRefused, GameServerError, GameTemporary
from bot.erlc.service import BoardFacts, PlayerLine, ServerStatus
from cogs.style import BRAND, ERROR, NEUTRAL, SUCCESS

PLAYERS_PER_PAGE = 20
BOARD_LINES = 15


def esc(text: str | None) -> str:
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text or ""))


def connect_refused(error: GameServerError) -> str:
    """Why a key was not connected, in one line; nothing was saved in every case."""
    if isinstance(error, GameKeyInvalid):
        return (
            "❌ Not connected: PRC refused that key (invalid, expired, or banned). Make a new one in your private "
            "server's settings (API key) and run /erlc connect again. Nothing was saved."
        )
    if isinstance(error, GameRateLimited):
        return (
            f"⏳ Not connected: PRC is rate limiting this bot. Try again in {max(1, round(error.retry_after))} s."
            " Nothing was saved."
        )
    if isinstance(error, GameTemporary):
        return (
            "⚠️ Not connected: PRC or the game server did not answer (down, restarting, or the in-game module is "
            "outdated). Try again in a minute. Nothing was saved."
        )
    if error.kind == "global_key_invalid":
        return (
            "❌ Not connected: PRC refused this bot's own global API key (not your server key): the bot's host must"
            " fix [erlc] global_key. Nothing was saved."
        )
    if isinstance(error, GameRefused):
        return "❌ Not connected: PRC refused the request for this key. Nothing was saved."
    return "❌ Not connected: PRC answered something unexpected. Nothing was saved."


def connected_line(server_name: str, players: int, max_players: int, online: bool = True) -> str:
    if not online or not server_name:
        return "✅ Connected. The server is offline now (nobody in game); its name shows once someone plays."
    return f"✅ Connected to “{esc(server_name)}”: {players} of {max_players} players in game now."


def calls_text(calls: CallsStatus) -> str:
    """The relay of in-game emergency calls to the CAD, as /erlc status shows it."""
    if not calls.enabled:
        return "Off. An admin turns it on with /erlc calls."
    if not calls.linked:
        text = "⚠️ On, but calls are skipped: this server is not linked to a Northca MDT (an admin runs /link)."
        if calls.not_linked:
            text += f" {calls.not_linked} skipped so far."
        return text
    text = f"On: {calls.created} in-game calls sent to the CAD."
    if calls.not_linked:
        text += f" {calls.not_linked} skipped earlier (not linked then)."
    return text


def status_embed(status: ServerStatus, *, admin: bool, calls: CallsStatus | None = None) -> discord.Embed:
    server = status.server
    if server is None:
        embed = discord.Embed(title="ER:LC server", colour=NEUTRAL)
        embed.description = "Not connected. An admin runs /erlc connect."
        return embed
    connected = server.connected
    embed = discord.Embed(
        title=f"ER:LC server: {fit(esc(server.server_name) or 'name unknown (offline)', 200)}",
        colour=SUCCESS if connected else ERROR,
    )
    if connected:
        state = "Connected"
    elif server.disconnected_reason == "key_invalid":
        state = "Disconnected: PRC refused the key (rotated or removed). An admin runs /erlc connect with a new one."
    else:
        state = "Disconnected by an admin."
    embed.add_field(name="State", value=state, inline=False)
    last = discord_ts(from_ms(server.last_ok_ms), "R") if server.last_ok_ms else "never"
    embed.add_field(name="Last successful poll", value=last)
    embed.add_field(name="Players", value=f"{server.current_players} / {server.max_players}")
    embed.add_field(name="Queue", value=str(server.queue_count))
    if server.last_error and connected:
        embed.add_field(name="Last error", value=f"{server.last_error} ({server.failures} in a row)", inline=False)
    embed.add_field(name="Rate limits", value=fit(status.rate_limits or "no answer from PRC yet", 1024), inline=False)
    if calls is not None:
        embed.add_field(name="Emergency calls to the CAD", value=calls_text(calls), inline=False)
    if admin and connected:
        embed.add_field(
            name="Event webhook (admins only)",
            value=(
                f"`{status.webhook_url}`\nPaste it in the game's server settings (Event Webhook)."
                if status.webhook_url
                else "No public web address configured for this bot ([web] public_base_url): polling only."
            ),
            inline=False,
        )
    return embed


def player_line(line: PlayerLine) -> str:
    e = line.entry
    text = f"**{esc(e.name)}** · {esc(e.team)}"
    if e.callsign:
        text += f" · `{esc(e.callsign)[:20]}`"
    if e.permission != "Normal":
        text += f" · {esc(e.permission)}"
    if line.discord_id is not None:
        text += f" · <@{line.discord_id}>" + (" 🟢 on duty" if line.on_duty else "")
    return text


def players_embed(lines: list[PlayerLine], page: int) -> discord.Embed:
    pages = max(1, -(-len(lines) // PLAYERS_PER_PAGE))
    page = max(0, min(page, pages - 1))
    embed = discord.Embed(title="In game now", colour=BRAND)
    chunk = lines[page * PLAYERS_PER_PAGE : (page + 1) * PLAYERS_PER_PAGE]
    embed.description = fit("\n".join(player_line(line) for line in chunk) or "Nobody is in game.", 4000)
    linked = sum(1 for line in lines if line.discord_id is not None)
    on_duty = sum(1 for line in lines if line.on_duty)
    embed.set_footer(text=f"Page {page + 1} of {pages} · {len(lines)} in game · {linked} linked · {on_duty} on duty")
    return embed


def board_embed(facts: BoardFacts) -> discord.Embed:
    server = facts.server
    connected = server is not None and server.connected
    name = esc(server.server_name) if server is not None else "ER:LC"
    embed = discord.Embed(title=fit(f"{name}: live status", 250), colour=SUCCESS if connected else ERROR)
    if not connected:
        embed.description = "Not connected to the game (an admin runs /erlc connect)."
    embed.add_field(name="Players", value=f"{facts.players} / {facts.max_players}")
    embed.add_field(name="Queue", value=str(facts.queue))

    def block(lines: list[str]) -> str:
        shown = lines[:BOARD_LINES]
        if len(lines) > BOARD_LINES:
            shown.append(f"… and {len(lines) - BOARD_LINES} more")
        return fit("\n".join(shown) or "none", 1024)

    embed.add_field(
        name=f"Staff in game ({len(facts.staff_in_game)})",
        value=block([f"{esc(s.entry.name)} · {esc(s.entry.permission)}" for s in facts.staff_in_game]),
        inline=False,
    )
    embed.add_field(
        name=f"On duty, in game ({len(facts.on_duty_in_game)})",
        value=block([f"<@{s.discord_id}> · {esc(s.entry.name)} · {esc(s.entry.team)}" for s in facts.on_duty_in_game]),
        inline=False,
    )
    embed.add_field(
        name=f"On duty, not in game ({len(facts.on_duty_not_in_game)})",
        value=block([f"<@{m}>" for m in facts.on_duty_not_in_game]),
        inline=False,
    )
    if server is not None and server.last_ok_ms:
        embed.add_field(name="Read from the game", value=discord_ts(from_ms(server.last_ok_ms), "R"), inline=False)
    embed.set_footer(text="Updates itself (at most every 30 s)")
    return embed
