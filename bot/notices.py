"""Changes made in one process that the bot's processes must show in Discord at once.

The hub (bot/events.py) is per process. When the dashboard runs as its own process (`northca-bot web`), a
setting it changes is published on that process's hub, where no Discord front door listens. `NoticeForwarder`
(installed there) writes each change as a row of `process_notices` (migration 041); `NoticeRelay` (a background
service of every bot process) takes the rows of its own servers, each once across processes (DELETE ...
RETURNING), and has the settings service re-read the server and publish the change on the bot's hub, with who
made it and the values before: the settings cog posts the shift-log line, the status panels redraw. The bot
running the dashboard itself (`[web] enabled`) needs none of this: the change is published on its own hub.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from bot.events import EventHub
from bot.polling import PollingService
from bot.settings.records import SettingsChanged, to_json
from bot.settings.service import SettingsService
from bot.sharding import ShardSet
from bot.storage import Database
from bot.storage.shards import shard_condition
from bot.timefmt import now_ms

log = logging.getLogger(__name__)

SETTINGS_TOPIC = "settings"
# A notice no bot process took (no bot running) is dropped after this long: a late shift-log line is worse
# than none.
NOTICE_TTL_MS = 10 * 60 * 1000


class NoticeStore:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock

    async def post(self, guild_id: int, topic: str, body: dict[str, object]) -> None:
        await self.db.execute(
            "INSERT INTO process_notices (guild_id, topic, body, created_ms) VALUES (?, ?, ?, ?)",
            (guild_id, topic, json.dumps(body), self.clock()),
        )

    async def take(self, shards: ShardSet | None, limit: int = 100) -> list[tuple[int, str, dict[str, object]]]:
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
    """In a process without a Discord front door (the dashboard's): the hub's settings changes into notices."""

    def __init__(self, store: NoticeStore, events: EventHub) -> None:
        self.store = store
        events.settings.subscribe(self.on_settings_changed)

    async def on_settings_changed(self, event: SettingsChanged) -> None:
        if event.deleted or event.previous is None or event.actor_id is None:
            return
        previous = event.previous
        body: dict[str, object] = {
            "keys": list(event.keys),
            "actor_id": event.actor_id,
            "before": {key: to_json(key, previous.value(key)) for key in event.keys},
        }
        await self.store.post(event.guild_id, SETTINGS_TOPIC, body)


class NoticeRelay(PollingService):
    """In each bot process: the notices of its servers, published on its hub (see the module docstring)."""

    name = "notice-relay"

    def __init__(
        self, store: NoticeStore, settings: SettingsService, shards: ShardSet | None, interval_seconds: float = 1.0
    ) -> None:
        super().__init__(interval_seconds)
        self.store = store
        self.settings = settings
        self.shards = shards

    async def run_once(self) -> int:
        taken = await self.store.take(self.shards)
        for guild_id, topic, body in taken:
            if topic != SETTINGS_TOPIC:
                log.warning("notice of unknown topic %r dropped", topic)
                continue
            keys = [str(k) for k in body.get("keys", [])]  # type: ignore[attr-defined]
            before = body.get("before", {})
            actor = body.get("actor_id")
            if not isinstance(before, dict) or not isinstance(actor, int):
                continue
            await self.settings.changed_elsewhere(guild_id, tuple(keys), actor, before)
        return len(taken)
