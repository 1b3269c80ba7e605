"""PRC's rate limits, end to end over loopback: the sandbox's buckets really limit, and the client's token
buckets (read from the headers, shared by every server) keep it from ever being refused."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.erlc.client import PrcClient
from bot.erlc.port import GameRateLimited
from bot.erlc.ratelimit import key_tag
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig
from tests.erlc.conftest import GLOBAL_KEY, OTHER_KEY, RAW, SERVER_KEY

pytestmark = pytest.mark.asyncio

THIRD_KEY = "prc-third-key-Kx99"


@pytest.fixture
def prc_config() -> PrcSandboxConfig:
    return PrcSandboxConfig(rate_limit=5, rate_window_seconds=1, global_keys=[GLOBAL_KEY])


def _fill(prc: PrcSandbox) -> None:
    for key, name in ((OTHER_KEY, "Other RP"), (THIRD_KEY, "Third RP")):
        prc.add_server(key, name=name)
    for i, key in enumerate((SERVER_KEY, OTHER_KEY, THIRD_KEY)):
        prc.join(key, 100 + i, f"Player{i}")


async def test_the_sandbox_buckets_really_limit(prc: PrcSandbox, http: aiohttp.ClientSession):
    """Without the client's limiter: over 5 in a window, 429 with the documented body and headers."""
    _fill(prc)
    assert prc.base_url

    async def raw() -> tuple[int, dict[str, str], object]:
        async with http.get(f"{prc.base_url}/v2/server", headers={"Server-Key": SERVER_KEY, **RAW}) as resp:
            return resp.status, dict(resp.headers), await resp.json()

    answers = await asyncio.gather(*[raw() for _ in range(8)])
    statuses = sorted(status for status, _, _ in answers)
    # The 8 may straddle a window boundary: at most 5 a window, so at least 8 - 10 refused... and at most 3.
    refused = [a for a in answers if a[0] == 429]
    assert statuses.count(200) + len(refused) == 8 and 0 <= len(refused) <= 3
    for _, headers, _ in answers:
        assert headers["X-RateLimit-Bucket"] == "global" and headers["X-RateLimit-Limit"] == "5"
        assert int(headers["X-RateLimit-Remaining"]) in range(5)
        assert int(headers["X-RateLimit-Reset"]) > 0
    if not refused:  # the burst happened to straddle two windows: one more burst cannot
        answers = await asyncio.gather(*[raw() for _ in range(11)])
        refused = [a for a in answers if a[0] == 429]
        assert refused
    _, headers, body = refused[0]
    assert isinstance(body, dict)
    assert body["code"] == 4001 and body["bucket"] == "global" and set(body) >= {"message", "retry_after"}
    assert 0 <= body["retry_after"] <= 1 and headers["X-RateLimit-Remaining"] == "0"


async def test_requests_over_the_limit_wait_and_are_never_refused(prc: PrcSandbox, http: aiohttp.ClientSession):
    """23 reads over 3 servers through one client with a limit of 5 a second: all succeed, none is refused,
    because the client waited for capacity in the one bucket every server shares."""
    _fill(prc)
    assert prc.base_url
    client = PrcClient(http, prc.base_url, timeout=5.0)
    keys = [SERVER_KEY, OTHER_KEY, THIRD_KEY]
    snaps = await asyncio.gather(*[client.snapshot(keys[i % 3]) for i in range(23)])
    assert all(s.online and s.current_players == 1 for s in snaps)
    assert prc.limits.refused == 0 and prc.limits.allowed == 23
    assert client.limiter.waited_seconds > 0  # it did have to wait
    # Never more than the limit served inside one of the sandbox's windows: spread over 5 windows at least.
    per_window: dict[int, int] = {}
    for rec in prc.requests:
        per_window[int(rec.at)] = per_window.get(int(rec.at), 0) + 1
    assert max(per_window.values()) <= 5 and len(per_window) >= 5
    (state,) = client.rate_limits()
    assert (state.bucket, state.limit) == ("global", 5)


async def test_429_retry_after_is_honoured_for_the_bucket(prc: PrcSandbox, prc_client: PrcClient):
    _fill(prc)
    prc.inject(code=4001, retry_after=0.6)
    with pytest.raises(GameRateLimited) as info:
        await prc_client.snapshot(SERVER_KEY)
    assert info.value.retry_after == pytest.approx(0.6) and info.value.bucket == "global"
    assert any(s.blocked_until for s in prc_client.rate_limits())
    # Another server's read shares the bucket: it waits out the retry_after before it is sent.
    refused_at = prc.requests[-1].at
    snap = await prc_client.snapshot(OTHER_KEY)
    assert snap.server_name == "Other RP"
    assert prc.requests[-1].at - refused_at >= 0.55


async def test_a_real_429_from_the_sandbox_blocks_and_recovers(prc: PrcSandbox, http: aiohttp.ClientSession):
    """Another process on the same IP used the bucket up: the client's first read is refused, it honours the
    retry_after, and the next read goes through."""
    _fill(prc)
    assert prc.base_url
    for _ in range(5):  # someone else (same IP) spends the window
        async with http.get(f"{prc.base_url}/v1/server", headers={"Server-Key": SERVER_KEY, **RAW}) as resp:
            await resp.read()
            if resp.status == 429:
                break
    client = PrcClient(http, prc.base_url, timeout=5.0)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append((await client.snapshot(SERVER_KEY)).online)
        except GameRateLimited as exc:
            assert 0 <= exc.retry_after <= 1
            outcomes.append("429")
    assert outcomes[-1] is True and outcomes.count("429") <= 1


