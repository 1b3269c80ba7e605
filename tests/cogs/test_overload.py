"""What an overloaded bot does (bench.cluster_scale with more processes than cores): an answer that reaches
Discord after the interaction's 3 s is refused with 10062 Unknown interaction. The officer's action is kept, and
the bot does not try a second answer (an error message) that Discord would refuse the same way."""

from __future__ import annotations

import logging

import pytest

from tests.helpers.bot import link_guild
from tests.helpers.ids import GUILD, OFFICER_M
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


async def test_shift_start_answered_after_discord_forgot_the_interaction_is_kept_and_not_answered_again(
    start_bot, sandbox, caplog: pytest.LogCaptureFixture
):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    # The answer came too late: Discord refuses it (and would refuse any other answer to the interaction).
    h.fake.fail_next(CALLBACK, 404, times=2, code=10062, message="Unknown interaction")
    refused = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert refused.status == 404
    interaction_id = refused.request.path.split("/")[2]

    def handled() -> bool:  # the command's error handling has finished: its last word is logged
        return any(
            r.name == "bot.discord.interactions" and r.levelno >= logging.WARNING and interaction_id in r.getMessage()
            for r in caplog.records
        )

    await until(handled, what="the late answer handled")
    # One answer was tried, not a second one with an error message.
    assert len(h.fake.find("POST", rf"^/interactions/{interaction_id}/")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a late answer is no unexpected error"

    # The shift was stored: the officer sees it, and a second /shift start does not open another.
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    assert status.embeds[0]["title"] == "On duty"
    again = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    assert again.content.startswith("You have been on duty since <t:"), again.content
    rows = await h.bot.db.fetchall("SELECT id FROM shifts WHERE guild_id = ?", (GUILD,))
    assert len(rows) == 1
