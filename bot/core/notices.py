"""Changes made in one process that the bot's processes must show in Discord at once.

The hub (bot/core/events.py) is per process. When the dashboard runs as its own process (`northca-bot web`), a
change it makes is published on that process's hub, where no Discord front door listens. `NoticeForwarder`
(installed there) writes each change as a row of `process_notices` (migration 041); `NoticeRelay` (a background
service of every bot process) takes the rows of its own servers' shards, each once across processes (DELETE ...
RETURNING), re-reads what changed from the database and publishes the same event on its own hub:

- `settings` (the keys, the actor, the values before): `SettingsChanged`, the settings service re-reading the
  server; the shift-log line, the status panels redraw.
- `duty-adjusted` (the adjustment id, the source): `DutyAdjusted` (time added or subtracted, a shift voided); the
  shift cog's shift-log line.
- `leave-decided` (the leave id, the actor, the source): `LeaveDecided`; the leave cog runs a round of the
  on-leave role (each give claimed in the database: given once, by this process only) and posts the shift-log line.
- `roster-assignment` (the template id, the target's kind and id, assigned or not, the actor, the source):
  `RosterAssignmentChanged`; the roster cog's shift-log line.

A body carries ids, never sentences: the bot process words the change from the records as they are now.

A record gone since (a roster template deleted at once) drops its notice: nothing to show. A notice no bot process
took within `NOTICE_TTL_MS` (no bot running) is dropped. The bot running the dashboard itself (`[web] enabled`)
needs none of this: its changes are published on its own hub, and it installs no forwarder, so nothing is ever
shown twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, get_args

from bot.core.audit import SOURCES, AuditSource
from bot.core.changes import ChangeNotices
from bot.core.duty.records import DutyAdjusted
from bot.core.duty.service import DutyService
from bot.core.events import EventHub
from bot.core.leave.records import LeaveDecided
from bot.core.leave.service import LeaveService
from bot.core.polling import PollingService
from bot.core.rosters.records import RosterAssignmentChanged, TargetKind
from bot.core.rosters.service import RosterService
from bot.core.settings.records import SettingsChanged, to_json
from bot.core.settings.service import SettingsService
from bot.core.sharding import ShardSet
from bot.core.timefmt import now_ms
from bot.storage import Database
from bot.storage.shards import shard_condition

if TYPE_CHECKING:
    from bot.core.changes import AdminChange

log = logging.getLogger(__name__)

SETTINGS_TOPIC = "settings"
DUTY_ADJUSTED_TOPIC = "duty-adjusted"
LEAVE_DECIDED_TOPIC = "leave-decided"
ROSTER_ASSIGNMENT_TOPIC = "roster-assignment"
# A notice no bot process took (no bot running) is dropped after this long: a late shift-log line is worse
# than none.
NOTICE_TTL_MS = 10 * 60 * 1000

Body = dict[str, object]


class NoticeStore:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock

    async def post(self, guild_id: int, topic: str, body: Body) -> None:
        await self.db.execute(
            "INSERT INTO process_notices (guild_id, topic, body, created_ms) VALUES (?, ?, ?, ?)",
            (guild_id, topic, json.dumps(body), self.clock()),
        )

    async def take(self, shards: ShardSet | None, limit: int = 100) -> list[tuple[int, str, Body]]:
        """The oldest notices of these shards' servers, each taken by one process only: (guild, topic, body)."""
        await self.db.execute("DELETE FROM process_notices WHERE created_ms < ?", (self.clock() - NOTICE_TTL_MS,))
        rows = await self.db.fetchall(
            "DELETE FROM process_notices WHERE id IN (SELECT id FROM process_notices WHERE 1 = 1"
            + shard_condition("guild_id", shards)
            + " ORDER BY id LIMIT ?) RETURNING id, guild_id, topic, body",
            (limit,),
        )
        ordered = sorted(rows, key=lambda r: int(r["id"]))
        return [(int(r["guild_id"]), str(r["topic"]), json.loads(r["body"])) for r in ordered]


class NoticeForwarder:
    """In a process without a Discord front door (the dashboard's): the hub's settings and admin changes into
    notices (the table in the module docstring)."""

    def __init__(self, store: NoticeStore, events: EventHub) -> None:
        self.store = store
        events.settings.subscribe(self.on_settings_changed)
        events.changes.subscribe(self.on_admin_change)

    async def on_settings_changed(self, event: SettingsChanged) -> None:
        if event.deleted or event.previous is None or event.actor_id is None:
            return
        previous = event.previous
        body: Body = {
            "keys": list(event.keys),
            "actor_id": event.actor_id,
            "before": {key: to_json(key, previous.value(key)) for key in event.keys},
        }
        await self.store.post(event.guild_id, SETTINGS_TOPIC, body)

    async def on_admin_change(self, change: AdminChange) -> None:
        topic, body = change_notice(change)
        await self.store.post(change.guild_id, topic, body)