async def test_rate_limit_state_is_read_from_the_headers(prc: PrcSandbox, prc_client: PrcClient):
    _fill(prc)
    assert prc_client.rate_limits() == []  # nothing known before the first answer
    await prc_client.snapshot(SERVER_KEY)
    (state,) = prc_client.rate_limits()
    assert state.bucket == "global" and state.limit == 5 and state.remaining is not None and state.remaining <= 4
    assert state.reset_at is not None and state.reset_at == int(state.reset_at)


@pytest.mark.parametrize("prc_config", [PrcSandboxConfig(rate_limit=50)])
async def test_limit_not_hard_coded_it_follows_the_headers(prc: PrcSandbox, prc_client: PrcClient):
    prc.join(SERVER_KEY, 1, "A")
    await prc_client.snapshot(SERVER_KEY)
    assert prc_client.rate_limits()[0].limit == 50


async def test_first_requests_go_one_at_a_time_until_the_limit_is_known(prc: PrcSandbox, prc_client: PrcClient):
    _fill(prc)
    prc.faults.latency = 0.15
    await asyncio.gather(*[prc_client.snapshot(SERVER_KEY) for _ in range(3)])
    first, second, third = (r.at for r in list(prc.requests)[-3:])
    assert second - first >= 0.14  # the second waited for the first answer (and its headers)
    assert third - second < 0.1  # then the limit was known: the rest went together


async def test_global_key_has_its_own_bucket_and_is_sent(prc: PrcSandbox, http: aiohttp.ClientSession):
    _fill(prc)
    assert prc.base_url
    by_ip = PrcClient(http, prc.base_url)
    by_key = PrcClient(http, prc.base_url, global_key=GLOBAL_KEY)
    await asyncio.gather(*[by_ip.snapshot(SERVER_KEY) for _ in range(4)])
    await asyncio.gather(*[by_key.snapshot(SERVER_KEY) for _ in range(4)])
    assert prc.limits.refused == 0
    assert prc.requests[-1].headers["authorization"] == GLOBAL_KEY
    assert "authorization" not in prc.requests[0].headers
    assert GLOBAL_KEY not in repr(by_key)


@pytest.mark.parametrize("prc_config", [PrcSandboxConfig(command_limit=1, command_window_seconds=1)])
async def test_commands_have_a_bucket_per_server_key(prc: PrcSandbox, http: aiohttp.ClientSession):
    for key in (SERVER_KEY, OTHER_KEY):
        prc.add_server(key)
        prc.join(key, 1, "A")
    assert prc.base_url
    client = PrcClient(http, prc.base_url)
    await asyncio.gather(
        client.command(SERVER_KEY, ":h one"),
        client.command(SERVER_KEY, ":h two"),
        client.command(OTHER_KEY, ":m hi"),
    )
    assert prc.limits.refused == 0
    assert prc.commands(SERVER_KEY) == [":h one", ":h two"] or prc.commands(SERVER_KEY) == [":h two", ":h one"]
    assert prc.commands(OTHER_KEY) == [":m hi"]
    sent = [r for r in prc.requests if r.path == "/v2/server/command" and r.headers["server-key"] == SERVER_KEY]
    assert int(sent[0].at) != int(sent[1].at)  # the second waited for the next (1 s) window
    names = {s.bucket for s in client.rate_limits()}
    assert f"command-{key_tag(SERVER_KEY)}" in names and f"command-{key_tag(OTHER_KEY)}" in names
    assert not any(SERVER_KEY in n or OTHER_KEY in n for n in names)


async def test_bucket_is_per_ip_by_default(prc: PrcSandbox):
    """Two bots on two addresses each have their own `global` bucket (loopback 127.0.0.1 and 127.0.0.2)."""
    _fill(prc)
    assert prc.base_url
    connectors = [aiohttp.TCPConnector(local_addr=(ip, 0)) for ip in ("127.0.0.1", "127.0.0.2")]
    sessions = [aiohttp.ClientSession(connector=c) for c in connectors]
    try:
        clients = [PrcClient(s, prc.base_url) for s in sessions]
        for client in clients:
            await client.snapshot(SERVER_KEY)
        remaining = [c.rate_limits()[0].remaining for c in clients]
        # Each has its own window: both have 4 of 5 left (one shared bucket would have left 3 to the second).
        assert remaining == [4, 4]
        assert prc.limits.refused == 0
    finally:
        for s in sessions:
            await s.close()


@pytest.mark.parametrize("prc_config", [PrcSandboxConfig(rate_limit=35)])
async def test_a_hundred_servers_on_one_ip_stay_inside_the_limit(prc: PrcSandbox, http: aiohttp.ClientSession):
    keys = [f"server-key-{i:03d}" for i in range(100)]
    for i, key in enumerate(keys):
        prc.add_server(key, name=f"RP {i}")
        prc.join(key, 1000 + i, f"P{i}")
    assert prc.base_url
    client = PrcClient(http, prc.base_url, timeout=10.0)
    snaps = await asyncio.gather(*[client.snapshot(k) for k in keys])
    assert [s.server_name for s in snaps] == [f"RP {i}" for i in range(100)]
    assert prc.limits.refused == 0 and prc.limits.allowed == 100
    per_window: dict[int, int] = {}
    for rec in prc.requests:
        per_window[int(rec.at)] = per_window.get(int(rec.at), 0) + 1
    assert max(per_window.values()) <= 35
