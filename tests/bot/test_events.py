"""The event hub and the service graph: what the Discord side relies on when it subscribes."""

from __future__ import annotations

import logging

import pytest

from bot.core.config import parse_config
from bot.core.events import Topic
from bot.discord.bot import NorthcaBot
from tests.helpers.bot import database_section

pytestmark = pytest.mark.asyncio


async def test_a_failing_subscriber_does_not_keep_the_event_from_the_others(caplog):
    topic: Topic[int] = Topic("test topic")
    heard_now: list[int] = []
    heard_later: list[int] = []

    def broken_now(event: int) -> None:
        raise RuntimeError("immediate subscriber broke")

    async def broken_later(event: int) -> None:
        raise RuntimeError("awaited subscriber broke")

    async def later(event: int) -> None:
        heard_later.append(event)

    topic.subscribe_now(broken_now)
    topic.subscribe_now(heard_now.append)
    topic.subscribe(broken_later)
    topic.subscribe(later)
    with caplog.at_level(logging.ERROR, logger="bot.core.events"):
        topic.publish_now(7)
        await topic.deliver(7)
    assert heard_now == [7] and heard_later == [7]
    assert sum("subscriber" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records) == 2


async def test_an_unsubscribed_listener_hears_nothing_more():
    topic: Topic[int] = Topic("test topic")
    heard: list[int] = []

    async def listener(event: int) -> None:
        heard.append(event)

    topic.subscribe(listener)
    await topic.deliver(1)
    topic.unsubscribe(listener)
    await topic.deliver(2)
    assert heard == [1] and not topic.has_subscribers


async def test_reaching_a_service_before_setup_says_so_clearly(db_path):
    config = parse_config({"discord": {"token": "test-bot-token"}, "database": database_section(db_path)}, env={})
    bot = NorthcaBot(config, extensions=())
    with pytest.raises(RuntimeError, match="setup_hook"):
        _ = bot.shifts
