"""Every persistent button and select of the bot (each DynamicItem its cogs register), clicked with any custom id its
template lets in (hypothesis draws them from the template's regex), on a message the bot never sent, as a forged
client would: the click is answered (never left to "This interaction failed"), never with "Something went wrong",
and nothing is logged as an error. Driven through the offline harness, on the real bot."""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any, get_args

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.parsing import MAX_ID
from bot.discord.bot import EXTENSIONS
from bot.discord.interactions import GENERIC_ERROR_START
from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, builders
from tests.helpers.bot import BotStarter, link_guild
from tests.helpers.forged import click_forged
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, LOG_CH, SUPERVISOR_ROLE

pytestmark = pytest.mark.asyncio

for _extension in EXTENSIONS:
    importlib.import_module(_extension)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


# Every DynamicItem the cogs define (the bot registers exactly these: test_the_bot_registers_every_item_tested).
ITEMS: list[type[discord.ui.DynamicItem[Any]]] = sorted(
    (c for c in _subclasses(discord.ui.DynamicItem) if c.__module__.startswith("cogs.")),
    key=lambda c: _name(c),
)


def is_select(item: type[discord.ui.DynamicItem[Any]]) -> bool:
    bases = getattr(item, "__orig_bases__", ())
    return any(isinstance(arg, type) and issubclass(arg, discord.ui.Select) for b in bases for arg in get_args(b))


# Values a forged id aims at the edges with: numbers at and past 2^63 (the database's INTEGER), dates at the ends
# of Python's calendar or no date at all. A drawn id's numbers and dates (any digits `\\d` takes) are swapped for
# these, one by one, wherever the template still matches.
EDGE_NUMBERS = [str(MAX_ID), str(MAX_ID + 1), "9" * 19, "9" * 20, "0", "0" * 20, "1"]
EDGE_DAYS = ["0001-01-01", "9999-12-31", "9999-12-27", "2026-02-30", "0000-00-00", "9998-12-31", "1970-01-01"]
_VALUES = re.compile(r"(\d{4}-\d{2}-\d{2}|\d+)")


@st.composite
def custom_ids(draw: Any, item: type[discord.ui.DynamicItem[Any]]) -> str:
    """Any custom id the item's template fully matches, as Discord could carry it (at most 100 characters, UTF-8),
    its numbers and dates often at the edges."""
    pattern: re.Pattern[str] = item.__discord_ui_compiled_template__  # type: ignore[attr-defined]
    drawn = draw(st.from_regex(pattern, fullmatch=True).filter(lambda c: len(c) <= 100 and _utf8(c)))
    parts = _VALUES.split(drawn)  # odd indexes: the numbers and dates
    for i in range(1, len(parts), 2):
        edges = EDGE_DAYS if "-" in parts[i] else EDGE_NUMBERS
        swapped = [*parts[:i], draw(st.sampled_from([parts[i], *edges])), *parts[i + 1 :]]
        if pattern.fullmatch("".join(swapped)) and len("".join(swapped)) <= 100:
            parts = swapped
    return "".join(parts)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture
async def bot_harness(start_bot: BotStarter, sandbox: NorthcaSandbox) -> Harness:
    """One bot for all the examples of a test (hypothesis reuses it: the examples act on one server's state)."""
    h: Harness = await start_bot(shifts={"log_channel_id": LOG_CH, "supervisor_role_ids": [SUPERVISOR_ROLE]})
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        roles=[builders.role(SUPERVISOR_ROLE, "Sergeant", position=1)],
        channels=[builders.channel(LOG_CH, guild_id=GUILD, name="shift-log")],
    )
    await link_guild(h.bot, sandbox)
    return h


async def test_the_bot_registers_every_item_tested(bot_harness: Harness) -> None:
    # By name: discord.py executes a single-module extension again when it loads it (new class objects).
    registered = {_name(c) for c in bot_harness.state._view_store._dynamic_items.values()}
    assert registered == {_name(c) for c in ITEMS} and len(ITEMS) >= 20


@pytest.mark.parametrize("item", ITEMS, ids=lambda c: _name(c).removeprefix("cogs."))
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_any_custom_id_a_template_lets_in_gets_a_clear_answer(
    bot_harness: Harness, caplog: pytest.LogCaptureFixture, item: type[discord.ui.DynamicItem[Any]], data: Any
) -> None:
    h = bot_harness
    custom_id = data.draw(custom_ids(item), label="custom_id")
    values = [data.draw(st.text(min_size=1, max_size=100).filter(_utf8), label="value")] if is_select(item) else None
    seen = len(caplog.records)
    reply = await click_forged(h, custom_id, member=ADMIN_M, values=values, timeout=8)
    done = await reply.final(timeout=8)
    answers = [reply.content, done.content, *(f.content for f in reply.followups)]
    assert not any(a.startswith(GENERIC_ERROR_START) for a in answers), (custom_id, answers)
    errors = [r for r in caplog.records[seen:] if r.levelno >= logging.ERROR]
    assert not errors, (custom_id, [r.getMessage() for r in errors])
