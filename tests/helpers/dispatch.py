"""The dispatch set-up: a linked guild with the alerts, dispatch and shift-log channels, a responder role and the
supervisor role, officers on duty with callsigns; readers of the alert and the call cards; the dispatch service
built without Discord."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from bot.core.dispatch import DispatchService
from bot.core.settings.service import ChannelFacts, RoleFacts
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.northca.sandbox.app import RecordedRequest
from bot.ops.services import build_services
from bot.storage import Database
from tests.harness import Harness, Recorded, builders
from tests.helpers.bot import link_guild, link_guild_in, make_config, northca_bot
from tests.helpers.ids import ADMIN, ALERTS_CH, DISPATCH_CH, GUILD, LOG_CH, OFFICER, SUPERVISOR_ROLE
from tests.helpers.waiting import until

RESPONDER: Final = 700000000000000007  # "Responders": pinged by a panic alert


def add_dispatch_guild(h: Harness) -> None:
    """The test guild with the responder and supervisor roles (again after a restart)."""
    roles = [builders.role(RESPONDER, "Responders", position=1), builders.role(SUPERVISOR_ROLE, "Sergeant", position=2)]
    h.add_guild(GUILD, name="Test County RP", owner_id=ADMIN, roles=roles)


async def dispatch_ready(h: Harness, sandbox: NorthcaSandbox, officers: Mapping[int, str]) -> None:
    """Linked; channels and roles set; each officer has a callsign (member id -> callsign) and is on duty.
    Retries come quickly (a retry wait is a setting of the service, not a sleep in the test)."""
    add_dispatch_guild(h)
    bot = northca_bot(h)
    await link_guild(bot, sandbox)
    settings = bot.settings
    await settings.set_channel(GUILD, ADMIN, "alerts", ChannelFacts(ALERTS_CH, "alerts"))
    await settings.set_channel(GUILD, ADMIN, "dispatch", ChannelFacts(DISPATCH_CH, "dispatch"))
    await settings.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(LOG_CH, "shift-log"))
    await settings.set_role(GUILD, ADMIN, "responder", RoleFacts(RESPONDER, "Responders"))
    await settings.set_role(GUILD, ADMIN, "supervisor", RoleFacts(SUPERVISOR_ROLE, "Supervisors"))
    for member_id, callsign in officers.items():
        await bot.profiles.update(GUILD, member_id, callsign=callsign, badge="512", name=f"Ofc {callsign}")
        await bot.shifts.start(GUILD, member_id, display_name=f"Ofc {callsign}")
    bot.dispatcher.retry_base_ms = 50
    bot.dispatcher.retry_max_ms = 200


def posts_in(h: Harness, channel_id: int) -> list[Recorded]:
    """Messages posted in a channel, less the settings-change lines (⚙️) that setting up the guild logs."""
    posts = h.fake.find("POST", rf"^/channels/{channel_id}/messages$")
    return [p for p in posts if not str((p.json or {}).get("content") or "").startswith("⚙️")]


async def card_edit(
    h: Harness, message_id: int | str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> Recorded:
    """The first edit of a posted message (the alert or a call card) whose embed satisfies `predicate`."""
    found: list[Recorded] = []

    def seen() -> bool:
        for rec in h.fake.find("PATCH", rf"/messages/{message_id}$"):
            embeds = (rec.json or {}).get("embeds") or []
            if embeds and predicate(embeds[0]):
                found.append(rec)
                return True
        return False

    await until(seen, timeout, f"an edit of message {message_id}")
    return found[0]


def field(embed: Mapping[str, Any], name_start: str) -> str:
    """The value of the embed's first field whose name starts with `name_start`."""
    return next(str(f["value"]) for f in embed.get("fields", []) if str(f["name"]).startswith(name_start))


def created(sandbox: NorthcaSandbox, collection: str) -> list[RecordedRequest]:
    """The POSTs the Northca sandbox received to create in `collection` (calls, panics...)."""
    return [r for r in sandbox.requests if r.method == "POST" and r.path.endswith(f"/{collection}")]


def body(rec: RecordedRequest) -> dict[str, Any]:
    """A recorded request's JSON body."""
    parsed: dict[str, Any] = json.loads(rec.body)
    return parsed


async def dispatch_service(
    db: Database, db_path: Path | str, sandbox: NorthcaSandbox, client: NorthcaClient, officers: int = 1
) -> DispatchService:
    """The dispatch service as bot/ops/services.py builds it, GUILD linked, `officers` officers with callsigns
    (OFFICER, OFFICER + 1, ...: UNIT-0, UNIT-1, ...)."""
    await link_guild_in(db, sandbox)
    services = build_services(make_config(sandbox, db_path), db, client)
    for i in range(officers):
        await services.profiles.update(GUILD, OFFICER + i, callsign=f"UNIT-{i}")
    return services.dispatch
