"""`northca-bot`: run (default), web (the dashboard alone), sandbox, erlc-sandbox, sync, check-config, backup,
health, migrate-db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import aiohttp
import discord
import discord.gateway
import yarl

from bot import __version__
from bot.config import DEFAULT_CONFIG_PATH, Config, ConfigError, load_config

log = logging.getLogger(__name__)


def _config_file(path: str | None) -> str | None:
    """The config file a command reads: the one named with --config, else config.toml when it exists."""
    if path is not None:
        return path
    return DEFAULT_CONFIG_PATH if Path(DEFAULT_CONFIG_PATH).exists() else None


def _load(path: str | None, *, require_token: bool = True) -> Config:
    """`path`: --config (None: the default config.toml, optional when the environment supplies everything)."""
    try:
        return load_config(path, require_token=require_token)
    except ConfigError as exc:
        file = _config_file(path)
        if file is None:
            header = f"Configuration problems (no {DEFAULT_CONFIG_PATH} here; settings from the environment):"
        else:
            header = f"Configuration problems in {file}:"
        print(header, file=sys.stderr)
        for line in exc.problems:
            print(f"  - {line}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    file = _config_file(args.config)
    source = file or f"no {DEFAULT_CONFIG_PATH} (settings from the environment)"
    where = "the LOCAL sandbox (no partner key set)" if config.uses_sandbox else config.northca.base_url
    print(f"{source}: OK. Northca: {where}. Database: {config.database.where}.")
    if config.database.both_set_note:
        print(f"Note: {config.database.both_set_note}.")
    if not args.online:
        return 0
    from bot.checks import check_online

    _use_test_discord()
    results = asyncio.run(check_online(config))
    for _, line in results:
        print(line)
    return 0 if all(ok for ok, _ in results) else 1


# Test-only: point discord.py's REST calls at a local fake Discord (tests/harness). Never set it in production.
TEST_DISCORD_API_ENV = "NORTHCA_BOT_TEST_DISCORD_API"
LOG_LEVEL_ENV = "NORTHCA_BOT_LOG_LEVEL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Libraries that flood at DEBUG (every gateway frame, every SQL statement): kept at INFO or above.
_CHATTY_LIBRARIES = ("discord", "aiohttp", "aiosqlite", "asyncio")


def setup_logging(level_name: str) -> None:
    level = getattr(logging, level_name)
    if sys.stderr.isatty():
        discord.utils.setup_logging(level=level)  # colours on a terminal
    else:
        # Plain lines for journald, docker logs and files.
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.INFO))


def _use_test_discord() -> None:
    base = os.environ.get(TEST_DISCORD_API_ENV)
    if base:
        discord.http.Route.BASE = base
        # The gateway too, so a test bot never resolves Discord's host names (the fake has no gateway).
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1))


async def _run(config: Config) -> None:
    from bot.bot import make_bot
    from bot.shutdown import run_until_signalled

    bot = make_bot(config)
    token = config.discord.token.get_secret_value() if config.discord.token else ""
    async with bot:
        await run_until_signalled(bot, token)


def _log_level(args: argparse.Namespace) -> str | None:
    """--log-level, else $NORTHCA_BOT_LOG_LEVEL, else INFO; None (after one line on stderr) for a bad variable."""
    if args.log_level:
        return str(args.log_level)
    value = os.environ.get(LOG_LEVEL_ENV)
    if value is None or not value.strip():
        return "INFO"
    if value.strip().upper() not in LOG_LEVELS:
        print(
            f"{LOG_LEVEL_ENV}: {value!r} is not a log level: use DEBUG, INFO, WARNING or ERROR (or unset it).",
            file=sys.stderr,
        )
        return None
    return value.strip().upper()


def cmd_run(args: argparse.Namespace) -> int:
    level = _log_level(args)
    if level is None:
        return 2
    config = _load(args.config)
    from bot.startup import StartupError

    setup_logging(level)
    if config.database.both_set_note:
        log.warning("%s", config.database.both_set_note)
    _use_test_discord()
    try:
        asyncio.run(_run(config))
    except StartupError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    except discord.LoginFailure:
        print("Discord refused the bot token. Check [discord] token or DISCORD_TOKEN.", file=sys.stderr)
        return 1
    except discord.PrivilegedIntentsRequired:
        print("Enable the Server Members intent for this bot in the Discord developer portal.", file=sys.stderr)
        return 1
    except (aiohttp.ClientConnectionError, OSError) as exc:
        print(f"Cannot reach Discord ({type(exc).__name__}). Check this machine's network.", file=sys.stderr)
        return 1
    return 0


async def _web(config: Config) -> None:
    from bot.dashboard.process import DashboardProcess
    from bot.shutdown import wait_for_signal

    process = DashboardProcess(config, discord_api_base=discord.http.Route.BASE)
    await process.start()
    try:
        await wait_for_signal()
    finally:
        await process.stop()


def cmd_web(args: argparse.Namespace) -> int:
    """The dashboard in its own process over the bot's database (bot/dashboard/process.py)."""
    level = _log_level(args)
    if level is None:
        return 2
    config = _load(args.config)
    setup_logging(level)
    _use_test_discord()
    try:
        asyncio.run(_web(config))
    except OSError as exc:
        print(f"Cannot start the dashboard: {type(exc).__name__}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _sync(config: Config, guild_id: int | None, clear: bool) -> str:
    from bot.bot import NorthcaBot
    from bot.commands_sync import publish, remove

    bot = NorthcaBot(config)
    bot.publish_only = True  # only publishes: no database migration, no sandbox, no background work
    async with bot:
        await bot.login(config.discord.token.get_secret_value() if config.discord.token else "")
        where = "globally" if guild_id is None else f"from guild {guild_id}"
        if clear:
            await remove(bot.tree, guild_id)
            return f"Removed the bot's commands {where}."
        count = await publish(bot.tree, guild_id)
    if guild_id is None:
        return f"Published {count} commands globally (Discord may take up to an hour to show them)."
    return f"Published {count} commands to guild {guild_id} (visible at once)."


def cmd_sync(args: argparse.Namespace) -> int:
    config = _load(args.config)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _use_test_discord()
    try:
        print(asyncio.run(_sync(config, args.guild, args.clear)))
    except discord.LoginFailure:
        print("Discord refused the bot token. Check [discord] token or DISCORD_TOKEN.", file=sys.stderr)
        return 1
    except discord.Forbidden:
        print(
            "Discord refused: invite the bot to that server with the applications.commands scope "
            "(see the invite link in the README).",
            file=sys.stderr,
        )
        return 1
    except discord.HTTPException as exc:
        print(f"Discord answered HTTP {exc.status} ({exc.text[:200]}). Try again later.", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, OSError) as exc:
        print(
            f"Cannot reach Discord ({type(exc).__name__}). Check this machine's network and try again.", file=sys.stderr
        )
        return 1
    return 0


def _health_url(args: argparse.Namespace) -> str | None:
    """--url, else the endpoint the config (or NORTHCA_BOT_HEALTH_PORT) gives the bot; None: none is configured."""
    if args.url:
        return str(args.url)
    section = _load(args.config, require_token=False).health
    if not section.port:  # None: no endpoint; 0: a free port the bot picked, unknown here
        return None
    host = "127.0.0.1" if section.host in ("0.0.0.0", "") else "::1" if section.host == "::" else section.host
    return f"http://{f'[{host}]' if ':' in host else host}:{section.port}/health"


def cmd_health(args: argparse.Namespace) -> int:
    from bot.health import probe

    url = _health_url(args)
    if url is None:
        print(
            "unhealthy: no health endpoint is configured: set [health] port (or NORTHCA_BOT_HEALTH_PORT) to a fixed "
            "port and restart the bot, or pass --url",
            file=sys.stderr,
        )
        return 1
    healthy, line = asyncio.run(probe(url))
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup_database, backup_postgresql

    config = _load(args.config, require_token=False)
    try:
        if config.database.url:
            # Never the SQLite file at [database] path: the bot's data is in PostgreSQL.
            print(backup_postgresql(config.database.url, args.path))
            return 0
        pages, written = backup_database(config.database.path, args.path)
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {config.database.path} to {written} ({pages} pages), consistent while the bot runs.")
    return 0


def cmd_migrate_db(args: argparse.Namespace) -> int:
    from bot.storage import DATABASE_ERRORS, redact_url
    from bot.storage.copy import CopyError, copy_database, demo_sandbox_note

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = asyncio.run(copy_database(args.source, args.target, force=args.force))
    except CopyError as exc:
        print(f"Not copied: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Not copied: {type(exc).__name__}: {redact_url(str(exc))}", file=sys.stderr)
        return 1
    except DATABASE_ERRORS as exc:
        # The driver's message may quote the URL: shown without its password.
        print(f"Not copied: {type(exc).__name__}: {redact_url(str(exc))}", file=sys.stderr)
        return 1
    different = [r.name for r in results if not r.equal]
    if different:
        print(f"The copy differs from the source in: {', '.join(different)}", file=sys.stderr)
        return 1
    print(f"Copied and verified {len(results)} tables ({sum(r.target_rows for r in results)} rows).")
    sandbox_note = demo_sandbox_note(args.source, args.target)
    if sandbox_note:
        print(sandbox_note)
    return 0


async def _rotate_kek(config: Config) -> tuple[int, int]:
    from bot.erlc.keys import KeyVault, rotate_stored_keys
    from bot.erlc.store import ErlcStore
    from bot.storage import Database

    section = config.erlc
    assert section.key_encryption_key is not None
    vault = KeyVault(
        section.key_encryption_key.get_secret_value(),
        [k.get_secret_value() for k in section.previous_key_encryption_keys],
    )
    db = Database(config.database.target)
    await db.open()
    try:
        return await rotate_stored_keys(ErlcStore(db), vault)
    finally:
        await db.close()


def cmd_erlc_rotate_kek(args: argparse.Namespace) -> int:
    """Re-encrypts every stored ER:LC server key under [erlc] key_encryption_key (the old KEK in
    previous_key_encryption_keys); safe while the bot runs (each key replaced only if unchanged meanwhile)."""
    from bot.erlc.keys import KeyVaultError
    from bot.storage import DATABASE_ERRORS, redact_url

    config = _load(args.config, require_token=False)
    if config.erlc.key_encryption_key is None:
        print("[erlc] key_encryption_key (or ERLC_KEK) is not set: nothing to rotate to.", file=sys.stderr)
        return 2
    try:
        done, total = asyncio.run(_rotate_kek(config))
    except KeyVaultError as exc:
        print(f"Nothing changed: {exc}.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Nothing changed: {type(exc).__name__}: {redact_url(str(exc))}", file=sys.stderr)
        return 1
    except DATABASE_ERRORS as exc:
        print(f"Nothing changed: {type(exc).__name__}: {redact_url(str(exc))}", file=sys.stderr)
        return 1
    print(
        f"Re-encrypted {done} of {total} stored ER:LC server keys under the current key-encryption key."
        + (" Remove the old key from [erlc] previous_key_encryption_keys." if done == total else " Run it again.")
    )
    return 0 if done == total else 1


def cmd_erlc_new_kek(args: argparse.Namespace) -> int:
    from bot.erlc.keys import new_kek

    print(new_kek())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.northca import sandbox

    argv = ["--host", args.host, "--port", str(args.port), "--db", args.db]
    for mdt in args.mdt:
        argv += ["--mdt", mdt]
    if args.no_auto_approve:
        argv.append("--no-auto-approve")
    sandbox.main(argv)
    return 0


def cmd_erlc_sandbox(args: argparse.Namespace) -> int:
    from bot.erlc.sandbox import cli

    cli.run(args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="northca-bot", description="Northca Duty Bot")
    parser.add_argument("--version", action="version", version=f"northca-bot {__version__}")
    sub = parser.add_subparsers(dest="command")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--config",
            "-c",
            default=None,
            help="path to the TOML config, which must exist (default: config.toml, optional when the environment "
            "supplies the token)",
        )
        return p

    run = with_config(sub.add_parser("run", help="run the bot (default)"))
    run.add_argument(
        "--log-level",
        default=None,
        type=str.upper,
        choices=LOG_LEVELS,
        help=f"default: ${LOG_LEVEL_ENV} or INFO",
    )
    run.set_defaults(func=cmd_run)
    web = with_config(
        sub.add_parser("web", help="serve the web dashboard alone, over the bot's database ([web] in the config)")
    )
    web.add_argument(
        "--log-level", default=None, type=str.upper, choices=LOG_LEVELS, help=f"default: ${LOG_LEVEL_ENV} or INFO"
    )
    web.set_defaults(func=cmd_web)
    check = with_config(sub.add_parser("check-config", help="validate a config file and say what is wrong"))
    check.add_argument(
        "--online",
        action="store_true",
        help="also check the token with Discord, the partner key with Northca, and the database path",
    )
    check.set_defaults(func=cmd_check_config)
    sync = with_config(sub.add_parser("sync", help="publish the slash commands to Discord"))
    sync.add_argument("--guild", type=int, help="publish to this guild only (instant); default: globally")
    sync.add_argument(
        "--clear",
        "--remove",
        action="store_true",
        dest="clear",
        help="remove the published commands from --guild (or the global ones), e.g. after testing in one server",
    )
    sync.set_defaults(func=cmd_sync)
    backup = with_config(sub.add_parser("backup", help="copy the database safely while the bot runs"))
    backup.add_argument("path", help="the backup file to write (or a directory)")
    backup.set_defaults(func=cmd_backup)
    health = with_config(
        sub.add_parser("health", help="ask the running bot's health endpoint; exit 0 when healthy, 1 if not")
    )
    health.add_argument("--url", help="default: the [health] host and port of the config (or NORTHCA_BOT_HEALTH_PORT)")
    health.set_defaults(func=cmd_health)
    move = sub.add_parser(
        "migrate-db", help="copy every table from one database to another (SQLite <-> PostgreSQL), verified"
    )
    move.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH|postgresql://…")
    move.add_argument("--to", dest="target", required=True, metavar="postgresql://…|sqlite:PATH")
    move.add_argument("--force", action="store_true", help="replace the rows of a target that already holds data")
    move.set_defaults(func=cmd_migrate_db)
    rotate = with_config(
        sub.add_parser(
            "erlc-rotate-kek",
            help="re-encrypt every stored ER:LC server key under [erlc] key_encryption_key "
            "(the old one in previous_key_encryption_keys)",
        )
    )
    rotate.set_defaults(func=cmd_erlc_rotate_kek)
    kek = sub.add_parser("erlc-new-kek", help="print a new key-encryption key for [erlc] key_encryption_key")
    kek.set_defaults(func=cmd_erlc_new_kek)
    sb = sub.add_parser("sandbox", help="run the local Northca sandbox alone")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=8787)
    sb.add_argument("--db", default=":memory:")
    sb.add_argument("--mdt", action="append", default=[], metavar="ID[:OWNER_DISCORD_ID]")
    sb.add_argument("--no-auto-approve", action="store_true")
    sb.set_defaults(func=cmd_sandbox)
    erlc = sub.add_parser("erlc-sandbox", help="run the local PRC (ER:LC) API sandbox alone")
    from bot.erlc.sandbox.cli import add_arguments as add_erlc_sandbox_arguments

    add_erlc_sandbox_arguments(erlc)
    erlc.set_defaults(func=cmd_erlc_sandbox)
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")  # `run` is the default command
    args = parser.parse_args(argv)
    raise SystemExit(args.func(args))


if __name__ == "__main__":
    main()
