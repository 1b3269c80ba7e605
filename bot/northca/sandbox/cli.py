"""Run the sandbox alone: `northca-bot sandbox` or `python -m bot.northca.sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import sys
from pathlib import Path

from bot.northca.sandbox.app import NorthcaSandbox
from bot.northca.sandbox.config import SandboxConfig, SandboxMdt


async def serve(config: SandboxConfig, host: str, port: int) -> None:
    sandbox = NorthcaSandbox(config)
    base_url = await sandbox.start(host, port)
    print(
        f"Northca sandbox on {base_url}  (send the headers x-partner-key: {config.partner_key}, "
        "x-discord-guild: <server id>, and x-discord-actor: <user id> where an actor is needed)",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def config_from_args(db: str, mdt_specs: list[str], *, auto_approve: bool) -> SandboxConfig:
    """The sandbox's configuration from its command line. MDTs given with --mdt are seeded; without --mdt a
    state file that already exists keeps its MDTs and their owners (only a new one gets the demo MDT)."""
    config = SandboxConfig(db_path=db, auto_approve_after=1.0 if auto_approve else None)
    if mdt_specs:
        config.mdts = [
            SandboxMdt(id=s.split(":", 1)[0], owner_discord_id=([*s.split(":", 1), None])[1]) for s in mdt_specs
        ]
    elif db != ":memory:" and Path(db).exists() and Path(db).stat().st_size > 0:
        config.mdts = []
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="northca-sandbox", description="Run the local Northca sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--db", default=":memory:", help="SQLite file for the sandbox's state (default: memory)")
    parser.add_argument("--mdt", action="append", default=[], metavar="ID[:OWNER_DISCORD_ID]", help="seed an MDT")
    parser.add_argument("--no-auto-approve", action="store_true", help="leave link requests pending")
    args = parser.parse_args(argv)
    config = config_from_args(args.db, args.mdt, auto_approve=not args.no_auto_approve)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(config, args.host, args.port))
        except OSError as exc:
            print(f"Cannot start the sandbox: {listen_problem(args.host, args.port, exc)}", file=sys.stderr)
            raise SystemExit(1) from None


def listen_problem(host: str, port: int, exc: OSError) -> str:
    """One line: why the sandbox cannot listen on host:port, and what to do."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another sandbox or bot running?): stop that program, "
            "or pass --port with another port (0 picks a free one)."
        )
    if exc.errno == errno.EACCES:
        return f"it may not listen on port {port} on {host} (permission denied): pass --port above 1024, or 0."
    return f"it cannot listen on {host}:{port} ({exc.strerror or exc}): pass --host or --port to change them."
