"""What the dispatch commands and buttons do (shared by both): parse, check, one service call, render."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.core.dispatch.records import report_when
from bot.core.dispatch.service import EN_ROUTE_CODE, ON_SCENE_CODE
from bot.core.errors import InvalidInput, MissingPermission
from bot.core.links import Linkage
from bot.core.timefmt import from_ms
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.discord_text import discord_ts, fit, numbered
from bot.discord.interactions import (
    answer,
    defer,
    edit_answer,
    edit_message,
    has_any_role,
    post,
    require_guild,
    send_modal,
)
from bot.northca.models import CreateSceneReportBody, CreateTicketBody
from bot.wording import error_text
from cogs.dispatch import buttons
from cogs.dispatch.embeds import call_embed, mdt_details_text, panic_embed, priority_text
from cogs.style import mdt_state

log = logging.getLogger(__name__)

SETTLE_WAIT = 2.0  # seconds a form's answer waits for Northca before saying "sending"


def is_supervisor(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server, Administrator, or one of this guild's supervisor roles (read at every press)."""
    settings = bot_of(interaction).settings.get(require_guild(interaction))
    perms = interaction.permissions
    return perms.manage_guild or perms.administrator or has_any_role(interaction, list(settings.supervisor_role_ids))


def _channel(interaction: discord.Interaction[Any], kind: str) -> int:
    settings = bot_of(interaction).settings.get(require_guild(interaction))
    channel_id = settings.alerts_channel_id if kind == "alerts" else settings.dispatch_channel_id
    if channel_id is None:
        raise InvalidInput.said(
            f"This server has no {kind} channel yet: an admin sets it with `/settings channel {kind}`."
            " Nothing was sent."
        )
    return channel_id