def change_notice(change: AdminChange) -> tuple[str, Body]:
    """The topic and body of an admin change's notice: the ids to re-read it by."""
    if isinstance(change, DutyAdjusted):
        return DUTY_ADJUSTED_TOPIC, {"adjustment_id": change.adjustment.id, "source": change.source}
    if isinstance(change, LeaveDecided):
        return LEAVE_DECIDED_TOPIC, {"leave_id": change.leave.id, "actor_id": change.actor_id, "source": change.source}
    return ROSTER_ASSIGNMENT_TOPIC, {
        "template_id": change.template.id,
        "target_kind": change.target_kind,
        "target_id": change.target_id,
        "assigned": change.assigned,
        "actor_id": change.actor_id,
        "source": change.source,
    }


class UnreadableNotice(Exception):
    """A notice's body lacks what its topic carries (never written by this version's forwarder)."""


def _int(body: Body, key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnreadableNotice(key)
    return value


def _source(body: Body) -> AuditSource:
    value = body.get("source")
    for source in SOURCES:
        if value == source:
            return source
    raise UnreadableNotice("source")


class NoticeRelay(PollingService):
    """In each bot process: the notices of its servers, published on its hub (see the module docstring)."""

    name = "notice-relay"

    def __init__(
        self,
        store: NoticeStore,
        settings: SettingsService,
        shards: ShardSet | None,
        interval_seconds: float = 1.0,
        *,
        duty: DutyService,
        leave: LeaveService,
        rosters: RosterService,
        changes: ChangeNotices,
    ) -> None:
        super().__init__(interval_seconds)
        self.store = store
        self.settings = settings
        self.shards = shards
        self.duty = duty
        self.leave = leave
        self.rosters = rosters
        self.changes = changes

    async def run_once(self) -> int:
        taken = await self.store.take(self.shards)
        for guild_id, topic, body in taken:
            try:
                await self._publish(guild_id, topic, body)
            except UnreadableNotice as exc:
                log.warning("notice %r of guild %s dropped: no %s", topic, guild_id, exc)
        return len(taken)

    async def _publish(self, guild_id: int, topic: str, body: Body) -> None:
        if topic == SETTINGS_TOPIC:
            keys = body.get("keys", [])
            before = body.get("before", {})
            if not isinstance(keys, list) or not isinstance(before, dict):
                raise UnreadableNotice("keys")
            await self.settings.changed_elsewhere(guild_id, tuple(str(k) for k in keys), _int(body, "actor_id"), before)
            return
        change = await self._change(guild_id, topic, body)
        if change is not None:
            # As its service publishes it: the cogs' awaited work (the shift-log line, the on-leave role) in the
            # background, so one slow channel never holds the next notice back.
            self.changes.publish(change)

    async def _change(self, guild_id: int, topic: str, body: Body) -> AdminChange | None:
        """The event the dashboard's hub published, re-read from the database (None: the record is gone)."""
        source = _source(body)
        if topic == DUTY_ADJUSTED_TOPIC:
            adjustment = await self.duty.store.adjustment(guild_id, _int(body, "adjustment_id"))
            return DutyAdjusted(guild_id, adjustment, source) if adjustment is not None else None
        if topic == LEAVE_DECIDED_TOPIC:
            leave_id = body.get("leave_id")
            if not isinstance(leave_id, str):
                raise UnreadableNotice("leave_id")
            leave = await self.leave.store.get(guild_id, leave_id)
            return LeaveDecided(guild_id, leave, _int(body, "actor_id"), source) if leave is not None else None
        if topic == ROSTER_ASSIGNMENT_TOPIC:
            kind = body.get("target_kind")
            assigned = body.get("assigned")
            if kind not in get_args(TargetKind) or not isinstance(assigned, bool):
                raise UnreadableNotice("target")
            template = await self.rosters.store.get(guild_id, _int(body, "template_id"))
            if template is None:
                log.info("notice: roster template %s of guild %s is gone; its line is not posted",
                         body.get("template_id"), guild_id)  # fmt: skip
                return None
            target_kind: TargetKind = "member" if kind == "member" else "role"
            return RosterAssignmentChanged(
                guild_id, _int(body, "actor_id"), template, target_kind, _int(body, "target_id"), assigned, source
            )
        raise UnreadableNotice(f"topic {topic!r} known here")
