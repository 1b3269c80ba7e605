"""Dispatch from Discord: panics (10-33), calls, tickets and scene reports, written to Northca through
an outbox so a retry never writes twice.

Exactly once, honestly: every create carries an id the bot chose and is tried one request at a time
(`NorthcaClient.single_attempt`). An answer that was lost (5xx, timeout after sending) marks the entry
"maybe written"; Northca refuses a second create with the same id with a plain server error, and has no
list endpoint for calls, reports or tickets, so a server error after such an attempt cannot be told from
"already there": the entry becomes `unconfirmed` (shown as such, never re-created under a new id).
A panic is safe to repeat (one panic per unit), so it is retried until Northca answers or gives up.
A call's changes are merged locally in one transaction and the newest full state is sent by PATCH.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from bot.core.aio import wait_event
from bot.core.dispatch.records import (
    CALL_CLOSED,
    CALL_OPEN,
    CallRecord,
    DispatchOutcome,
    GameCallFacts,
    OutboxEntry,
    OutboxKind,
    OutboxState,
    PanicRecord,
    PanicResponder,
    Responding,
)
from bot.core.dispatch.store import DispatchStore
from bot.core.errors import Conflict, ErrorKind, InvalidInput, MissingPermission, UserFacingError
from bot.core.events import Topic
from bot.core.links import LinkService
from bot.core.polling import LoopTask
from bot.core.profiles import ProfileStore, officer_name
from bot.core.timefmt import now_ms
from bot.core.unit_status import StatusService
from bot.core.unit_status.records import unit_callsign
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaError, NorthcaServerError, NorthcaUnavailable
from bot.northca.models import (
    CreateCallBody,
    CreateSceneReportBody,
    CreateTicketBody,
    PanicBody,
    UpdateCallBody,
)

log = logging.getLogger(__name__)

EN_ROUTE_CODE = "10-97"
ON_SCENE_CODE = "10-23"
MAX_ATTEMPTS = 12


class DispatchService:
    def __init__(
        self,
        store: DispatchStore,
        links: LinkService,
        profiles: ProfileStore,
        unit_status: StatusService,
        northca: NorthcaClient,
        *,
        clock: Callable[[], int] = now_ms,
        panic_cooldown_ms: int = 60_000,
        panic_confirm_ms: int = 5_000,
        retry_base_ms: int = 2_000,
        retry_max_ms: int = 60_000,
        tick_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.links = links
        self.profiles = profiles
        self.unit_status = unit_status
        # One request per attempt: the outbox decides what a failure means (see the module docstring).
        self.northca = northca.single_attempt()
        self.clock = clock
        self.panic_cooldown_ms = panic_cooldown_ms
        self.panic_confirm_ms = panic_confirm_ms
        # First presses of a panel's Panic button, per (guild, member): a second one soon after confirms.
        self._panic_presses: dict[tuple[int, int], int] = {}
        self.retry_base_ms = retry_base_ms
        self.retry_max_ms = retry_max_ms
        self.tick_seconds = tick_seconds
        self.outcomes: Topic[DispatchOutcome] = Topic("dispatch outcome")
        self._pass = asyncio.Lock()
        self._settled: dict[str, asyncio.Event] = {}
        self._loop_task = LoopTask("dispatch-outbox", self._loop)

    # --- who is pressing -----------------------------------------------------------------------

    async def unit_of(self, guild_id: int, member_id: int) -> str:
        """The member's unit: the same rule as /status (the open shift's callsign, else the profile's)."""
        ctx = await self.unit_status.store.context(guild_id, member_id)
        callsign = unit_callsign(ctx)
        if not callsign:
            raise InvalidInput(ErrorKind.CALLSIGN_NEEDED)
        return callsign

    # --- panic ---------------------------------------------------------------------------------

    def panic_press(self, guild_id: int, member_id: int) -> bool:
        """A press of a panel's Panic button: True when it confirms an earlier press within
        `panic_confirm_ms` (send now); False when it is a first press (ask to confirm)."""
        now = self.clock()
        # Old presses are forgotten, so the map stays as small as the presses of the last moments.
        self._panic_presses = {k: t for k, t in self._panic_presses.items() if now - t < self.panic_confirm_ms}
        if self._panic_presses.pop((guild_id, member_id), None) is not None:
            return True
        self._panic_presses[(guild_id, member_id)] = now
        return False

    async def panic(self, guild_id: int, member_id: int, location: str | None) -> PanicRecord:
        """Record a panic and queue it for Northca; never waits for Northca. Conflict when the member's previous
        panic is younger than the cooldown (decided by the database, so presses at once through the command, the
        confirm button and the panel, in any process, record one panic)."""
        now = self.clock()
        last = await self.store.last_panic(guild_id, member_id)
        if last is not None and now - last.at_ms < self.panic_cooldown_ms:
            raise self._cooling_down(last.at_ms, now)  # the common repeat, answered before any other check
        link = await self.links.require_linked(guild_id)
        unit = await self.unit_of(guild_id, member_id)
        location = (location or "").strip()[:200] or None
        panic = PanicRecord(
            str(uuid.uuid4()), guild_id, member_id, unit, location, now, None, None, None, None, "pending", None
        )
        body = PanicBody(address=location).model_dump_json()
        previous_ms = await self.store.add_panic(panic, link.mdt_id, body, self.panic_cooldown_ms)
        if previous_ms is not None:
            raise self._cooling_down(previous_ms, now)
        log.warning("panic %s: guild %s member %s unit %s", panic.id, guild_id, member_id, unit)
        self._loop_task.poke()
        await self._set_panic_status(guild_id, member_id)
        return panic

    def _cooling_down(self, previous_ms: int, now: int) -> Conflict:
        wait_s = max(1, (previous_ms + self.panic_cooldown_ms - now + 999) // 1000)
        return Conflict(ErrorKind.PANIC_COOLING_DOWN, wait_seconds=wait_s)

    async def set_alert(self, panic_id: str, channel_id: int, message_id: int) -> None:
        await self.store.set_alert(panic_id, channel_id, message_id)

    async def clear_panic(self, guild_id: int, panic_id: str, actor_id: int, *, supervisor: bool) -> PanicRecord:
        panic = await self.store.panic(guild_id, panic_id)
        if panic is None:
            raise InvalidInput(ErrorKind.PANIC_UNKNOWN)
        if actor_id != panic.member_id and not supervisor:
            raise MissingPermission(ErrorKind.PANIC_CLEAR_NOT_ALLOWED)
        if not await self.store.clear_panic(guild_id, panic_id, actor_id, self.clock()):
            raise Conflict(ErrorKind.PANIC_ALREADY_CLEARED)
        log.info("panic %s of member %s cleared by %s", panic_id, panic.member_id, actor_id)
        await self._set_status(guild_id, panic.member_id, self.unit_status.config.on_duty_code)
        cleared = await self.store.panic(guild_id, panic_id)
        assert cleared is not None
        return cleared

    async def panic_record(self, guild_id: int, panic_id: str) -> PanicRecord | None:
        return await self.store.panic(guild_id, panic_id)

    async def responders(self, guild_id: int, panic_id: str) -> tuple[PanicResponder, ...]:
        return tuple(await self.store.responders(guild_id, panic_id))

    async def respond(self, guild_id: int, panic_id: str, member_id: int) -> Responding:
        """Put the member on the panic's responders, with their unit (the same rule as /status; none without a
        callsign). Idempotent: a second press by the same member changes nothing (`added` is False). Who may respond
        is the front door's check (the responder role); the officer in panic cannot respond to their own."""
        panic = await self.store.panic(guild_id, panic_id)
        if panic is None:
            raise InvalidInput(ErrorKind.PANIC_UNKNOWN)
        if not panic.active:
            raise Conflict(ErrorKind.PANIC_RESPOND_CLEARED)
        if member_id == panic.member_id:
            raise InvalidInput(ErrorKind.PANIC_RESPOND_OWN)
        ctx = await self.unit_status.store.context(guild_id, member_id)
        unit = unit_callsign(ctx) or None
        added = await self.store.add_responder(PanicResponder(panic_id, guild_id, member_id, unit, self.clock()))
        if added:
            log.info("panic %s: member %s (unit %s) responding", panic_id, member_id, unit)
        return Responding(panic, await self.responders(guild_id, panic_id), added)

    # --- calls ---------------------------------------------------------------------------------

    async def create_call(
        self,
        guild_id: int,
        actor_id: int,
        *,
        classification: str,
        description: str,
        location: str,
        priority: str,
        call_type: str,
    ) -> CallRecord:
        link = await self.links.require_linked(guild_id)
        texts = {
            "classification": classification,
            "description": description,
            "location": location,
            "priority": priority,
            "call_type": call_type,
        }
        clean = {k: v.strip() for k, v in texts.items()}
        empty = [k for k, v in clean.items() if not v]
        if empty:
            raise InvalidInput(ErrorKind.FIELDS_EMPTY, fields=tuple(empty))
        call = CallRecord(
            id=str(uuid.uuid4()),
            guild_id=guild_id,
            mdt_id=link.mdt_id,
            creator_id=actor_id,
            status=CALL_OPEN,
            units=(),
            version=0,
            sent_version=0,
            patch_error=None,
            channel_id=None,
            message_id=None,
            create_state="pending",
            classification=clean["classification"],
            description=clean["description"],
            location=clean["location"],
            priority=clean["priority"],
            call_type=clean["call_type"],
        )
        body = CreateCallBody(id=call.id, status=CALL_OPEN, units_assigned=[], created_by=str(actor_id), **clean)
        number = await self.store.add_call(call, body.model_dump_json(), self.clock())
        call = replace(call, number=number)
        log.info("call #%s (%s) created by %s in guild %s", number, call.id, actor_id, guild_id)
        self._loop_task.poke()
        return call

    async def create_game_call(self, call: GameCallFacts) -> CallRecord | None:
        """An in-game emergency call as one CAD call (a bot-chosen id, through the outbox like `/call create`),
        exactly once per (guild, call number, started at), whoever saw it (a poll, the webhook, another process,
        after a restart): the new call, or None when it was seen before. Raises NotLinked (skip recorded) when
        the server has no MDT."""
        try:
            link = await self.links.require_linked(call.guild_id)
        except UserFacingError:
            await self.store.skip_game_call(call.guild_id, call.number, call.started_at_ms, "not_linked", self.clock())
            raise
        record = CallRecord(
            id=str(uuid.uuid4()),
            guild_id=call.guild_id,
            mdt_id=link.mdt_id,
            creator_id=call.creator_id,
            status=CALL_OPEN,
            units=(),
            version=0,
            sent_version=0,
            patch_error=None,
            channel_id=None,
            message_id=None,
            create_state="pending",
            classification=call.classification,
            description=call.description,
            location=call.location,
            priority=call.priority,
            call_type=call.call_type,
        )
        body = CreateCallBody(
            id=record.id,
            status=CALL_OPEN,
            units_assigned=[],
            created_by=call.created_by,
            classification=record.classification,
            description=record.description,
            location=record.location,
            priority=record.priority,
            call_type=record.call_type,
        )
        number = await self.store.add_game_call(
            record, body.model_dump_json(), self.clock(), call.number, call.started_at_ms
        )
        if number is None:
            return None
        record = replace(record, number=number)
        log.info("guild %s: in-game call %s relayed as call %s", call.guild_id, call.number, record.id)
        self._loop_task.poke()
        return record

    async def end_game_call(self, guild_id: int, number: int, started_at_ms: int) -> CallRecord | None:
        """The game ended the call: its CAD call is closed (PATCHed by the outbox worker), once. None when it was
        never relayed, already ended, or closed from Discord before."""
        call_id = await self.store.end_game_call(guild_id, number, started_at_ms, self.clock())
        if call_id is None:
            return None
        changed = await self.store.change_call(guild_id, call_id, status=CALL_CLOSED, actor_id=None, now=self.clock())
        if changed is None:
            return None
        self._loop_task.poke()
        return changed

    async def claim_game_card(self, guild_id: int, call_id: str) -> bool:
        return await self.store.claim_game_card(guild_id, call_id, self.clock())

    async def game_calls_without_card(self) -> list[tuple[int, str]]:
        return await self.store.game_calls_without_card()

    async def game_call_counts(self, guild_id: int) -> dict[str, int]:
        return await self.store.game_call_counts(guild_id)

    async def call(self, guild_id: int, call_id: str) -> CallRecord:
        call = await self.store.call(guild_id, call_id)
        if call is None:
            raise InvalidInput(ErrorKind.CALL_UNKNOWN)
        return call

    async def set_card(self, call_id: str, channel_id: int, message_id: int) -> None:
        await self.store.set_card(call_id, channel_id, message_id)

    async def attach(self, guild_id: int, call_id: str, member_id: int, *, code: str | None = None) -> CallRecord:
        """Put the member's unit on the call (and, given `code`, set their status to it)."""
        await self.call(guild_id, call_id)  # a call of this server, before anything else is asked
        unit = await self.unit_of(guild_id, member_id)
        call = await self._change(guild_id, call_id, add=unit)
        if code is not None:
            await self._set_status(guild_id, member_id, code)
        return call

    async def detach(self, guild_id: int, call_id: str, member_id: int) -> CallRecord:
        await self.call(guild_id, call_id)
        unit = await self.unit_of(guild_id, member_id)
        return await self._change(guild_id, call_id, remove=unit)

    async def close_call(self, guild_id: int, call_id: str, actor_id: int, *, supervisor: bool) -> CallRecord:
        call = await self.call(guild_id, call_id)
        if actor_id != call.creator_id and not supervisor:
            raise MissingPermission(ErrorKind.CALL_CLOSE_NOT_ALLOWED)
        closed = await self._change(guild_id, call_id, status=CALL_CLOSED, actor_id=actor_id)
        log.info("call %s closed by %s (creator %s)", call_id, actor_id, call.creator_id)
        return closed

    async def _change(
        self,
        guild_id: int,
        call_id: str,
        *,
        add: str | None = None,
        remove: str | None = None,
        status: str | None = None,
        actor_id: int | None = None,
    ) -> CallRecord:
        current = await self.call(guild_id, call_id)
        if current.closed:
            raise Conflict(ErrorKind.CALL_CLOSED)
        changed = await self.store.change_call(
            guild_id, call_id, add=add, remove=remove, status=status, actor_id=actor_id, now=self.clock()
        )
        self._loop_task.poke()
        return changed if changed is not None else await self.call(guild_id, call_id)

    # --- tickets and scene reports ----------------------------------------------------------

    async def officer(self, guild_id: int, member_id: int, display_name: str | None) -> tuple[str, str, str]:
        """Name, badge and callsign from the profile (what the forms fill in)."""
        profile = await self.profiles.get(guild_id, member_id)
        name = officer_name(member_id, profile.name, display_name)
        ctx = await self.unit_status.store.context(guild_id, member_id)
        return name, profile.badge or "", unit_callsign(ctx) or ""

    async def create_ticket(self, guild_id: int, actor_id: int, body: CreateTicketBody) -> str:
        return await self._create_entry(guild_id, actor_id, "ticket", body)

    async def create_report(self, guild_id: int, actor_id: int, body: CreateSceneReportBody) -> str:
        if body.dispatch_call_id:
            await self.call(guild_id, body.dispatch_call_id)  # only a call of this server
        return await self._create_entry(guild_id, actor_id, "report", body)

    async def _create_entry(
        self, guild_id: int, actor_id: int, kind: str, body: CreateTicketBody | CreateSceneReportBody
    ) -> str:
        link = await self.links.require_linked(guild_id)
        record_id = str(uuid.uuid4())
        body = body.model_copy(update={"id": record_id})
        assert kind in ("ticket", "report")
        await self.store.add_entry(
            record_id,
            guild_id,
            link.mdt_id,
            "ticket" if kind == "ticket" else "report",
            body.model_dump_json(),
            actor_id,
            self.clock(),
        )
        log.info("%s %s by %s in guild %s", kind, record_id, actor_id, guild_id)
        self._loop_task.poke()
        return record_id

    async def entry(self, record_id: str) -> OutboxEntry | None:
        return await self.store.entry(record_id)

    async def entry_by_number(self, guild_id: int, kind: OutboxKind, number: int) -> OutboxEntry | None:
        """A call, ticket, scene report or panic of this server by its short number (Call #12), for a supervisor
        who needs its Northca id; None when the server has none with that number."""
        return await self.store.entry_by_number(guild_id, kind, number)

    async def wait_settled(self, record_id: str, timeout: float) -> OutboxEntry | None:
        """The entry once it left `pending` (or as it is when `timeout` runs out)."""
        event = self._settled.setdefault(record_id, asyncio.Event())
        entry = await self.store.entry(record_id)
        if entry is not None and entry.state == "pending":
            await wait_event(event, timeout)
            entry = await self.store.entry(record_id)
        self._settled.pop(record_id, None)
        return entry

    # --- the worker -------------------------------------------------------------------------------

    async def process_due(self) -> int:
        """One pass: every due outbox entry once, then every call with an unsent change. Returns the
        number of requests made."""
        async with self._pass:
            sent = 0
            for entry in await self.store.due(self.clock()):
                await self._send_entry(entry)
                sent += 1
            for call in await self.store.calls_to_patch():
                await self._send_patch(call)
                sent += 1
            return sent

    async def _send_entry(self, entry: OutboxEntry) -> None:
        body = json.loads(entry.body_json)
        try:
            if entry.kind == "panic":
                unit = (await self._panic_unit(entry)) or ""
                await self.northca.panic_unit(
                    entry.mdt_id, unit, entry.guild_id, entry.actor_id, address=body.get("address")
                )
            elif entry.kind == "call":
                await self.northca.create_call(entry.mdt_id, CreateCallBody(**body), entry.guild_id, entry.actor_id)
            elif entry.kind == "ticket":
                await self.northca.create_ticket(entry.mdt_id, CreateTicketBody(**body), entry.guild_id, entry.actor_id)
            else:
                await self.northca.create_scene_report(
                    entry.mdt_id, CreateSceneReportBody(**body), entry.guild_id, entry.actor_id
                )
        except NorthcaError as exc:
            await self._failed(entry, exc)
            return
        if await self._settle(entry, "sent", self.clock()):
            await self._announce(entry, "sent")

    async def _failed(self, entry: OutboxEntry, exc: NorthcaError) -> None:
        now = self.clock()
        error = exc.message[:300]
        repeatable = entry.kind == "panic"  # the same panic again is harmless
        state: OutboxState
        if not exc.retryable:
            state = "unconfirmed" if entry.maybe_written and not repeatable else "failed"
            if await self._settle(entry, state, now, error=error):
                await self._announce(entry, state)
            return
        if not repeatable and entry.maybe_written and isinstance(exc, NorthcaServerError):
            # A duplicate id is refused with a plain 500: possibly the earlier attempt's record.
            if not await self._settle(entry, "unconfirmed", now, error=error):
                return
            log.warning("%s %s unconfirmed: possibly written by an earlier attempt (%s)", entry.kind, entry.id, exc)
            await self._announce(entry, "unconfirmed")
            return
        if entry.attempts + 1 >= MAX_ATTEMPTS:
            state = "unconfirmed" if (entry.maybe_written or exc.ambiguous) and not repeatable else "failed"
            if await self._settle(entry, state, now, error=error):
                await self._announce(entry, state)
            return
        wait = min(self.retry_max_ms, self.retry_base_ms * 2**entry.attempts)
        maybe = exc.ambiguous or (isinstance(exc, NorthcaUnavailable) and exc.sent)
        if not await self._settle(entry, "pending", now, error=error, next_ms=now + wait, maybe_written=maybe):
            return
        log.info("%s %s not sent (%s); retry in %d ms", entry.kind, entry.id, exc, wait)
        # The alert shows "still trying" with the reason.
        await self.outcomes.deliver(DispatchOutcome(entry.guild_id, entry.kind, entry.id, "pending"))

    async def _settle(
        self, entry: OutboxEntry, state: OutboxState, now: int, *, error: str | None = None,
        next_ms: int | None = None, maybe_written: bool = False,
    ) -> bool:  # fmt: skip
        """The attempt's outcome, unless another sender settled the entry meanwhile (this process stalled past
        the outbox lease, and its successor sent the entry): then nothing is changed or announced."""
        settled = await self.store.settle(
            entry.id, state, now, error=error, next_ms=next_ms, maybe_written=maybe_written, attempts=entry.attempts
        )
        if not settled:
            log.warning(
                "%s %s: settled by another sender meanwhile (this process stalled past the outbox lease);"
                " its %s outcome is dropped",
                entry.kind, entry.id, state,
            )  # fmt: skip
        return settled

    async def _panic_unit(self, entry: OutboxEntry) -> str | None:
        panic = await self.store.panic(entry.guild_id, entry.id)
        return panic.unit_id if panic is not None else None

    async def _send_patch(self, call: CallRecord) -> None:
        body = UpdateCallBody(
            classification=call.classification,
            description=call.description,
            location=call.location,
            status=call.status,
            call_type=call.call_type,
            priority=call.priority,
            units_assigned=list(call.units),
        )
        try:
            await self.northca.update_call(call.mdt_id, call.id, body, call.guild_id)
        except NorthcaError as exc:
            # Retried on the next pass with the then newest state.
            await self.store.patch_failed(call.id, exc.message[:300])
            log.info("PATCH of call %s failed: %s", call.id, exc)
            return
        await self.store.patched(call.id, call.version)
        await self.outcomes.deliver(DispatchOutcome(call.guild_id, "call", call.id, "sent"))

    async def _announce(self, entry: OutboxEntry, state: OutboxState) -> None:
        event = self._settled.get(entry.id)
        if event is not None:
            event.set()
        await self.outcomes.deliver(DispatchOutcome(entry.guild_id, entry.kind, entry.id, state))

    async def _set_panic_status(self, guild_id: int, member_id: int) -> None:
        """Best effort: the unit shows 10-33 on the panels and on Northca, whatever the guild's codes."""
        try:
            await self.unit_status.set_panic(guild_id, member_id)
        except UserFacingError as exc:  # e.g. no callsign any more: the alert and Northca's panic stand
            log.info("panic status of %s in guild %s not set: %s", member_id, guild_id, exc)
        except Exception:
            log.exception("setting the panic status of member %s failed", member_id)

    async def _set_status(self, guild_id: int, member_id: int, code: str) -> None:
        """Best effort: the status follows the dispatch action when the server has that code."""
        if code not in self.unit_status.codes(guild_id):
            log.info("guild %s has no code %s; status left as it is", guild_id, code)
            return
        try:
            await self.unit_status.set_status(guild_id, member_id, code, actor_id=member_id, check_duty=False)
        except Exception:
            log.exception("setting %s for member %s failed", code, member_id)

    def request(self) -> None:
        self._loop_task.poke()

    async def _loop(self) -> None:
        while True:
            self._loop_task.wake.clear()
            try:
                await self.process_due()
            except Exception:
                log.exception("dispatch outbox pass failed")
            await self._loop_task.sleep(self.tick_seconds)

    async def start(self) -> None:
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()
