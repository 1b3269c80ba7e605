"""Helpers for the dispatch tests: a linked server with alerts and dispatch channels and a responder role."""

from __future__ import annotations

import json
from typing import Any

from bot.dispatch import DispatchService
from bot.northca.sandbox import NorthcaSandbox
from bot.services import build_services
from bot.settings.service import ChannelFacts, RoleFacts
from tests.harness import Harness, Recorded, builders
from tests.helpers.bot import link_guild, link_guild_in, make_config
from tests.helpers.ids import ADMIN, GUILD, OFFICER
from tests.helpers.waiting import until

ALERTS = 910000000000000001
DISPATCH = 910000000000000002
RESPONDER = 910000000000000003
SUPERVISOR_ROLE = 910000000000000004
SHIFT_LOG = 910000000000000005


def add_dispatch_guild(h: Harness) -> None:
    """The test guild with the responder and supervisor roles (again after a restart)."""
    roles = [builders.role(RESPONDER, "Responders", position=1), builders.role(SUPERVISOR_ROLE, "Sergeant", position=2)]
    h.add_guild(GUILD, name="Test County RP", owner_id=ADMIN, roles=roles)


async def dispatch_ready(h: Harness, sandbox: NorthcaSandbox, officers: dict[int, str]) -> None:
    """Linked; channels and roles set; each officer has a callsign (member id -> callsign) and is on duty.
    Retries come quickly (a retry wait is a setting of the service, not a sleep in the test)."""
    add_dispatch_guild(h)
    await link_guild(h.bot, sandbox)
    settings = h.bot.settings
    await settings.set_channel(GUILD, ADMIN, "alerts", ChannelFacts(ALERTS, "alerts"))
    await settings.set_channel(GUILD, ADMIN, "dispatch", ChannelFacts(DISPATCH, "dispatch"))
    await settings.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(SHIFT_LOG, "shift-log"))
    await settings.set_role(GUILD, ADMIN, "responder", RoleFacts(RESPONDER, "Responders"))
    await settings.set_role(GUILD, ADMIN, "supervisor", RoleFacts(SUPERVISOR_ROLE, "Supervisors"))
    for member_id, callsign in officers.items():
        await h.bot.profiles.update(GUILD, member_id, callsign=callsign, badge="512", name=f"Ofc {callsign}")
        await h.bot.shifts.start(GUILD, member_id, display_name=f"Ofc {callsign}")
    h.bot.dispatcher.retry_base_ms = 50
    h.bot.dispatcher.retry_max_ms = 200


def posts_in(h: Harness, channel_id: int) -> list[Recorded]:
    """Messages posted in a channel, less the settings-change lines (⚙️) that setting up the guild logs."""
    posts = h.fake.find("POST", rf"^/channels/{channel_id}/messages$")
    return [p for p in posts if not str((p.json or {}).get("content") or "").startswith("⚙️")]


async def card_edit(h: Harness, message_id: int | str, predicate: Any, timeout: float = 10.0) -> Recorded:
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


def field(embed: dict[str, Any], name_start: str) -> str:
    return next(str(f["value"]) for f in embed.get("fields", []) if str(f["name"]).startswith(name_start))


def sandbox_calls(sandbox: NorthcaSandbox, mdt_id: str) -> list[dict[str, Any]]:
    return sandbox.calls(mdt_id)


def created(sandbox: NorthcaSandbox, collection: str) -> list[Any]:
    return [r for r in sandbox.requests if r.method == "POST" and r.path.endswith(f"/{collection}")]


def body(rec: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(rec.body)
    return parsed


async def service(db, db_path, sandbox, client, officers: int = 1) -> DispatchService:
    await link_guild_in(db, sandbox)
    services = build_services(make_config(sandbox, db_path), db, client)
    for i in range(officers):
        await services.profiles.update(GUILD, OFFICER + i, callsign=f"UNIT-{i}")
    return services.dispatch
