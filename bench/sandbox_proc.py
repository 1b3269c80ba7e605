"""The Northca sandbox in its own process, for the out-of-process benchmarks: one MDT, linked to the benchmark's
server, with a latency added to every answer (as a real Northca over the internet would have).

Every request it received is checked against the project's copy of the Northca spec when it stops (SIGTERM); a
violation is printed on stderr and the process exits with status 1.

Run: python -m bench.sandbox_proc [--latency-ms 150]   (prints "READY <base URL>" on stdout when listening)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bench.gateway_discord import GUILD
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from tests.spec import validate_request

MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
OWNER = 222222222222222222
KEY = "bench-partner-key"


async def serve(latency: float) -> int:
    config = SandboxConfig(
        partner_key=KEY,
        auto_approve_after=None,
        mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))],
    )
    sandbox = NorthcaSandbox(config)
    base_url = await sandbox.start()
    sandbox.link(GUILD, MDT)
    sandbox.faults.latency = latency
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        requests = list(sandbox.requests)
        await sandbox.stop()
    for rec in requests:
        try:
            validate_request(rec.method, rec.path, rec.query, rec.headers, rec.body)
        except AssertionError as exc:
            print(f"spec violation: {exc}", file=sys.stderr)
            return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=150.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    raise SystemExit(asyncio.run(serve(args.latency_ms / 1000)))


if __name__ == "__main__":
    main()
