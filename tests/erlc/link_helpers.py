"""The ER:LC link's service graph, built through bot/services.py against the PRC sandbox on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Config
from bot.erlc.client import PrcClient
from bot.erlc.keys import new_kek
from bot.erlc.sandbox import PrcSandbox
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.services import Services, build_services
from bot.storage import Database
from bot.storage.leases import LeasedServices
from tests.helpers.bot import make_config

KEK = new_kek()


class MsClock:
    """Epoch ms a test moves by hand (every time the ER:LC link stores comes from it)."""

    def __init__(self, ms: int = 1_764_000_000_000) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


def erlc_config(sandbox: NorthcaSandbox, db_path: Path | str, prc: PrcSandbox, **sections: dict[str, Any]) -> Config:
    erlc = {"key_encryption_key": KEK, "webhook_public_key": prc.public_key_b64, "base_url": prc.base_url}
    erlc.update(sections.pop("erlc", {}))
    return make_config(sandbox, db_path, erlc=erlc, **sections)


def graph(
    config: Config, db: Database, northca: NorthcaClient, prc_client: PrcClient, clock: MsClock | None = None
) -> Services:
    return build_services(
        config, db, northca, clock=clock or MsClock(), game=prc_client,
        game_rate_limits=lambda: str(prc_client.rate_limits()),
    )  # fmt: skip


def poller_lease(services: Services) -> LeasedServices:
    [lease] = [s for s in services.background if isinstance(s, LeasedServices) and s.name.startswith("erlc-poller")]
    return lease


def v2_reads(prc: PrcSandbox, key: str) -> list[Any]:
    return [r for r in prc.requests if r.path == "/v2/server" and r.headers.get("server-key") == key]
