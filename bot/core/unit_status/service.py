"""The unit status service: /status and its buttons, without Discord.

A click is checked, recorded locally (table `unit_status`, with a version) and queued on the
coalescer (bot/core/unit_status/coalescer.py), which sends it to Northca's active-units board; it
never waits for Northca. Versions are taken when the event happens, so the order of arrival
decides which change is newest, including the automatic duty codes of shifts starting and
ending (stamped synchronously at that moment, see `stamp_duty`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from bot.core.config import ShiftConfig, StatusConfig
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.links import LinkService, stored_status_approved
from bot.core.polling import LoopTask
from bot.core.profiles import ProfileStore, officer_name
from bot.core.settings.records import SettingsSource, StaticSettings, TenCode, defaults_from
from bot.core.shifts import DutyChanged, ShiftService
from bot.core.unit_status.coalescer import UnitChange, UnitCoalescer, UnitsSent
from bot.core.unit_status.records import (
    PANIC,
    PANIC_CODE,
    OffDuty,
    PanelsStale,
    StatusChange,
    StatusContext,
    StatusPanel,
    UnitStatus,
    unit_callsign,
)
from bot.core.unit_status.store import UnitStatusStore
from bot.northca.models import ActiveUnitUpsert

log = logging.getLogger(__name__)


class StatusService:
    """The rules behind /status and its buttons: who may set a status, the local record of every
    officer's last status (with the version Northca acknowledged, so nothing unsent is forgotten
    across a restart), the panels to re-render (at most once per window, through the hub), and
    the reaction to shifts starting and ending."""

    def __init__(
        self,
        store: UnitStatusStore,
        links: LinkService,
        profiles: ProfileStore,
        config: StatusConfig,
        coalescer: UnitCoalescer,
        events: EventHub,
        *,
        shifts: ShiftService | None = None,
        settings: SettingsSource | None = None,
        own_resend: bool = True,
    ) -> None:
        self.store = store
        # Per-guild codes and off-duty policy; the config file's for every guild without a source.
        self.settings = settings if settings is not None else StaticSettings(defaults_from(ShiftConfig(), config))
        self.links = links
        self.profiles = profiles
        self.config = config
        self.coalescer = coalescer
        self.events = events
        # Its presence turns the off-duty rule on. (The open shift itself is read together with the
        # rest of a click's context, in one query for many clicks: see UnitStatusStore.context.)
        self.shifts = shifts
        self.window = coalescer.window
        self._dirty: set[int] = set()
        self._render_wake = asyncio.Event()
        self._render_task = LoopTask("status-panels", self._render_loop)
        # Sends again what Northca has not acknowledged. Started with this service unless `own_resend` is False
        # (several processes: the bot runs it under a lease, in one process at a time).
        self.resender = UnitResender(self)
        self.own_resend = own_resend
        # Versions taken when shifts started or ended, per member, in event order (see stamp_duty).
        self._duty_versions: dict[tuple[int, int], deque[tuple[bool, asyncio.Future[int]]]] = {}
        self.renders = 0  # panel render rounds done (each round: every dirty guild once)
        self.idle_render = asyncio.Event()
        self.idle_render.set()
        coalescer.sent.subscribe(self._on_sent)
        events.duty.subscribe_now(self._stamp_duty_event)

    # --- codes ---

    def codes(self, guild_id: int) -> dict[str, TenCode]:
        """The guild's codes, in panel order (from its settings: a change is seen at once)."""
        return {c.code: c for c in sorted(self.settings.get(guild_id).codes, key=lambda c: c.order)}

    def code(self, guild_id: int, raw: str | None) -> TenCode:
        value = (raw or "").strip()
        codes = self.codes(guild_id)
        found = codes.get(value) or next((c for c in codes.values() if c.code.lower() == value.lower()), None)
        if found is None:
            raise InvalidInput(ErrorKind.UNKNOWN_STATUS_CODE, value=value[:20], known=tuple(codes))
        return found

    def code_choices(self, guild_id: int, current: str, limit: int = 25) -> list[TenCode]:
        text = (current or "").strip().lower()
        codes = self.codes(guild_id).values()
        return [c for c in codes if text in c.code.lower() or text in c.label.lower()][:limit]

    def duty_check(self, guild_id: int) -> bool:
        return self.settings.get(guild_id).off_duty == "prompt" and self.shifts is not None

    # --- setting a status ---

    async def set_status(
        self,
        guild_id: int,
        member_id: int,
        raw_code: str,
        *,
        display_name: str | None = None,
        actor_id: int | None = None,
        check_duty: bool = True,
        version: int | None = None,
        context: StatusContext | None = None,
    ) -> StatusChange:
        """Check, record locally and queue for Northca. Never waits for Northca.
        `version`: taken earlier, when the event that caused this change happened. `context`: the member's, as the
        caller just read it (UnitStatusStore.context; one read less)."""
        # First, before anything can suspend: the order of arrival is the order of the changes.
        if version is None:
            version = await self.store.next_version()
        code = self.code(guild_id, raw_code)
        return await self._record(
            guild_id,
            member_id,
            code,
            display_name=display_name,
            actor_id=actor_id,
            check_duty=check_duty,
            version=version,
            context=context,
        )

    def panic_code(self, guild_id: int) -> TenCode:
        """10-33: the guild's own entry when it has one, else the built-in panic status."""
        return self.codes(guild_id).get(PANIC_CODE, PANIC)

    async def set_panic(self, guild_id: int, member_id: int) -> StatusChange:
        """The panic path (and only it) sets 10-33 even when the guild's codes have no 10-33:
        the unit shows it on the panels and Northca gets it as the unit's status."""
        version = await self.store.next_version()
        return await self._record(
            guild_id,
            member_id,
            self.panic_code(guild_id),
            display_name=None,
            actor_id=member_id,
            check_duty=False,
            version=version,
        )

    async def _record(
        self,
        guild_id: int,
        member_id: int,
        code: TenCode,
        *,
        display_name: str | None,
        actor_id: int | None,
        check_duty: bool,
        version: int,
        release_unsent: bool = False,
        context: StatusContext | None = None,
    ) -> StatusChange:
        """`release_unsent`: a changed unit id releases the old one even when Northca has not acknowledged it yet
        (it may be in flight: the release, newer, goes after it). `context`: read by the caller (else read here)."""
        ctx = context if context is not None else await self.store.context(guild_id, member_id)
        mdt_id = ctx.link_mdt_id
        if not stored_status_approved(ctx.link_status):
            # Not linked, or pending (which the link service may re-check with Northca now).
            mdt_id = (await self.links.require_linked(guild_id)).mdt_id
        assert mdt_id is not None
        profile, previous = ctx.profile, ctx.current
        # Read with the rest (one query for many clicks), as ShiftService.open_shift would answer.
        shift = ctx.open_shift
        callsign = unit_callsign(ctx)
        if not callsign:
            raise InvalidInput(ErrorKind.CALLSIGN_NEEDED)
        if check_duty and self.duty_check(guild_id) and code.code != self.config.off_duty_code and shift is None:
            raise OffDuty(code)
        name = officer_name(
            member_id,
            profile.name,
            display_name,
            shift.officer_name if shift is not None else None,
            previous.officer_name if previous is not None else None,
        )
        # The department chosen at /shift start is the current assignment; else the profile's.
        department = (shift.department if shift is not None else None) or profile.department
        saved = await self.store.save(
            guild_id=guild_id,
            member_id=member_id,
            mdt_id=mdt_id,
            callsign=callsign,
            status=code.code,
            officer_name=name,
            officer_badge=profile.badge,
            department=department,
            rank=profile.rank,
            actor_id=actor_id,
            version=version,
            synced_version=previous.synced_version if previous is not None else 0,
        )
        if (
            previous is not None
            and previous.callsign != saved.callsign
            and (previous.synced_version > 0 or release_unsent)
        ):
            self._retire(previous, saved.version)
        self.coalescer.submit(UnitChange(guild_id, mdt_id, member_id, saved.version, saved.to_upsert(), actor_id))
        self.mark_dirty(guild_id)
        return StatusChange(saved, code, previous.status if previous is not None else None)

    async def _take_out_of_service(self, current: UnitStatus, version: int, actor_id: int | None) -> None:
        """Record, and send, the member's last unit as out of service (they have no unit any more)."""
        off = self.config.off_duty_code
        if current.status == off:
            return
        saved = await self.store.save(
            guild_id=current.guild_id,
            member_id=current.member_id,
            mdt_id=current.mdt_id,
            callsign=current.callsign,
            status=off,
            officer_name=current.officer_name,
            officer_badge=current.officer_badge,
            department=current.department,
            rank=current.rank,
            actor_id=actor_id,
            version=version,
            synced_version=current.synced_version,
        )
        self.coalescer.submit(
            UnitChange(current.guild_id, current.mdt_id, current.member_id, version, saved.to_upsert(), actor_id)
        )
        self.mark_dirty(current.guild_id)

    def _retire(self, previous: UnitStatus, version: int) -> None:
        """An officer's callsign changed: the old unit goes out of service on Northca (best effort,
        not kept for a restart: the officer's record is the new unit)."""
        off = self.config.off_duty_code
        if previous.status == off:
            return
        old = ActiveUnitUpsert(id=previous.callsign, status=off)
        self.coalescer.submit(
            UnitChange(previous.guild_id, previous.mdt_id, previous.member_id, version, old, tracked=False)
        )

    async def refresh_profile(
        self, guild_id: int, member_id: int, display_name: str | None = None
    ) -> StatusChange | None:
        """After /profile set: send the officer's current status again with the new details
        (a cleared callsign takes the old unit out of service on Northca)."""
        current = await self.store.get(guild_id, member_id)
        if current is None:
            return None
        ctx = await self.store.context(guild_id, member_id)
        if not unit_callsign(ctx):
            # No unit any more: its last one is recorded, and sent, as out of service.
            await self._take_out_of_service(current, await self.store.next_version(), member_id)
            return None
        # A unit in panic stays in panic (10-33 may not be one of the guild's codes).
        code = self.panic_code(guild_id) if current.status == PANIC_CODE else None
        try:
            if code is None:
                code = self.code(guild_id, current.status)
            return await self._record(
                guild_id,
                member_id,
                code,
                display_name=display_name,
                actor_id=member_id,
                check_duty=False,
                version=await self.store.next_version(),
            )
        except (InvalidInput, Conflict) as exc:
            log.info("status of %s in guild %s not refreshed: %s", member_id, guild_id, exc)
            return None
        except Exception as exc:  # e.g. NotLinked: the profile change itself stands
            log.info("status of %s in guild %s not refreshed: %s", member_id, guild_id, exc)
            return None

    async def follow_unit(self, guild_id: int, member_id: int) -> StatusChange | None:
        """The member's unit id changed (their callsign in game moved the shift's unit, bot/erlc/units.py): the
        current status is recorded again under the new unit, by whoever chose it, and the old unit released (the
        off-duty code), as a callsign changed in a profile releases it. None: no status recorded yet."""
        current = await self.store.get(guild_id, member_id)
        if current is None:
            return None
        try:
            code = self.panic_code(guild_id) if current.status == PANIC_CODE else self.code(guild_id, current.status)
            return await self._record(
                guild_id,
                member_id,
                code,
                display_name=None,
                actor_id=current.actor_id,
                check_duty=False,
                version=await self.store.next_version(),
                release_unsent=True,
            )
        except Exception as exc:  # a code no longer configured, the link gone: the shift's unit moved anyway
            log.info("unit of %s in guild %s not moved on Northca: %s", member_id, guild_id, exc)
            return None

    async def set_from_game(self, guild_id: int, member_id: int, on_duty: bool, since_ms: int) -> StatusChange | None:
        """Status from the game (`erlc.status_from_game`): the on-duty code (joined a duty team at `since_ms`) or
        the off-duty code (left the game then), unless the unit has it already, is in panic, or a person chose a
        status at or after that moment (the officer's choice since wins). Through the coalescer like any change;
        None: nothing to change."""
        code = self.config.on_duty_code if on_duty else self.config.off_duty_code
        current = await self.store.get(guild_id, member_id)
        if current is not None and (
            current.status in (code, PANIC_CODE) or (current.actor_id is not None and current.updated_ms >= since_ms)
        ):
            return None
        try:
            return await self.set_status(guild_id, member_id, code, check_duty=False)
        except Exception as exc:  # no unit (no callsign), not linked any more: nothing to show
            log.info("status from the game of %s in guild %s not set: %s", member_id, guild_id, exc)
            return None

    def _stamp_duty_event(self, event: DutyChanged) -> None:
        self.stamp_duty(event.guild_id, event.member_id, event.on_duty)

    def stamp_duty(self, guild_id: int, member_id: int, on_duty: bool) -> None:
        """Duty stamp (an immediate subscriber of the duty topic): take the version of the automatic duty code
        when the shift starts or ends, so a status the officer sets after that, even before the
        listener runs, is newer and wins."""
        version = self.store.reserve_version()
        self._duty_versions.setdefault((guild_id, member_id), deque()).append((on_duty, version))

    async def _duty_version(self, guild_id: int, member_id: int, on_duty: bool) -> int | None:
        stamps = self._duty_versions.get((guild_id, member_id))
        if not stamps:
            return None
        stamped_on_duty, version = stamps.popleft()
        if not stamps:
            del self._duty_versions[(guild_id, member_id)]
        try:
            number = await version
        except Exception as exc:  # the database did not hand it out: the change takes a version now
            log.info("duty stamp of %s in guild %s lost its version: %s", member_id, guild_id, exc)
            return None
        return number if stamped_on_duty == on_duty else None

    async def on_duty_changed(
        self, guild_id: int, member_id: int, on_duty: bool, display_name: str | None = None
    ) -> StatusChange | None:
        """Duty listener: a shift start sets the on-duty code, a shift end the off-duty code,
        when the officer has a callsign and the server is linked. Ordered by the shift event
        (its stamped version): a status set after the event is not overwritten."""
        version = await self._duty_version(guild_id, member_id, on_duty)
        code = self.config.on_duty_code if on_duty else self.config.off_duty_code
        # One read for everything the change needs (the member's current record with their link, profile and open
        # shift), grouped with the other starts and ends of a burst: one database trip for all of them.
        ctx = await self.store.context(guild_id, member_id)
        current = ctx.current
        if version is not None and current is not None and current.version > version:
            log.info(
                "shift %s of %s in guild %s: a newer status was set meanwhile, kept",
                "start" if on_duty else "end",
                member_id,
                guild_id,
            )
            return None
        try:
            return await self.set_status(
                guild_id, member_id, code, display_name=display_name, check_duty=False, version=version, context=ctx
            )
        except InvalidInput as exc:
            # No unit (no callsign): a shift that ended takes the unit it had out of service.
            if not on_duty and current is not None:
                await self._take_out_of_service(current, version or await self.store.next_version(), None)
            log.debug(
                "shift %s of %s in guild %s set no status: %s", "start" if on_duty else "end", member_id, guild_id, exc
            )
            return None
        except Exception as exc:  # e.g. not linked any more: the shift itself stands
            log.info(
                "shift %s of %s in guild %s set no status: %s", "start" if on_duty else "end", member_id, guild_id, exc
            )
            return None

    async def status_of(self, guild_id: int, member_id: int) -> UnitStatus | None:
        return await self.store.get(guild_id, member_id)

    async def board(self, guild_id: int) -> dict[str, list[UnitStatus]]:
        """Configured code -> units in it (by callsign); statuses no longer configured are left out,
        except units in panic (10-33), listed under 10-33 whether the guild has that code or not."""
        board: dict[str, list[UnitStatus]] = {code: [] for code in self.codes(guild_id)}
        for row in await self.store.in_guild(guild_id):
            if row.status in board:
                board[row.status].append(row)
            elif row.status == PANIC_CODE:
                board.setdefault(PANIC_CODE, []).append(row)
        return board

    async def _on_sent(self, sent: UnitsSent) -> None:
        # Settled changes have nothing left to send either (Northca has them or a newer state of the unit).
        done = sent.changes + sent.settled
        await self.store.mark_synced(done)
        # Panels show which statuses Northca has not acknowledged yet: clear those marks.
        for guild_id in {c.guild_id for c in done}:
            self.mark_dirty(guild_id)

    async def resend_unsynced(self, older_than_ms: int | None = None) -> int:
        """Queue every change Northca has not acknowledged (after a restart or a refusal).

        `older_than_ms`: only changes last made before then (the periodic pass leaves
        fresh ones to the coalescer, which has them already)."""
        count = 0
        mdts: dict[int, str | None] = {}
        if await self.store.settle_superseded():
            for guild_id in await self.store.panel_guilds():
                self.mark_dirty(guild_id)  # their ⏳ marks go
        for row in await self.store.unsynced():
            if older_than_ms is not None and row.updated_ms >= older_than_ms:
                continue
            if row.guild_id not in mdts:
                mdts[row.guild_id] = await self.links.approved_mdt(row.guild_id)
            mdt_id = mdts[row.guild_id]
            if mdt_id is None:
                log.info("unit %s of guild %s stays unsynced: the server is not linked", row.callsign, row.guild_id)
                continue
            if self.coalescer.submit(UnitChange(row.guild_id, mdt_id, row.member_id, row.version, row.to_upsert())):
                count += 1
        if count:
            log.info("resending %d unit statuses Northca has not acknowledged", count)
        return count

    # --- panels ---

    async def add_panel(
        self, guild_id: int, channel_id: int, message_id: int, created_by: int | None
    ) -> list[StatusPanel]:
        return await self.store.add_panel(guild_id, channel_id, message_id, created_by)

    async def panels(self, guild_id: int) -> list[StatusPanel]:
        return await self.store.panels(guild_id)

    async def forget_panel(self, message_id: int) -> None:
        await self.store.remove_panel(message_id)

    def mark_dirty(self, guild_id: int) -> None:
        """The guild's panels need a re-render (done at most once per window)."""
        self._dirty.add(guild_id)
        self.idle_render.clear()
        self._render_wake.set()

    async def _render_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = -float("inf")
        while True:
            if not self._dirty:
                self.idle_render.set()
            await self._render_wake.wait()
            # Gather changes for a window, and never render twice within one.
            delay = max(self.window, last + self.window - loop.time())
            if delay > 0:
                await asyncio.sleep(delay)
            self._render_wake.clear()
            dirty, self._dirty = self._dirty, set()
            last = loop.time()
            for guild_id in sorted(dirty):
                # The hub logs a failing subscriber: one guild's panel does not stop the others.
                await self.events.panels.deliver(PanelsStale(guild_id))
            self.renders += 1

    async def wait_rendered(self, timeout: float = 10.0) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self.idle_render.wait()
        except TimeoutError:
            return False
        return True

    # --- service ---

    async def start(self) -> None:
        self._render_task.start()
        await self.store.count_versions()
        if self.own_resend:
            await self.resender.start()
        # Panels show what is stored now (statuses, and the configured codes).
        for guild_id in await self.store.panel_guilds():
            self.mark_dirty(guild_id)

    async def stop(self) -> None:
        if self.own_resend:
            await self.resender.stop()
        await self._render_task.stop()


class UnitResender:
    """Sends again every change Northca has not acknowledged: once at start (what a restart left unsent), then
    every `resend_interval_seconds` (a refusal, e.g. the link was broken and is fixed now, or a lost change).
    A background service; with several processes on the database, one of them runs it (a lease)."""

    def __init__(self, status: StatusService) -> None:
        self.status = status
        self._loop_task = LoopTask("status-resend", self._loop)

    async def start(self) -> None:
        await self.status.resend_unsynced()
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()

    async def _loop(self) -> None:
        interval = self.status.config.resend_interval_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                # Fresh changes are the coalescer's already: only those older than one interval.
                await self.status.resend_unsynced(older_than_ms=self.status.store.clock() - int(interval * 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # the next pass tries again
                log.exception("re-sending unsynced unit statuses failed")
