"""The Northca sandbox in its own process, for the out-of-process benchmarks: by default one MDT, linked to the
benchmark's server, with a latency added to every answer (as a real Northca over the internet would have).

`--links FILE` replaces the default with many servers and MDTs (a JSON list of {"guild", "mdt", "owner"}: each
MDT is created once, each server linked to its MDT). `--summary FILE` writes, when the process stops, what it
received and stored: the requests by kind ("POST /v1/mdts/{id}/shifts 201": count) and the id of every shift
stored, per MDT, so a benchmark can check each shift is on Northca exactly once. `--accept-duplicate-shift-ids`
stores a second write of a shift too (sandbox-only), so a double write shows in that list instead of as a 409.
`--lost-answers N` makes the first N shift writes store the shift and answer 500 (the answer lost on the way, so
the bot must look the shift up before writing it again), `--failed-writes N` the next N answer 500 unwritten.

Every request it received is checked against the project's copy of the Northca spec when it stops (SIGTERM); a
violation is printed on stderr and the process exits with status 1.

Run: python -m bench.sandbox_proc [--latency-ms 150] [--links FILE] [--summary FILE] [--accept-duplicate-shift-ids]
(prints "READY <base URL>" on stdout when listening)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.gateway_discord import GUILD
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig
from bot.northca.sandbox.app import RecordedRequest
from tests.spec import validate_request

MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
OWNER = 222222222222222222
KEY = "bench-partner-key"
# Path segments that name one thing (uuids, snowflakes): folded into "{id}" so requests group by kind.
_ID_SEGMENT = re.compile(r"(?<=/)(?:[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|\d+)(?=/|$)")


@dataclass(frozen=True)
class Link:
    guild: int
    mdt: str
    owner: int


def read_links(path: Path) -> list[Link]:
    return [Link(int(e["guild"]), str(e["mdt"]), int(e["owner"])) for e in json.loads(path.read_text())]


def write_links(path: Path, links: Iterable[Link]) -> Path:
    path.write_text(json.dumps([{"guild": ln.guild, "mdt": ln.mdt, "owner": ln.owner} for ln in links]))
    return path


def request_kind(rec: RecordedRequest) -> str:
    """E.g. "POST /v1/mdts/{id}/shifts 201"."""
    return f"{rec.method} {_ID_SEGMENT.sub('{id}', rec.path)} {rec.status}"


def write_summary(path: Path, sandbox: NorthcaSandbox, requests: list[RecordedRequest]) -> None:
    mdts = [str(r[0]) for r in sandbox.db.execute("SELECT id FROM mdts ORDER BY id")]
    summary = {
        "requests": dict(Counter(request_kind(rec) for rec in requests)),
        "shift_ids": {mdt: [str(s["id"]) for s in sandbox.shifts(mdt)] for mdt in mdts},
    }
    path.write_text(json.dumps(summary))


@dataclass(frozen=True)
class ShiftWriteFaults:
    lost_answers: int = 0
    failed_writes: int = 0

    def apply(self, sandbox: NorthcaSandbox) -> None:
        if self.lost_answers:
            sandbox.faults.add("commit_then_500", self.lost_answers, path="/shifts$", method="POST")
        if self.failed_writes:
            sandbox.faults.add("500", self.failed_writes, path="/shifts$", method="POST")


async def serve(
    latency: float, links: list[Link], summary: Path | None, duplicates: bool, faults: ShiftWriteFaults
) -> int:
    config = SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[])
    sandbox = NorthcaSandbox(config)
    for link in links:
        sandbox.add_mdt(link.mdt, link.owner)
        sandbox.link(link.guild, link.mdt)
    if duplicates:
        sandbox.accept_duplicate_shift_ids()
    base_url = await sandbox.start()
    sandbox.faults.latency = latency
    faults.apply(sandbox)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        requests = list(sandbox.requests)
        if summary is not None:
            write_summary(summary, sandbox, requests)
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
    parser.add_argument("--links", type=Path, help="JSON list of {guild, mdt, owner}; default: the one server")
    parser.add_argument("--summary", type=Path, help="where to write the requests and stored shifts on stop")
    parser.add_argument("--accept-duplicate-shift-ids", action="store_true", help="store a shift's second write")
    parser.add_argument("--lost-answers", type=int, default=0, help="shift writes stored, answered 500")
    parser.add_argument("--failed-writes", type=int, default=0, help="then shift writes answered 500, not stored")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    links = read_links(args.links) if args.links else [Link(GUILD, MDT, OWNER)]
    faults = ShiftWriteFaults(args.lost_answers, args.failed_writes)
    code = asyncio.run(serve(args.latency_ms / 1000, links, args.summary, args.accept_duplicate_shift_ids, faults))
    raise SystemExit(code)


if __name__ == "__main__":
    main()
