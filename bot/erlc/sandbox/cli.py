"""Run the PRC sandbox alone: `northca-bot erlc-sandbox` or `python -m bot.erlc.sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from bot.erlc.sandbox.app import PrcSandbox
from bot.erlc.sandbox.config import DEFAULT_SERVER_KEY, PrcSandboxConfig, SandboxServer
from bot.erlc.sandbox.script import load_script


async def serve(config: PrcSandboxConfig, host: str, port: int, script: str | None = None) -> None:
    sandbox = PrcSandbox(config)
    base_url = await sandbox.start(host, port)
    keys = ", ".join(s.key for s in config.servers) or "none (add one: POST /_sandbox/servers)"
    print(
        f"PRC sandbox on {base_url}  (send the header Server-Key: one of {keys}; "
        f"webhook public key: {sandbox.public_key_b64})",
        flush=True,
    )
    try:
        if script:
            await sandbox.play(load_script(script))
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="erlc-sandbox", description="Run the local PRC (ER:LC) API sandbox.")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--db", default=":memory:", help="SQLite file for the sandbox's state (default: memory)")
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="KEY[:NAME]",
        help=f"seed a private server (default without --server, on a new state: {DEFAULT_SERVER_KEY})",
    )
    parser.add_argument("--rate-limit", type=int, default=35, help="requests per window in the global bucket")
    parser.add_argument("--rate-window", type=int, default=1, help="the window in seconds")
    parser.add_argument("--global-key", action="append", default=[], help="a global key the sandbox accepts")
    parser.add_argument("--script", help="a JSON file of timed events to replay (see bot/erlc/sandbox/script.py)")


def config_from_args(args: argparse.Namespace) -> PrcSandboxConfig:
    servers = []
    for spec in args.server:
        key, _, name = spec.partition(":")
        servers.append(SandboxServer(key=key, name=name or "Sandbox Private Server"))
    if not servers and not (args.db != ":memory:" and Path(args.db).exists() and Path(args.db).stat().st_size > 0):
        # Only a new state gets the default server; a state file that exists keeps the servers it has.
        servers = [SandboxServer(key=DEFAULT_SERVER_KEY)]
    return PrcSandboxConfig(
        db_path=args.db,
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        global_keys=args.global_key,
        servers=servers,
    )


def main(argv: list[str] | None = None) -> None:
    run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config_from_args(args), args.host, args.port, args.script))
