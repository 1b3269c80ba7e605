"""The one booted-bot builder: the real NorthcaBot, on the offline Discord, against the Northca sandbox, on the
test's database (SQLite, or PostgreSQL on the PostgreSQL pass), with the config sections a test says differ.

The `start_bot` fixture (tests/conftest.py) hands a test a `BotStarter`; calling it boots a bot and returns its
`Harness` with GUILD added. Call it again after `await h.bot.close()` to restart on the same database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from bot.core.config import Config, parse_config
from bot.core.links import LinkStore
from bot.core.timefmt import now_ms
from bot.discord.bot import EXTENSIONS, NorthcaBot
from bot.erlc.keys import new_kek
from bot.erlc.sandbox import PrcSandbox
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.harness import FakeDiscord, Harness
from tests.helpers.ids import ADMIN, GUILD, KEY, MDT, OWNER

# One config section's values, as a config file would give them.
Section = Mapping[str, object]

# The ER:LC key encryption key of every test bot (keys stored by one test bot are read by its restart).
KEK: Final = new_kek()
# [web]: the web server on a free loopback port, behind a public https address.
WEB: Final[Section] = {"port": 0, "public_base_url": "https://bot.example.org"}


def database_section(db_path: Path | str) -> dict[str, str]:
    """[database] for the `db_path` fixture: a SQLite file, or a PostgreSQL URL on the PostgreSQL pass. With a URL,
    `path` too, in a folder of that test database's own: the demo sandbox keeps its state beside [database] path
    on PostgreSQL as well, and one test's links must not show in another's."""
    if not isinstance(db_path, str):
        return {"path": str(db_path)}
    folder = Path(tempfile.gettempdir()) / "northca-test-databases" / db_path.rsplit("/", 1)[-1]
    return {"url": db_path, "path": str(folder / "bot.sqlite3")}


def erlc_section(prc: PrcSandbox) -> dict[str, object]:
    """[erlc] against the PRC sandbox `prc`: its address, its webhook signing key, the test key encryption key."""
    return {"key_encryption_key": KEK, "webhook_public_key": prc.public_key_b64, "base_url": prc.base_url}


def make_config(
    sandbox: NorthcaSandbox, db_path: Path | str, *, game: PrcSandbox | None = None, **sections: Section
) -> Config:
    """The bot's config against `sandbox` and a database at `db_path`, with [erlc] against `game` when given;
    `sections` override per section (values merge into the section)."""
    data: dict[str, dict[str, object]] = {
        "discord": {"token": "test-bot-token"},
        "northca": {"base_url": sandbox.base_url, "partner_key": KEY, "timeout_seconds": 2.0, "deadline_seconds": 5.0},
        "database": dict(database_section(db_path)),
    }
    if game is not None:
        data["erlc"] = erlc_section(game)
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(dict(data), env={})


async def link_guild_in(db: Database, sandbox: NorthcaSandbox, guild_id: int = GUILD, mdt_id: str = MDT) -> None:
    """An approved link, as left by /link and the owner's approval (for tests of other commands)."""
    sandbox.link(guild_id, mdt_id)
    await LinkStore(db).save_request(guild_id, mdt_id, "test-request", "approved", OWNER, ADMIN, None)


async def link_guild(bot: NorthcaBot, sandbox: NorthcaSandbox, guild_id: int = GUILD, mdt_id: str = MDT) -> None:
    """`link_guild_in` on a running bot's database."""
    await link_guild_in(bot.db, sandbox, guild_id, mdt_id)


class BotStarter:
    """Boots real bots against one fake Discord, one Northca sandbox and one database; closes them at the end."""

    def __init__(self, sandbox: NorthcaSandbox, fake: FakeDiscord, db_path: Path | str) -> None:
        self.sandbox = sandbox
        self.fake = fake
        self.db_path = db_path
        self.bots: list[NorthcaBot] = []

    async def __call__(
        self,
        config: Config | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        clock: Callable[[], int] = now_ms,
        *,
        game: PrcSandbox | None = None,
        **sections: Section,
    ) -> Harness:
        """A booted bot with GUILD ("Test County RP", owned by ADMIN). `config`: the whole config (else
        `make_config` with `game` and `sections`); `clock`: a `Clock` for a test that moves time."""
        config = config or make_config(self.sandbox, self.db_path, game=game, **sections)
        bot = NorthcaBot(config, extensions=extensions, clock=clock)
        await bot.__aenter__()
        await bot.login("test-bot-token")
        self.bots.append(bot)
        harness = Harness(bot, self.fake)
        harness.add_guild(GUILD, name="Test County RP", owner_id=ADMIN)
        return harness

    async def close_all(self) -> None:
        for bot in self.bots:
            if not bot.is_closed():
                await bot.close()


def northca_bot(h: Harness) -> NorthcaBot:
    """The harness's bot as what it is (the harness drives any discord.py client)."""
    assert isinstance(h.bot, NorthcaBot)
    return h.bot