async def audit_line(interaction: discord.Interaction[Any], text: str) -> None:
    """A supervisor's action on someone else's panic or call: a line in the shift log, when one is set."""
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    channel_id = bot.settings.get(guild_id).shift_log_channel_id
    if channel_id is None:
        return
    target = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        await post(target, text, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as exc:
        log.warning("audit line for guild %s not posted: %s", guild_id, exc)


# --- panic --------------------------------------------------------------------------------


async def ask_panic_confirm(
    interaction: discord.Interaction[Any], location: str | None, *, press_again: bool = False
) -> None:
    require_guild(interaction)
    _channel(interaction, "alerts")
    where = f" at **{discord.utils.escape_markdown(location)}**" if location else ""
    await answer(
        interaction,
        f"Send a **10-33 panic**{where}? Responders are pinged at once. Press the button to confirm"
        + (" (or press Panic again within a few seconds)." if press_again else "."),
        view=buttons.confirm_view(location),
    )


async def panel_panic(interaction: discord.Interaction[Any]) -> None:
    """The panel's Panic button: a second press within a few seconds sends; a first one asks to confirm."""
    guild_id = require_guild(interaction)
    _channel(interaction, "alerts")
    if bot_of(interaction).dispatcher.panic_press(guild_id, interaction.user.id):
        await send_panic(interaction, None)
    else:
        await ask_panic_confirm(interaction, None, press_again=True)


async def send_panic(interaction: discord.Interaction[Any], location: str | None) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    channel_id = _channel(interaction, "alerts")
    if await bot.links.linkage(guild_id) is Linkage.UNDECIDED:
        # Recording may check the link live on Northca (slow when Northca is): acknowledge first.
        await defer(interaction)
    panic = await bot.dispatcher.panic(guild_id, interaction.user.id, location)
    role_id = bot.settings.get(guild_id).responder_role_id
    ping = f"<@&{role_id}> " if role_id is not None else ""
    mentions = (
        discord.AllowedMentions(everyone=False, users=False, replied_user=False, roles=[discord.Object(role_id)])
        if role_id is not None
        else discord.AllowedMentions.none()
    )
    content = f"{ping}**10-33 PANIC**: unit `{discord.utils.escape_markdown(panic.unit_id)}` needs help now."
    target = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        message = await post(
            target,
            content,
            embed=panic_embed(panic),
            view=buttons.alert_view(panic.id, active=True),
            allowed_mentions=mentions,
        )
    except discord.HTTPException as exc:
        log.error("panic %s: the alert could not be posted in %s: %s", panic.id, channel_id, exc)
        await edit_answer(
            interaction,
            f"Your panic is recorded and sent to Northca, but I could not post the alert in <#{channel_id}>"
            " (check my permissions there). Call for help by radio.",
            view=None,
        )
        return
    await bot.dispatcher.set_alert(panic.id, channel_id, message.id)
    latest = await bot.dispatcher.panic_record(guild_id, panic.id)
    if latest is not None and latest.state != panic.state:  # Northca answered before the alert's id was stored
        await refresh_alert(bot, guild_id, panic.id)
    at = discord_ts(from_ms(panic.at_ms))
    text = f"10-33 sent {at}: alert in <#{channel_id}>; the alert shows when the MDT has it."
    if role_id is None:
        text += " No responder role is set (`/settings role responder`), so nobody was pinged."
    await edit_answer(interaction, text, view=None)


async def clear_panic(interaction: discord.Interaction[Any], panic_id: str) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    panic = await bot.dispatcher.clear_panic(
        guild_id, panic_id, interaction.user.id, supervisor=is_supervisor(interaction)
    )
    responders = await bot.dispatcher.responders(guild_id, panic.id)
    await edit_answer(
        interaction, embed=panic_embed(panic, responders), view=buttons.alert_view(panic.id, active=False)
    )
    await answer(interaction, f"Panic of unit `{panic.unit_id}` cleared.")
    if interaction.user.id != panic.member_id:
        await audit_line(interaction, f"🛡️ <@{interaction.user.id}> cleared the 10-33 of <@{panic.member_id}>.")


def is_responder(interaction: discord.Interaction[Any]) -> bool:
    """Whom a panic alert pings (the server's responder role), and supervisors; read from the settings at each press."""
    role_id = bot_of(interaction).settings.get(require_guild(interaction)).responder_role_id
    return (role_id is not None and has_any_role(interaction, [role_id])) or is_supervisor(interaction)


async def respond_to_panic(interaction: discord.Interaction[Any], panic_id: str) -> None:
    """The alert's Responding button: the member goes on the stored list and the alert shows it (edited in place).
    A second press by the same member changes nothing and says so privately."""
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    if not is_responder(interaction):
        role_id = bot.settings.get(guild_id).responder_role_id
        if role_id is None:
            raise MissingPermission.said(
                "Only responders can answer a panic, and this server has no responder role yet:"
                " an admin sets it with `/settings role responder`."
            )
        raise MissingPermission.said(f"Only members with the responder role <@&{role_id}> can answer a panic.")
    outcome = await bot.dispatcher.respond(guild_id, panic_id, interaction.user.id)
    await edit_answer(
        interaction,
        embed=panic_embed(outcome.panic, outcome.responders),
        view=buttons.alert_view(panic_id, active=outcome.panic.active),
    )
    # Another process may have edited the alert with a list read before this press was stored, and landed after
    # this edit: read again once the edit is in; a longer list goes on the alert (the last edit always has all).
    latest = await bot.dispatcher.responders(guild_id, panic_id)
    if latest != outcome.responders:
        await edit_answer(interaction, embed=panic_embed(outcome.panic, latest))
    if not outcome.added:
        await answer(interaction, "You are already on the list of responders to this panic.")


async def _edit_posted(
    bot: NorthcaBot, guild_id: int, where: tuple[int | None, int | None], embed: discord.Embed, view: discord.ui.View
) -> None:
    """Bring a message the bot posted (a panic alert, a call card) up to date; a gone message is only logged."""
    channel_id, message_id = where
    if channel_id is None or message_id is None:
        return
    channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        await edit_message(channel.get_partial_message(message_id), embed=embed, view=view)
    except discord.HTTPException as exc:
        log.warning("could not update dispatch message %s: %s", message_id, exc)


async def refresh_alert(bot: NorthcaBot, guild_id: int, panic_id: str) -> None:
    panic = await bot.dispatcher.panic_record(guild_id, panic_id)
    if panic is not None:
        where = (panic.channel_id, panic.message_id)
        responders = await bot.dispatcher.responders(guild_id, panic.id)
        await _edit_posted(
            bot, guild_id, where, panic_embed(panic, responders), buttons.alert_view(panic.id, active=panic.active)
        )


# --- calls ----------------------------------------------------------------------------------


async def create_call(interaction: discord.Interaction[NorthcaBot], **fields: str) -> None:
    bot = interaction.client
    guild_id = require_guild(interaction)
    channel_id = _channel(interaction, "dispatch")
    if await bot.links.linkage(guild_id) is Linkage.UNDECIDED:
        await defer(interaction, ephemeral=True, thinking=True)  # the link may be checked live
    call = await bot.dispatcher.create_call(guild_id, interaction.user.id, **fields)
    target = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        message = await post(target, embed=call_embed(call), view=buttons.call_view(call.id))
    except discord.HTTPException as exc:
        log.warning("call %s: card not posted in %s: %s", call.id, channel_id, exc)
        await answer(
            interaction,
            f"The call is recorded and goes to Northca, but I could not post its card in <#{channel_id}>:"
            " give me View Channel, Send Messages and Embed Links there.",
        )
        return
    await bot.dispatcher.set_card(call.id, channel_id, message.id)
    # Northca may have answered before the card's id was stored: then the card catches up now.
    if (await bot.dispatcher.call(guild_id, call.id)).create_state != call.create_state:
        await refresh_card(bot, guild_id, call.id)
    await answer(interaction, f"Call created: its card is in <#{channel_id}>.")


async def post_game_call_card(bot: NorthcaBot, guild_id: int, call_id: str) -> None:
    """The card of a call the game made (an in-game 911 call), in the dispatch channel when one is set."""
    channel_id = bot.settings.get(guild_id).dispatch_channel_id
    call = await bot.dispatcher.store.call(guild_id, call_id)
    if channel_id is None or call is None:
        log.info("guild %s: in-game call %s has no card (no dispatch channel set)", guild_id, call_id)
        return
    if not await bot.dispatcher.claim_game_card(guild_id, call_id):
        return  # posted (or being posted) by another process
    target = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    try:
        message = await post(target, embed=call_embed(call), view=buttons.call_view(call.id))
    except discord.HTTPException as exc:
        log.warning("in-game call %s: card not posted in %s: %s", call.id, channel_id, exc)
        return
    await bot.dispatcher.set_card(call.id, channel_id, message.id)
    if (await bot.dispatcher.call(guild_id, call.id)).create_state != call.create_state:
        await refresh_card(bot, guild_id, call.id)


async def refresh_card(bot: NorthcaBot, guild_id: int, call_id: str) -> None:
    call = await bot.dispatcher.store.call(guild_id, call_id)
    if call is not None:
        where = (call.channel_id, call.message_id)
        await _edit_posted(bot, guild_id, where, call_embed(call), buttons.call_view(call.id, closed=call.closed))


async def call_action(bot: NorthcaBot, interaction: discord.Interaction[Any], action: str, call_id: str) -> None:
    guild_id = require_guild(interaction)
    svc = bot.dispatcher
    member_id = interaction.user.id
    if action == "report":
        call = await svc.call(guild_id, call_id)
        from cogs.dispatch.modals import ReportModal

        await send_modal(interaction, ReportModal(call.id))
        return
    if action == "attach":
        call = await svc.attach(guild_id, call_id, member_id)
        said = "Your unit is attached to this call."
    elif action == "detach":
        call = await svc.detach(guild_id, call_id, member_id)
        said = "Your unit is detached from this call."
    elif action == "enroute":
        call = await svc.attach(guild_id, call_id, member_id, code=EN_ROUTE_CODE)
        said = f"You are en route ({EN_ROUTE_CODE})."
    elif action == "onscene":
        call = await svc.attach(guild_id, call_id, member_id, code=ON_SCENE_CODE)
        said = f"You are on scene ({ON_SCENE_CODE})."
    else:
        call = await svc.close_call(guild_id, call_id, member_id, supervisor=is_supervisor(interaction))
        said = "Call closed."
        if member_id != call.creator_id:
            title = discord.utils.escape_markdown(call.classification)
            await audit_line(interaction, f"🛡️ <@{member_id}> closed the call “{title}” of <@{call.creator_id}>.")
    # The newest state, whoever pressed last: the card never goes back to an older one.
    call = await svc.call(guild_id, call.id)
    await edit_answer(interaction, embed=call_embed(call), view=buttons.call_view(call.id, closed=call.closed))
    await answer(interaction, said)


# --- tickets and reports --------------------------------------------------------------------


async def submit_ticket(interaction: discord.Interaction[Any], title: str, description: str, priority: str) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    name, badge, callsign = await bot.dispatcher.officer(guild_id, interaction.user.id, interaction.user.display_name)
    body = CreateTicketBody(
        title=title.strip(),
        description=description.strip(),
        priority=priority.strip() or None,
        officer_name=name,
        officer_badge=badge or None,
        officer_callsign=callsign or None,
    )
    await defer(interaction, ephemeral=True, thinking=True)
    record_id = await bot.dispatcher.create_ticket(guild_id, interaction.user.id, body)
    entry = await bot.dispatcher.wait_settled(record_id, SETTLE_WAIT)
    lines = [
        f"**{numbered('Ticket', entry.number if entry else None)}** {discord.utils.escape_markdown(body.title or '')}",
        f"Officer: {discord.utils.escape_markdown(name)} · badge {badge or '—'} · unit {callsign or '—'}",
        f"Priority: {priority_text(body.priority)}",
        mdt_state(entry.state if entry else None),
    ]
    await edit_answer(interaction, "\n".join(lines))


async def submit_report(
    interaction: discord.Interaction[Any],
    call_id: str | None,
    title: str,
    description: str,
    location: str,
    when: str,
) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    try:
        date, time = report_when(when, bot.settings.get(guild_id).timezone, from_ms(bot.clock()))
    except InvalidInput as exc:
        # What they typed comes back, so nothing is lost: the form can be filled in again from it.
        typed = f"**{title}**\n{description}\n{location}"
        raise InvalidInput.said(f"{error_text(exc)} Nothing was sent. What you wrote:\n{fit(typed, 1500)}") from None
    name, badge, _ = await bot.dispatcher.officer(guild_id, interaction.user.id, interaction.user.display_name)
    body = CreateSceneReportBody(
        title=title.strip(),
        description=description.strip(),
        location=location.strip() or None,
        date=date or None,
        time=time or None,
        officer_name=name,
        officer_badge=badge or None,
        dispatch_call_id=call_id,
    )
    await defer(interaction, ephemeral=True, thinking=True)
    record_id = await bot.dispatcher.create_report(guild_id, interaction.user.id, body)
    entry = await bot.dispatcher.wait_settled(record_id, SETTLE_WAIT)
    name_line = numbered("Scene report", entry.number if entry else None)
    lines = [
        f"**{name_line}** {discord.utils.escape_markdown(body.title or '')}",
        f"Officer: {discord.utils.escape_markdown(name)} · badge {badge or '—'}",
        f"Location: {discord.utils.escape_markdown(body.location or '—')} · {date} {time}",
    ]
    if call_id:
        linked = await bot.dispatcher.call(guild_id, call_id)
        lines.append(f"Linked to {numbered('call', linked.number)}")
    lines.append(mdt_state(entry.state if entry else None))
    await edit_answer(interaction, "\n".join(lines))


async def mdt_details(interaction: discord.Interaction[Any], record_id: str) -> None:
    """The MDT details button: supervisors only (checked at the press), the record of this server only."""
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    if not is_supervisor(interaction):
        raise MissingPermission.said("Only a supervisor (Manage Server or a supervisor role) can see the MDT details.")
    entry = await bot.dispatcher.entry(record_id)
    if entry is None or entry.guild_id != guild_id:
        raise InvalidInput.said("This server has nothing with that id.")
    call = await bot.dispatcher.call(guild_id, record_id) if entry.kind == "call" else None
    await answer(interaction, mdt_details_text(entry, call), allowed_mentions=discord.AllowedMentions.none())
