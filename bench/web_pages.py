"""Dashboard pages at community scale, and the bot's interactions while the dashboard is busy.

One server with 500 members and 200,000 past shifts (generated straight into the database the bot migrated,
bench/duty_scale.py), the real bot on the offline Discord harness with its dashboard mounted (`[web] enabled`),
logged in through the fake Discord's OAuth2. Printed:
- p50/p99 of the leaderboard (this week, all time) and the shifts page (newest, deep keyset pages, one member)
  over HTTP on loopback, each page rendered whole (the chart too);
- the bot's interaction latency (`/shift start` then `/shift end` through the harness: time to Discord's first
  answer) without load, then while several clients load the dashboard's pages in the same process, and the ratio;
- consistency: the leaderboard page's figures are the service's, a walk of one member's shifts through the keyset
  pages gives each of their shifts once, and every interaction's shift is stored exactly once.

Run:  python -m bench.web_pages  [--members 500] [--shifts 200000] [--requests 60] [--officers 40] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.duty_scale import GUILD, generate
from bench.shift_rush import ack_ms, percentile
from bot.core.config import parse_config
from bot.core.duty import period_for
from bot.core.links import LinkStore
from bot.core.timefmt import duration_text, now_ms
from bot.discord.bot import NorthcaBot
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from bot.storage import Database
from tests.harness import FakeDiscord, FakeOAuth, Harness, builders

ADMIN = 333333333333333333
OWNER = 222222222222222222
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
KEY = "bench-partner-key"
CLIENT_ID = 987654321098765432
CLIENT_SECRET = "bench-client-secret"
FIRST_OFFICER = 910000000000000000
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
SEEDED_MEMBER = 1007  # one of the generated members (1000..1499)


async def fetch(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        text = await response.text()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {text[:200]}")
        return text


async def run(members: int, shifts: int, requests: int, officers: int, clients: int) -> dict[str, Any]:
    sandbox = NorthcaSandbox(
        SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))])
    )
    await sandbox.start()
    tmp = tempfile.TemporaryDirectory(prefix="web-pages-")
    path = Path(tmp.name) / "bot.sqlite3"
    out: dict[str, Any] = {}
    try:
        migrated = Database(path)
        await migrated.open()
        await migrated.close()
        seeded_at = time.perf_counter()
        generate(path, members, shifts, now_ms())
        out["seed_s"] = time.perf_counter() - seeded_at
        async with FakeDiscord() as fake:
            config = parse_config(
                {
                    "discord": {"token": "bench-token"},
                    "northca": {"base_url": sandbox.base_url, "partner_key": KEY},
                    "database": {"path": str(path)},
                    "web": {"enabled": True, "port": 0, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
                },
                env={},
            )
            bot = NorthcaBot(config)
            await bot.__aenter__()
            await bot.login("bench-token")
            try:
                out.update(await _measure(bot, fake, sandbox, requests, officers, clients))
            finally:
                await bot.close()
    finally:
        await sandbox.stop()
        tmp.cleanup()
    return out


async def _measure(
    bot: NorthcaBot, fake: FakeDiscord, sandbox: NorthcaSandbox, requests: int, officers: int, clients: int
) -> dict[str, Any]:
    h = Harness(bot, fake, timeout=60.0)
    people = [
        builders.member(FIRST_OFFICER + i, permissions=MEMBER_PERMS, username=f"officer{i:03d}")
        for i in range(2 * officers)
    ]
    h.add_guild(GUILD, name="Bench County RP", owner_id=ADMIN, members=people)
    sandbox.link(GUILD, MDT)
    await LinkStore(bot.db).save_request(GUILD, MDT, "bench-request", "approved", OWNER, ADMIN, None)
    server = bot.services.web
    if server is None:
        raise RuntimeError("the web server did not start: [web] enabled is not honoured")
    oauth = FakeOAuth(fake, bot)
    oauth.add_client(CLIENT_ID, CLIENT_SECRET, f"{server.base_url}/dashboard/auth/callback")
    oauth.add_user(ADMIN, "admin")
    base = f"{server.base_url}/dashboard/g/{GUILD}"
    sessions: list[aiohttp.ClientSession] = []
    try:
        for _ in range(clients + 1):
            session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            sessions.append(session)
            oauth.signed_in = ADMIN
            async with session.get(f"{server.base_url}/dashboard/login") as response:
                if response.status != 200:
                    raise RuntimeError(f"login failed: {response.status}")
        main = sessions[0]
        out: dict[str, Any] = {"pages": {}}

        # Deep keyset pages: the URLs of the 1st..Nth older page, followed from the page itself.
        deep: list[str] = []
        url = f"{base}/shifts"
        while len(deep) < 20:
            found = re.search(r'href="([^"]+)" rel="next"', await fetch(main, url))
            if found is None:
                break
            url = server.base_url + found.group(1).replace("&amp;", "&")
            deep.append(url)
        pages = {
            "leaderboard (this week)": [f"{base}/leaderboard?period=this_week"],
            "leaderboard (all time)": [f"{base}/leaderboard?period=all_time"],
            "shifts (newest)": [f"{base}/shifts"],
            "shifts (older pages)": deep,
            "shifts (one member)": [f"{base}/shifts?member={SEEDED_MEMBER}"],
        }
        for name, urls in pages.items():
            await fetch(main, urls[0])  # warm (templates compiled, Discord answers cached)
            timings = []
            for i in range(requests):
                page_url = urls[i % len(urls)]
                started = time.perf_counter()
                await fetch(main, page_url)
                timings.append((time.perf_counter() - started) * 1000)
            out["pages"][name] = timings

        out["consistency"] = await _consistency(bot, main, base, server.base_url)

        async def interactions(first: int) -> list[float]:
            latencies = []
            for member in people[first : first + officers]:
                started = await h.slash("shift", sub="start", member=member, guild_id=GUILD)
                ended = await h.slash("shift", sub="end", member=member, guild_id=GUILD)
                for reply, said in ((started, "You are on duty"), (ended, "Shift ended")):
                    final = await reply.final(timeout=30.0)
                    if not final.content.startswith(said):
                        raise RuntimeError(f"unexpected answer: {final.content!r}")
                    latencies.append(ack_ms(reply))
            return latencies

        out["quiet"] = await interactions(0)
        stop = asyncio.Event()
        served = [0]

        async def load(session: aiohttp.ClientSession, k: int) -> None:
            urls = [u for group in pages.values() for u in group[:3]]
            i = k
            while not stop.is_set():
                await fetch(session, urls[i % len(urls)])
                served[0] += 1
                i += 1

        loaders = [asyncio.create_task(load(s, k)) for k, s in enumerate(sessions[1:])]
        try:
            while served[0] < 2 * clients:  # the load is on before the first interaction
                await asyncio.sleep(0.01)
            load_started = time.perf_counter()
            out["loaded"] = await interactions(officers)
            out["load_pages_per_s"] = served[0] / (time.perf_counter() - load_started)
        finally:
            stop.set()
            await asyncio.gather(*loaders)
        rows = await bot.db.fetchall(
            "SELECT member_id, COUNT(*) AS n, COUNT(ended_ms) AS ended FROM shifts WHERE guild_id = ?"
            " AND member_id >= ? GROUP BY member_id",
            (GUILD, FIRST_OFFICER),
        )
        out["stored_once"] = len(rows) == 2 * officers and all(r["n"] == 1 and r["ended"] == 1 for r in rows)
        return out
    finally:
        for session in sessions:
            await session.close()
        oauth.close()


async def _consistency(bot: NorthcaBot, session: aiohttp.ClientSession, base: str, root: str) -> dict[str, bool]:
    """The pages say what the services say: the leaderboard's top line, and one member's shifts walked once."""
    now = bot.clock()
    board = await bot.duty.leaderboard(GUILD, period_for("all_time", now, ZoneInfo("UTC"), 0), now=now)
    page = await fetch(session, f"{base}/leaderboard?period=all_time")
    top = re.search(r'<tr data-member="(\d+)">.*?<td class="duty">([^<]+)</td>', page, re.S)
    board_ok = top is not None and (int(top.group(1)), top.group(2)) == (
        board[0].member_id,
        duration_text(board[0].duty_ms),
    )
    # Open shifts count up to now: the top may move by a second between the two reads; the member must match.
    board_ok = board_ok or (top is not None and int(top.group(1)) == board[0].member_id)
    seen: list[str] = []
    url: str | None = f"{base}/shifts?member={SEEDED_MEMBER}"
    while url is not None:
        text = await fetch(session, url)
        seen.extend(re.findall(r'<tr data-shift="([^"]+)">', text))
        found = re.search(r'href="([^"]+)" rel="next"', text)
        url = root + found.group(1).replace("&amp;", "&") if found else None
    [count] = await bot.db.fetchall(
        "SELECT COUNT(*) AS n FROM shifts WHERE guild_id = ? AND member_id = ?", (GUILD, SEEDED_MEMBER)
    )
    return {"leaderboard matches the service": board_ok, "keyset walk gives each shift once": (
        len(seen) == len(set(seen)) == int(count["n"])
    )}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--shifts", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--officers", type=int, default=40, help="officers doing /shift start + end, per phase")
    parser.add_argument("--clients", type=int, default=4, help="dashboard clients loading pages in the second phase")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    r = asyncio.run(run(args.members, args.shifts, args.requests, args.officers, args.clients))
    print(f"web pages: {args.members} members, {args.shifts} shifts (seeded in {r['seed_s']:.1f} s), one server")
    for name, values in r["pages"].items():
        print(f"  {name:<26} p50 {percentile(values, 50):7.1f} ms   p99 {percentile(values, 99):7.1f} ms"
              f"   ({len(values)} requests)")  # fmt: skip
    quiet, loaded = r["quiet"], r["loaded"]
    print(f"  bot interactions (/shift start + end, first answer), {len(quiet)} each phase:")
    print(f"    without load           p50 {percentile(quiet, 50):7.1f} ms   p99 {percentile(quiet, 99):7.1f} ms")
    print(f"    dashboard under load   p50 {percentile(loaded, 50):7.1f} ms   p99 {percentile(loaded, 99):7.1f} ms"
          f"   ({args.clients} clients, {r['load_pages_per_s']:.1f} pages/s served meanwhile)")  # fmt: skip
    print(f"    ratio loaded/quiet     p50 x{percentile(loaded, 50) / percentile(quiet, 50):.2f}"
          f"   p99 x{percentile(loaded, 99) / percentile(quiet, 99):.2f}")  # fmt: skip
    checks = {**r["consistency"], "each interaction's shift stored exactly once": r["stored_once"]}
    for name, ok in checks.items():
        print(f"  {name}: {'yes' if ok else 'NO'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
