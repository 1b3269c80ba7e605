"""The Northca sandbox in its own process, for the out-of-process benchmarks: one MDT, linked to the benchmark's
server, with a latency added to every answer (as a real Northca over the internet would have).

Run: python -m bench.sandbox_proc [--latency-ms 150]   (prints "READY <base URL>" on stdout when listening)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bench.gateway_discord import GUILD
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt

MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
OWNER = 222222222222222222
KEY = "bench-partner-key"


async def serve(latency: float) -> None:
    config = SandboxConfig(
        partner_key=KEY,
        auto_approve_after=None,
        record_requests=False,  # a long benchmark would otherwise fill memory with request records
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
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=150.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.latency_ms / 1000))


if __name__ == "__main__":
    main()
