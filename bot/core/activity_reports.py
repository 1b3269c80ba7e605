"""Scheduled activity reports: when a guild's activity period ends, its report is posted once.

For every guild with a reports channel and at least one role quota, each round asks the duty service for
the period that ended last and its claim (bot.duty: claimed in the database before posting, so it is
posted exactly once across restarts and processes, and late when the bot was down at the boundary). The
claim is a short lease (REPORT_LEASE_MS), renewed while the report is posted, so the report of a claimer
that died is taken over at the first round after the lease. Posting a message and writing the database
cannot be one step: a claimer may die after posting and before marking the report posted. So a claim that
takes over an earlier one first asks `finder` for the report's messages in the channel (each carries the
period's marker) and posts only the pages not there; when all are, it marks the report posted with them.

The front door implements the `ReportPublisher` port (bot/core/ports.py): `publish` posts the report and answers
where (channel id, message id), `find_posted` looks for it, and `can_post` says whether a guild can be posted
in yet; without the port, or until `can_post` says so, nothing is claimed. The clock is injectable (epoch ms)
so tests move time without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.claims import kept_claim
from bot.core.duty import DutyService, Period
from bot.core.duty.periods import activity_period
from bot.core.duty.records import ReportClaim
from bot.core.duty.service import REPORT_RENEW_MS
from bot.core.polling import PollingService
from bot.core.settings.records import WEEK_DAYS, GuildSettings, SettingsSource
from bot.core.timefmt import now_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundReport:
    """A report's messages already in its channel (posted by a claimer that died before marking it posted)."""

    channel_id: int
    pages: Mapping[int, int]  # page index (0: the first message) -> message id
    page_count: int  # how many messages that posting was to have (each says "page n of m")

    @property
    def complete(self) -> bool:
        return all(page in self.pages for page in range(self.page_count))


@dataclass
class ReportJob:
    """What the publisher posts: the report of `period` (computed at `now_ms`), leaving out the pages in `found`,
    and stopping between messages once `claim_lost` is set (another claimer took the report over)."""

    settings: GuildSettings
    period: Period
    now_ms: int
    found: FoundReport | None = None
    claim_lost: asyncio.Event = field(default_factory=asyncio.Event)


class ReportPublisher(Protocol):
    """The port that posts the scheduled reports (the Discord front door: the reports channel)."""

    async def publish(self, job: ReportJob) -> tuple[int, int] | None:
        """Posts the report (the pages not in `job.found`); (channel id, id of its first message), None: not
        posted."""
        ...

    async def find_posted(self, settings: GuildSettings, period: Period) -> FoundReport | None:
        """The messages of the guild's report of `period` found in its reports channel; None: none found."""
        ...

    def can_post(self, settings: GuildSettings) -> bool:
        """Whether the guild's report can be posted now (its guild and reports channel are known)."""
        ...


def current_period(settings: GuildSettings, at_ms: int) -> Period:
    """The guild's activity period holding `at_ms`."""
    return activity_period(
        at_ms, settings.activity_period, ZoneInfo(settings.timezone), WEEK_DAYS.index(settings.week_start)
    )


def reports_wanted(settings: GuildSettings) -> bool:
    return settings.reports_channel_id is not None and bool(settings.role_quotas)


class ActivityReporter(PollingService):
    """A background service: at start, every `interval_seconds` and when poked, posts the reports that are due."""

    name = "activity-reports"

    def __init__(
        self,
        duty: DutyService,
        settings: SettingsSource,
        guild_ids: Callable[[], list[int]],
        *,
        clock: Callable[[], int] = now_ms,
        interval_seconds: float = 60.0,
        publisher: ReportPublisher | None = None,
    ) -> None:
        super().__init__(interval_seconds)
        self.duty = duty
        self.settings = settings
        self.guild_ids = guild_ids
        self.clock = clock
        self.publisher = publisher
        # How often a claim is renewed while its report is posted (shorter than the claim's lease).
        self.renew_seconds = REPORT_RENEW_MS / 1000

    async def run_once(self) -> list[int]:
        """Posts every due report; the guilds it posted for."""
        publisher = self.publisher
        if publisher is None:
            return []
        posted = []
        for guild_id in self.guild_ids():
            settings = self.settings.get(guild_id)
            # A guild not ready yet (at start, before its GUILD_CREATE came through the gateway) is skipped without
            # claiming its report: a claim left unposted would hold the report back for the claim's whole lease.
            if not reports_wanted(settings) or not publisher.can_post(settings):
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
        claim = due.claim
        if claim is None:
            return False
        job = ReportJob(settings, due.period, now)
        if claim.earlier_claim_ms is not None:
            job.found = await self._already_posted(publisher, settings, due.period)
            if job.found is not None and job.found.complete:
                first = job.found.pages[0]
                await self.duty.report_posted(claim, job.found.channel_id, first)
                log.info("activity report of guild %s for the period from %s was posted (message %s) by a claimer"
                         " that stopped before marking it: marked, not posted again", settings.guild_id,
                         due.period.start_ms, first)  # fmt: skip
                return False
        what = f"activity report of guild {settings.guild_id} for the period from {due.period.start_ms}"
        lost = job.claim_lost
        async with kept_claim(claim, self._renew_claim, every_seconds=self.renew_seconds, lost=lost, what=what):
            where = await publisher.publish(job)
        if where is None or job.claim_lost.is_set():
            return False
        if not await self.duty.report_posted(claim, *where):
            # Another claimer took it over meanwhile and marked it (Discord gave both the one message, by nonce).
            log.info("activity report of guild %s for the period from %s was marked posted by another claimer",
                     settings.guild_id, due.period.start_ms)  # fmt: skip
            return False
        log.info("activity report of guild %s for the period from %s posted", settings.guild_id, due.period.start_ms)
        return True

    async def _already_posted(
        self, publisher: ReportPublisher, settings: GuildSettings, period: Period
    ) -> FoundReport | None:
        try:
            return await publisher.find_posted(settings, period)
        except Exception:
            # Not knowing is no reason to hold the report back for good: posted, maybe a second time.
            log.exception("guild %s: could not look for an activity report already posted; posting it",
                          settings.guild_id)  # fmt: skip
            return None

    async def _renew_claim(self, claim: ReportClaim) -> ReportClaim | None:
        return await self.duty.renew_report(claim, self.clock())
