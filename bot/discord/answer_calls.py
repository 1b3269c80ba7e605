"""The two calls behind most answers, without building the message Discord sends back.

discord.py's `InteractionResponse.send_message` asks Discord for the created message (`?with_response=1`) and
parses it into an `InteractionCallbackResponse` with its `Message`; `Interaction.edit_original_response` parses the
edited message into an `InteractionMessage`. discord.py needs them only to keep a view for later clicks (keyed by
the message's id); the bot reads neither. For an answer with no view to keep (no view, or one made only of
persistent items, which `_not_kept` stops: they are dispatched by custom id), these make the same request, with the
body discord.py builds, and skip the parse (issue 26: a tenth of the bot's event-loop time per interaction went to
parsing messages nobody read). The first answer is then answered by Discord with 204 and no body, as its API
documents for a callback without `with_response`. Any other answer (a view to keep, a file) goes through discord.py.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.http import Route, handle_message_parameters
from discord.utils import MISSING
from discord.webhook.async_ import async_context, interaction_message_response_params

_CALLBACK = "/interactions/{webhook_id}/{webhook_token}/callback"


def _keeps_nothing(view: Any) -> bool:
    return view is None or view is MISSING or view.is_finished()


async def first_answer(
    interaction: discord.Interaction[Any],
    *,
    ephemeral: bool,
    allowed_mentions: discord.AllowedMentions = MISSING,
    content: Any = MISSING,
    embed: discord.Embed | None = MISSING,
    view: discord.ui.View | discord.ui.LayoutView | None = MISSING,
    file: discord.File = MISSING,
) -> None:
    """`interaction.response.send_message(...)`, the created message not asked for when there is no view to keep."""
    response = interaction.response
    if file is not MISSING or not _keeps_nothing(view):
        given: dict[str, Any] = {"content": content, "embed": embed, "view": view, "file": file}
        await response.send_message(ephemeral=ephemeral, allowed_mentions=allowed_mentions, **given)
        return
    private: dict[str, Any] = {"flags": discord.MessageFlags(ephemeral=True)} if ephemeral else {}
    if response.is_done():
        raise discord.InteractionResponded(interaction)
    client = interaction.client
    params = interaction_message_response_params(
        type=discord.InteractionResponseType.channel_message.value,
        content=content,
        embed=embed,
        view=view,
        **private,
        allowed_mentions=allowed_mentions,
        previous_allowed_mentions=client.allowed_mentions,
    )
    route = Route("POST", _CALLBACK, webhook_id=interaction.id, webhook_token=interaction.token)
    http = client.http
    await async_context.get().request(
        route,
        session=interaction._session,  # discord.py's session for this interaction, as send_message uses
        proxy=http.proxy,
        proxy_auth=http.proxy_auth,
        payload=params.payload,
    )
    # Answered: discord.py's own record of it (is_done(), the followups' and edits' checks), as send_message sets.
    response._response_type = discord.InteractionResponseType.channel_message


async def edit_first_answer(
    interaction: discord.Interaction[Any],
    *,
    allowed_mentions: discord.AllowedMentions = MISSING,
    content: Any = MISSING,
    embed: discord.Embed | None = MISSING,
    view: discord.ui.View | discord.ui.LayoutView | None = MISSING,
) -> None:
    """`interaction.edit_original_response(...)`, the edited message not parsed when there is no view to keep."""
    if not _keeps_nothing(view):
        given: dict[str, Any] = {"content": content, "embed": embed, "view": view}
        await interaction.edit_original_response(allowed_mentions=allowed_mentions, **given)
        return
    client = interaction.client
    http = client.http
    with handle_message_parameters(
        content=content,
        embed=embed,
        view=view,
        allowed_mentions=allowed_mentions,
        previous_allowed_mentions=client.allowed_mentions,
    ) as params:
        await async_context.get().edit_original_interaction_response(
            interaction.application_id,
            interaction.token,
            session=interaction._session,
            proxy=http.proxy,
            proxy_auth=http.proxy_auth,
            payload=params.payload,
            multipart=params.multipart,
            files=params.files,
        )
