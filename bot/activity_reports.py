"""Scheduled activity reports: when a guild's activity period ends, its report is posted once.

For every guild with a reports channel and at least one role quota, each round asks the duty service for
the period that ended last and its claim (bot.duty: claimed in the database before posting, so it is
posted exactly once across restarts, and late when the bot was down at the boundary). The Discord side
registers `publisher`, which posts the report and answers where (channel id, message id), and `ready`,
which says whether a guild can be posted in yet; until both say so, nothing is claimed. The clock is
injectable (epoch ms) so tests move time without sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from bot.duty import DutyService, Period
from bot.duty.periods import activity_period
from bot.polling import PollingService
from bot.settings.records import WEEK_DAYS, GuildSettings, SettingsSource
from bot.timefmt import now_ms

log = logging.getLogger(__name__)

# Posts the report of `period` (computed at `now`) and returns (channel id, message id); None: not posted.
ReportPublisher = Callable[[GuildSettings, Period, int], Awaitable[tuple[int, int] | None]]
# Whether the Discord side can post the guild's report now (its guild and reports channel are known).
ReportReady = Callable[[GuildSettings], bool]


def current_period(settings: GuildSettings, at_ms: int) -> Period:
    """The guild's activity period holding `at_ms`."""
    return activity_period(
        at_ms, settings.activity_period, ZoneInfo(settings.timezone), WEEK_DAYS.index(settings.week_start)
    )


def reports_wanted(settings: GuildSettings) -> bool:
    return settings.reports_channel_id is not None and bool(settings.role_quotas)


class ActivityReporter(PollingService):
    """A BackgroundService: at start, every `interval_seconds` and when poked, posts the reports that are due."""

    name = "activity-reports"

    def __init__(
        self,
        duty: DutyService,
        settings: SettingsSource,
        guild_ids: Callable[[], list[int]],
        *,
        clock: Callable[[], int] = now_ms,
        interval_seconds: float = 60.0,
    ) -> None:
        super().__init__(interval_seconds)
        self.duty = duty
        self.settings = settings
        self.guild_ids = guild_ids
        self.clock = clock
        self.publisher: ReportPublisher | None = None
        # A guild not ready yet (at start, before its GUILD_CREATE came through the gateway) is skipped without
        # claiming its report: a claim left unposted would hold the report back for the claim's whole lease.
        self.ready: ReportReady | None = None

    async def run_once(self) -> list[int]:
        """Posts every due report; the guilds it posted for."""
        publisher, ready = self.publisher, self.ready  # kept: the cog may unload while this round runs
        if publisher is None:
            return []
        posted = []
        for guild_id in self.guild_ids():
            settings = self.settings.get(guild_id)
            if not reports_wanted(settings) or (ready is not None and not ready(settings)):
                continue
            try:
                if await self._report(settings, publisher):
                    posted.append(guild_id)
            except Exception:
                log.exception("activity report for guild %s failed (retried after the claim's lease)", guild_id)
        return posted

    async def _report(self, settings: GuildSettings, publisher: ReportPublisher) -> bool:
        now = self.clock()
        due = await self.duty.report_due(
            settings.guild_id, settings.activity_period, ZoneInfo(settings.timezone),
            WEEK_DAYS.index(settings.week_start), now=now,
        )  # fmt: skip
        if due.claim is None:
            return False
        where = await publisher(settings, due.period, now)
        if where is None:
            return False
        await self.duty.report_posted(due.claim, *where)
        log.info("activity report of guild %s for the period from %s posted", settings.guild_id, due.period.start_ms)
        return True
