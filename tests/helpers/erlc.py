"""ER:LC builders: the PRC sandbox with one game server, the ER:LC service graph built through bot/ops/services.py
(without Discord), connecting a server through /erlc connect's form, and readers of what the PRC sandbox received.
The bot's [erlc] section against a PRC sandbox is `make_config(..., game=prc)` / `start_bot(game=prc)`
(tests/helpers/bot.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bot.core.config import Config
from bot.erlc.client import PrcClient
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig, RecordedRequest
from bot.northca.client import NorthcaClient
from bot.ops.services import Services, build_services
from bot.storage import Database
from bot.storage.leases import LeasedServices
from tests.harness import Harness, Reply
from tests.helpers.clock import Clock
from tests.helpers.ids import ADMIN_M, GUILD

# The label of the server key's field in /erlc connect's form.
SERVER_KEY_FIELD = "Server key (server settings → API key)"


@asynccontextmanager
async def prc_sandbox(server_key: str, config: PrcSandboxConfig | None = None) -> AsyncIterator[PrcSandbox]:
    """The PRC sandbox on loopback with one game server ("Sunset County RP", 40 slots) behind `server_key`."""
    sandbox = PrcSandbox(config or PrcSandboxConfig())
    await sandbox.start()
    sandbox.add_server(server_key, name="Sunset County RP", owner_id=7001, max_players=40)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def game_services(
    config: Config, db: Database, northca: NorthcaClient, prc_client: PrcClient, clock: Callable[[], int] | None = None
) -> Services:
    """The services as bot/ops/services.py builds them with the game client `prc_client` (on a `Clock` by default)."""
    return build_services(
        config, db, northca, clock=clock or Clock(), game=prc_client,
        game_rate_limits=lambda: str(prc_client.rate_limits()),
    )  # fmt: skip


def poller_lease(services: Services) -> LeasedServices:
    """The lease under which the ER:LC poller runs."""
    [lease] = [s for s in services.background if isinstance(s, LeasedServices) and s.name.startswith("erlc-poller")]
    return lease


def v2_reads(prc: PrcSandbox, key: str) -> list[RecordedRequest]:
    """The v2 server reads the PRC sandbox received with the server key `key`."""
    return [r for r in prc.requests if r.path == "/v2/server" and r.headers.get("server-key") == key]


async def connect_game(h: Harness, key: str, member: Mapping[str, Any] = ADMIN_M, guild_id: int = GUILD) -> Reply:
    """/erlc connect, its form submitted with `key`: the final answer."""
    form = await h.slash("erlc connect", member=member, guild_id=guild_id)
    assert form.modal is not None
    return await (await h.submit_modal(form, {SERVER_KEY_FIELD: key}, member=member)).final()
