"""The process's event loop and garbage collector (bot/ops/runtime.py): asyncio's own loop always works, uvloop is used
when configured or (with "auto") installed, and a missing uvloop is a clear configuration error; the bot's own process
settles its heap before the gateway connects."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
from pathlib import Path

import pytest

from bot.core.config import ConfigError, parse_config
from bot.discord.bot import NorthcaBot
from bot.northca.sandbox import NorthcaSandbox
from bot.ops import runtime
from tests.bot.test_config import run_cli
from tests.harness import FakeDiscord
from tests.helpers.bot import make_config

UVLOOP_INSTALLED = importlib.util.find_spec("uvloop") is not None


async def loop_module() -> str:
    await asyncio.sleep(0)  # the loop really runs: timers, a task switch
    return type(asyncio.get_running_loop()).__module__


def test_asyncio_loop_runs_the_coroutine_on_asyncios_own_loop():
    assert runtime.run(loop_module(), "asyncio").startswith("asyncio")


def test_auto_takes_uvloop_exactly_when_it_is_installed():
    module = runtime.run(loop_module(), "auto")
    assert module.startswith("uvloop") == UVLOOP_INSTALLED, module


def test_the_config_default_is_auto_and_uvloop_is_refused_when_not_installed():
    assert parse_config({"discord": {"token": "t"}}, env={}).bot.event_loop == "auto"
    assert parse_config({"discord": {"token": "t"}, "bot": {"event_loop": "asyncio"}}, env={}).bot.event_loop == (
        "asyncio"
    )
    chosen = {"discord": {"token": "t"}, "bot": {"event_loop": "uvloop"}}
    if UVLOOP_INSTALLED:
        assert parse_config(chosen, env={}).bot.event_loop == "uvloop"
        assert runtime.run(loop_module(), "uvloop").startswith("uvloop")
    else:
        with pytest.raises(ConfigError) as refused:
            parse_config(chosen, env={})
        assert "bot.event_loop: uvloop is not installed: pip install uvloop" in str(refused.value)
    with pytest.raises(ConfigError) as unknown:
        parse_config({"discord": {"token": "t"}, "bot": {"event_loop": "trio"}}, env={})
    assert "bot.event_loop" in str(unknown.value)


def test_check_config_names_a_missing_uvloop_in_one_line(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[discord]\ntoken = 't0ken'\n[bot]\nevent_loop = 'uvloop'\n", encoding="utf-8")
    result = run_cli("check-config", "--config", str(config))
    if UVLOOP_INSTALLED:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "bot.event_loop: uvloop is not installed" in result.stdout + result.stderr


def test_settle_heap_freezes_what_is_alive_and_collects_young_objects_less_often():
    before = gc.get_threshold()
    try:
        runtime.settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (runtime.YOUNG_THRESHOLD, *runtime.OLDER_THRESHOLDS)
        # Cycles made after it are still collected.
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_the_bots_own_process_settles_its_heap_before_the_gateway_connects(
    sandbox: NorthcaSandbox, fake_discord: FakeDiscord, db_path: Path
) -> None:
    """Interactions can arrive before on_ready (discord.py waits for the guilds first): `northca-bot run` settles
    start-up's heap once setup_hook is done, not only once ready (a 200-officer rush right after a start cost 1.5-2.1
    ms of CPU per start under CPython's default collector, 0.9-1.4 ms settled; bench.interactions)."""
    before = gc.get_threshold()
    bot = NorthcaBot(make_config(sandbox, db_path), extensions=(), settle_heap_when_ready=True)
    try:
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)  # CPython's defaults, as in a fresh process
        await bot.__aenter__()
        await bot.login("test-bot-token")  # runs setup_hook; the gateway is not connected
        assert not bot.is_ready()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (runtime.YOUNG_THRESHOLD, *runtime.OLDER_THRESHOLDS)
    finally:
        await bot.close()
        gc.unfreeze()
        gc.set_threshold(*before)
