"""Forged clicks: a component the bot never made (a forged or outdated client), as Discord would deliver it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.harness import Harness, Reply, builders
from tests.helpers.ids import GUILD


def forged_message(h: Harness, custom_ids: list[str], guild_id: int = GUILD, component_type: int = 2) -> dict[str, Any]:
    """A message of the bot carrying buttons (or string selects: `component_type` 3) with these custom ids, none made
    by the bot: what a forged (or outdated) client's click arrives on. Discord sends the message a click was made on
    with the click."""
    assert h.bot.user is not None
    guild = h.bot.get_guild(guild_id)
    channel_id = guild.text_channels[0].id if guild is not None and guild.text_channels else 1
    if component_type == 3:
        option = {"label": "x", "value": "x"}
        rows = [{"type": 1, "components": [{"type": 3, "custom_id": c, "options": [option]}]} for c in custom_ids]
    else:
        buttons = [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id} for custom_id in custom_ids]
        rows = [{"type": 1, "components": buttons[i : i + 5]} for i in range(0, len(buttons), 5)]
    return builders.message_payload(
        builders.snowflake(),
        channel_id,
        components=rows,
        guild_id=guild_id,
        author=builders.user(h.bot.user.id, h.bot.user.name, bot=True),
        application_id=h.app_id,
    )


async def click_forged(
    h: Harness,
    custom_id: str,
    *,
    member: Mapping[str, Any],
    guild_id: int = GUILD,
    values: list[str] | None = None,
    timeout: float | None = None,
) -> Reply:
    """Click a button (or pick `values` in a select) whose custom id no component of the bot carries (see
    `forged_message`); the bot's answer."""
    kind = 2 if values is None else 3
    message = forged_message(h, [custom_id], guild_id, kind)
    return await h.click(custom_id, message=message, member=member, guild_id=guild_id, values=values, timeout=timeout)
