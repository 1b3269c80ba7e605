"""Server keys at rest and the life of ER:LC data: `northca-bot erlc-rotate-kek` re-encrypts every stored key
under the new key-encryption key; /settings delete-data removes every ER:LC row; the presence history is
pruned after each server's retention (scheduled work, on the injected clock)."""

from __future__ import annotations

import json

import pytest

from bot.core.settings.store import GUILD_TABLES
from bot.erlc.keys import KeyVault, KeyVaultError, new_kek
from bot.erlc.sandbox import PrcSandbox
from bot.erlc.store import ERLC_GUILD_TABLES
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.cli import main
from bot.storage import Database
from tests.erlc.conftest import OTHER_KEY, SERVER_KEY
from tests.helpers.bot import KEK, database_section, make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OTHER_GUILD

pytestmark = pytest.mark.asyncio
DAY_S = 24 * 60 * 60


def config_file(tmp_path, db_path, current: str, previous: list[str]) -> str:
    db = database_section(db_path)
    key, value = next(iter(db.items()))
    path = tmp_path / "rotate.toml"
    path.write_text(
        f"[database]\n{key} = {json.dumps(value)}\n[erlc]\nkey_encryption_key = {json.dumps(current)}\n"
        f"previous_key_encryption_keys = {json.dumps(previous)}\n",
        encoding="utf-8",
    )
    return str(path)


async def test_rotate_kek_reencrypts_every_stored_key(
    sandbox: NorthcaSandbox,
    db_path,
    db: Database,
    client: NorthcaClient,
    prc: PrcSandbox,
    prc_client,
    tmp_path,
    capsys: pytest.CaptureFixture[str],
):
    services = game_services(make_config(sandbox, db_path, game=prc), db, client, prc_client)
    prc.add_server(OTHER_KEY, name="Other RP")
    for key, guild_id in ((SERVER_KEY, GUILD), (OTHER_KEY, OTHER_GUILD)):
        prc.join(key, 900, "Someone")
        await services.erlc.connect(guild_id, ADMIN, key)
    new = new_kek()

    # Without the old KEK among the previous ones: refused, nothing changed.
    with pytest.raises(SystemExit) as refused:
        await _run(main, ["erlc-rotate-kek", "-c", config_file(tmp_path, db_path, new, [])])
    assert refused.value.code == 1 and "Nothing changed" in capsys.readouterr().err
    assert {KeyVault(KEK).decrypt(c) for _, c in await services.erlc.store.all_ciphers()} == {SERVER_KEY, OTHER_KEY}

    with pytest.raises(SystemExit) as done:
        await _run(main, ["erlc-rotate-kek", "-c", config_file(tmp_path, db_path, new, [KEK])])
    out = capsys.readouterr()
    assert done.value.code == 0 and "Re-encrypted 2 of 2" in out.out
    assert SERVER_KEY not in out.out + out.err and OTHER_KEY not in out.out + out.err
    ciphers = [c for _, c in await services.erlc.store.all_ciphers()]
    assert {KeyVault(new).decrypt(c) for c in ciphers} == {SERVER_KEY, OTHER_KEY}
    with pytest.raises(KeyVaultError):
        KeyVault(KEK).decrypt(ciphers[0])


async def _run(func, argv):
    """The CLI runs its own event loop: run it in a thread, as from a shell."""
    import asyncio

    return await asyncio.to_thread(func, argv)


async def test_delete_data_removes_every_erlc_row(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, prc_client
):
    assert set(ERLC_GUILD_TABLES) <= set(GUILD_TABLES)
    services = game_services(make_config(sandbox, db_path, game=prc), db, client, prc_client)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await services.erlc.poll(GUILD)
    await services.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    await services.erlc.new_code(GUILD, OFFICER)
    await services.erlc.store.set_board(GUILD, 5, 6)
    counts = {t: len(await db.fetchall(f"SELECT * FROM {t} WHERE guild_id = ?", (GUILD,))) for t in ERLC_GUILD_TABLES}
    assert all(counts[t] for t in ("erlc_servers", "erlc_presence", "erlc_presence_history", "erlc_links"))

    await services.settings.delete_guild_data(GUILD, ADMIN)
    for table in ERLC_GUILD_TABLES:
        assert await db.fetchall(f"SELECT * FROM {table} WHERE guild_id = ?", (GUILD,)) == [], table


async def test_presence_history_is_pruned_after_the_servers_retention(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, prc_client
):
    clock = Clock()
    services = game_services(make_config(sandbox, db_path, game=prc), db, client, prc_client, clock)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A")
    await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await services.erlc.poll(GUILD)  # the join, at day 0
    await services.settings.set_erlc_presence_days(GUILD, ADMIN, 30)
    clock.advance(20 * DAY_S)
    prc.set_team(SERVER_KEY, 101, "Fire")
    await services.erlc.poll(GUILD)  # the team change, at day 20

    prune = next(s for s in services.background if type(s).__name__ == "LeasedServices" and s.name == "scheduler")
    [presence_prune] = [s for s in prune.services if type(s).__name__ == "PresencePrune"]
    clock.advance(15 * DAY_S)  # day 35: the join is past 30 days, the team change is not
    assert await presence_prune.run_once() == 1
    assert [c.kind for c in await services.erlc.history(GUILD)] == ["team"]
    # Who is in game now is not history: kept.
    assert [e.team for e in await services.erlc.presence(GUILD)] == ["Fire"]
    clock.advance(20 * DAY_S)
    assert await presence_prune.run_once() == 1 and await services.erlc.history(GUILD) == []
    # The default is 90 days.
    assert services.settings.get(OTHER_GUILD).erlc_presence_days == 90
