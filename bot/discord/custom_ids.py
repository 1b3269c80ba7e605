"""What a persistent button's custom id may carry, in one place: the regex pieces of every DynamicItem template and
the parsers of their values (bot/core/parsing.py's rules: ASCII digits, ids below 2^63, dates the bot computes with).

A custom id comes back from Discord as the client sends it, and a forged client sends anything a template lets
in. So a template lets in only what its values need (`ID`, `PAGE`, `DAY`, `UUID`), each value is parsed by the
helpers below, and `from_custom_id` is wrapped by `parses_custom_id`: a value the helpers refuse
(`RefusedCustomId`) gives a button that answers "no longer valid" (discord.py would otherwise log the exception and
leave the click unanswered: "This interaction failed").
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, TypeVar, cast

import discord

from bot.core.errors import ErrorKind, InvalidInput
from bot.core.parsing import database_id, iso_day, whole_number
from bot.discord.interactions import answer
from bot.wording import error_text

log = logging.getLogger(__name__)

# A snowflake or a row id. 20 ASCII digits hold every id and a little more: `id_of` refuses what is above 2^63.
ID = r"[0-9]{1,20}"
# A page number (0-based) of a paginated answer.
PAGE = r"[0-9]{1,4}"
# A local date as YYYY-MM-DD; `day_of` refuses what is no date or lies outside the bot's calendar.
DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# A UUID as the bot writes it (shifts, leaves, calls).
UUID = r"[0-9a-f-]{36}"

NO_LONGER_VALID = error_text(InvalidInput(ErrorKind.BUTTON_NO_LONGER_VALID))

ItemT = TypeVar("ItemT", bound="discord.ui.DynamicItem[Any]")
FromCustomId = Callable[
    [type[ItemT], discord.Interaction[Any], discord.ui.Item[Any], re.Match[str]], Coroutine[Any, Any, ItemT]
]


class RefusedCustomId(InvalidInput):
    """A value in a custom id no button of this bot made (forged, or from a version that wrote ids otherwise)."""

    def __init__(self, why: str) -> None:
        super().__init__(ErrorKind.BUTTON_NO_LONGER_VALID, why=why)
        self.why = why


def id_of(text: str) -> int:
    value = database_id(text)
    if value is None:
        raise RefusedCustomId(f"id {text[:24]!r} is no 64-bit id")
    return value


def optional_id_of(text: str) -> int | None:
    """An id, or None for `-` or `0` (how a button writes "none")."""
    return None if text in ("-", "0") else id_of(text)


def page_number(text: str) -> int:
    value = whole_number(text, most=9999)
    if value is None:
        raise RefusedCustomId(f"page {text[:8]!r}")
    return value


def day_of(text: str) -> date:
    try:
        return iso_day(text)
    except ValueError as exc:
        raise RefusedCustomId(str(exc)) from None


class RefusedButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"northca:.+"):
    """Stands for a clicked button whose custom id carries a value the parsers refused. Never registered (it would
    match every id): `parses_custom_id` returns it in place of the item the custom id names."""

    def __init__(self, custom_id: str, why: str) -> None:
        self.why = why
        super().__init__(discord.ui.Button(label="?", custom_id=custom_id))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        log.info("refused custom id %r from %s: %s", self.custom_id[:100], interaction.user.id, self.why)
        try:
            await answer(interaction, NO_LONGER_VALID, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not answer the refused custom id %r", self.custom_id[:100], exc_info=True)


def parses_custom_id(from_custom_id: FromCustomId[ItemT]) -> FromCustomId[ItemT]:
    """For `DynamicItem.from_custom_id` (under @classmethod): a RefusedCustomId raised while parsing gives a
    RefusedButton, which answers the click with NO_LONGER_VALID."""

    @functools.wraps(from_custom_id)
    async def parse(
        cls: type[ItemT], interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ItemT:
        try:
            return await from_custom_id(cls, interaction, item, match)
        except RefusedCustomId as exc:
            custom_id = str(getattr(item, "custom_id", None) or match.string)
            # discord.py only swaps the returned item in and calls its callback: any DynamicItem does.
            return cast(ItemT, RefusedButton(custom_id, exc.why))

    return parse
