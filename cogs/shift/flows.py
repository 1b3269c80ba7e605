"""The /shift flows shared by commands and buttons: parse, call one service function, answer."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.core.links import Linkage
from bot.core.shifts import Decision, EndReason
from bot.core.timefmt import duration_text
from bot.discord.discord_text import counted, discord_ts
from bot.discord.interactions import answer, defer, edit_answer, post, require_guild, require_supervisor
from cogs.shift.embeds import PENDING_SHOWN, ended_embed, pending_embed, started_embed, sync_sentence
from cogs.style import MDT_SAVING

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

# How long /shift end waits for Northca before it says "it will be sent automatically".
# The answer itself never waits: it goes out first, and is edited when the verdict comes.
END_VERDICT_WAIT = 2.0
RETRY_VERDICT_WAIT = 3.0
NO_MENTIONS = discord.AllowedMentions.none()


def require_shift_supervisor(interaction: discord.Interaction[NorthcaBot], doing: str) -> None:
    """Manage Server or one of this guild's supervisor roles (its settings, read at every press)."""
    settings = interaction.client.shifts.guild_settings(require_guild(interaction))
    require_supervisor(interaction, list(settings.supervisor_role_ids), doing)


async def send(interaction: discord.Interaction[NorthcaBot], **kwargs: Any) -> None:
    """The first answer if there was none yet, else a followup; always private (fitted to Discord's limits)."""
    await answer(interaction, ephemeral=True, **kwargs)


async def start_flow(
    interaction: discord.Interaction[NorthcaBot],
    buttons: discord.ui.View,
    *,
    department: str | None = None,
    callsign: str | None = None,
) -> None:
    """Go on duty (from /shift start, the panel's On duty button or its department select)."""
    guild_id = require_guild(interaction)
    link = await interaction.client.links.current(guild_id)
    if link is not None and link.linkage is Linkage.UNDECIDED:
        # The link may be checked live on Northca: acknowledge first.
        await defer(interaction, ephemeral=True, thinking=True)
    shift = await interaction.client.shifts.start(
        guild_id, interaction.user.id, display_name=interaction.user.display_name, department=department,
        callsign=callsign, stored_link=link,
    )  # fmt: skip
    await send(
        interaction, content=f"You are on duty since {discord_ts(shift.started_at)}.", embed=started_embed(shift),
        view=buttons,
    )  # fmt: skip


async def break_flow(interaction: discord.Interaction[NorthcaBot]) -> None:
    shift = await interaction.client.shifts.toggle_break(require_guild(interaction), interaction.user.id)
    if shift.break_started_at is not None:
        text = (
            f"☕ On break since {discord_ts(shift.break_started_at)}. Breaks are not counted as duty time."
            " Use /shift break again when you are back."
        )
    else:
        text = (
            f"Back on duty. Breaks this shift: {shift.break_count} ({duration_text(shift.break_ms)})."
            f" On duty so far: {duration_text(shift.duty_ms(interaction.client.clock()))}."
        )
    await send(interaction, content=text)


async def end_flow(
    interaction: discord.Interaction[NorthcaBot], member_id: int, *, reason: EndReason, note: str | None = None
) -> None:
    guild_id = require_guild(interaction)
    # One local transaction, then the answer: Northca is only called after both.
    shift = await interaction.client.shifts.end(
        guild_id, member_id, reason=reason, ended_by=interaction.user.id, note=note
    )
    own = member_id == interaction.user.id
    lead = "Shift ended" if own else f"Ended <@{member_id}>'s shift"
    # Watched from now (before anything could send it): the verdict is not missed, and needs no read of the shift.
    with interaction.client.shifts.watch_sync(shift.id) as watched:
        await send(
            interaction,
            content=f"{lead}: {duration_text(shift.duty_ms(interaction.client.clock()))}. {MDT_SAVING}",
            embed=ended_embed(shift, MDT_SAVING),
            allowed_mentions=NO_MENTIONS,
        )
        verdict = await interaction.client.shifts.verdict_within(watched, END_VERDICT_WAIT)
    current = verdict or shift
    sentence = sync_sentence(verdict)
    try:
        await edit_answer(
            interaction,
            f"{lead}: {duration_text(current.duty_ms(interaction.client.clock()))}. {sentence}",
            embed=ended_embed(current, sentence),
            allowed_mentions=NO_MENTIONS,
        )
    except discord.HTTPException:
        log.warning("could not update the answer to the end of shift %s", shift.id, exc_info=True)


async def decide_flow(interaction: discord.Interaction[NorthcaBot], shift_id: str, decision: Decision) -> None:
    guild_id = require_guild(interaction)
    since = interaction.client.clock()
    shift = await interaction.client.shifts.decide(guild_id, shift_id, interaction.user.id, decision)
    ended = discord_ts(shift.ended_at) if shift.ended_at else "?"
    what = f"<@{shift.member_id}>'s shift (ended {ended}, {duration_text(shift.duration_ms or 0)})"
    if decision == "on_northca":
        await send(
            interaction,
            content=f"✅ Marked {what} as on Northca: the bot will not send it. Your decision is recorded.",
            allowed_mentions=NO_MENTIONS,
        )
        return
    await send(
        interaction,
        content=f"📤 Sending {what} to Northca now, as you chose. Your decision is recorded.",
        allowed_mentions=NO_MENTIONS,
    )
    verdict = await interaction.client.shifts.wait_for_sync(shift.id, RETRY_VERDICT_WAIT, since_ms=since)
    try:
        await edit_answer(
            interaction, f"📤 Sent {what} as you chose: {sync_sentence(verdict)}", allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException:
        log.warning("could not update the answer to Send anyway for shift %s", shift.id, exc_info=True)


async def retry_flow(interaction: discord.Interaction[NorthcaBot], shift_id: str | None) -> None:
    guild_id = require_guild(interaction)
    since = interaction.client.clock()
    rows = await interaction.client.shifts.retry(guild_id, shift_id)
    if not rows:
        await send(interaction, content="Nothing to retry: no shift of this server is waiting for Northca.")
        return
    await send(interaction, content=f"🔁 Sending {counted(len(rows), 'shift')} again…")
    verdicts = await asyncio.gather(
        *(interaction.client.shifts.wait_for_sync(r.id, RETRY_VERDICT_WAIT, since_ms=since) for r in rows)
    )
    synced = sum(1 for v in verdicts if v is not None and v.sync_state == "synced")
    failed = sum(1 for v in verdicts if v is not None and v.sync_state == "failed")
    waiting = len(rows) - synced - failed
    summary = (
        f"Sent {counted(len(rows), 'shift')} again: {synced} saved on the MDT, {failed} refused again,"
        f" {waiting} still saving."
    )
    embed = pending_embed(
        await interaction.client.shifts.outbox(guild_id, PENDING_SHOWN),
        await interaction.client.shifts.store.outbox_count(guild_id),
    )
    try:
        await edit_answer(interaction, summary, embed=embed, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not update the retry answer", exc_info=True)


async def shift_log(bot: NorthcaBot, guild_id: int, text: str) -> None:
    """A line in the guild's shift-log channel, when one is set (and is a channel of that guild)."""
    channel_id = bot.settings.get(guild_id).shift_log_channel_id
    if channel_id is None:
        return
    channel = bot.get_channel(channel_id)
    if (
        not isinstance(channel, discord.abc.Messageable)
        or getattr(getattr(channel, "guild", None), "id", None) != guild_id
    ):
        return  # not a channel of this server
    try:
        await post(channel, text, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not post to the shift-log channel %s (%s)", channel_id, exc)
