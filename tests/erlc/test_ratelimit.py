"""The client's token buckets on their own: order, waiting for the reset, cancellation, failures without
headers, names that hide server keys. (End to end against the sandbox: test_rate_limits.py.)"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.erlc.ratelimit import PrcRateLimiter, key_tag, public_bucket_name


def headers(limit: int, remaining: int, reset: float, bucket: str = "global") -> dict[str, str]:
    return {
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:.3f}",
    }


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_at_a_time_until_known_then_in_order_up_to_the_remaining():
    limiter = PrcRateLimiter()
    first = await limiter.acquire("read")
    order: list[int] = []

    async def later(i: int) -> str:
        name = await limiter.acquire("read")
        order.append(i)
        return name

    tasks = [asyncio.create_task(later(i)) for i in range(5)]
    await settle()
    assert order == []  # nothing known yet: they wait for the first answer
    limiter.release("read", first, headers(10, 3, time.time() + 30))
    await settle()
    assert order == [0, 1, 2]  # three left in the window, given in arrival order
    (state,) = limiter.state()
    assert (state.bucket, state.limit, state.remaining) == ("global", 10, 0)
    for task in tasks[3:]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_waits_for_the_reset_then_goes():
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, headers(1, 0, time.time() + 0.3))
    started = time.monotonic()
    await asyncio.wait_for(limiter.acquire("read"), 3)
    assert time.monotonic() - started >= 0.25


async def test_a_cancelled_waiter_does_not_keep_the_room():
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, headers(3, 2, time.time() + 0.3))
    a = await limiter.acquire("read")
    b = await limiter.acquire("read")
    waiting = asyncio.create_task(limiter.acquire("read"))
    behind = asyncio.create_task(limiter.acquire("read"))
    await settle()
    waiting.cancel()
    limiter.release("read", a, None)  # failed without an answer: it may have been counted, so it stays counted
    limiter.release("read", b, headers(3, 0, time.time() + 0.3))
    await settle()
    assert not behind.done()  # no room before the reset
    assert await asyncio.wait_for(behind, 3) == "global"
    assert waiting.cancelled()
    (state,) = limiter.state()
    assert state.remaining == 2  # a full window of 3, one taken by `behind`, none by the cancelled waiter


async def test_answers_without_headers_fall_back_to_one_at_a_time():
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, headers(1, 1, time.time() + 30))
    taken = await limiter.acquire("read")
    # Out of room, the next reset unknown... the request failed without an answer: one probe may go.
    limiter.release("read", taken, None)
    limiter._buckets["global"].reset_known = False
    assert await asyncio.wait_for(limiter.acquire("read"), 1) == "global"


async def test_429_blocks_the_whole_bucket_for_retry_after():
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, headers(35, 30, time.time() + 30), retry_after=0.3)
    (state,) = limiter.state()
    assert state.blocked_until is not None and state.remaining == 0
    started = time.monotonic()
    await asyncio.wait_for(limiter.acquire("read"), 3)
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize("key", ["abc-KEY-123", "x"])
def test_bucket_names_never_hold_a_key(key: str):
    assert public_bucket_name(f"command-{key}", key) == f"command-{key_tag(key)}"
    assert public_bucket_name(f"command-{key}") == f"command-{key_tag(key)}"
    assert public_bucket_name("global", key) == "global"
    assert key not in key_tag(key)


async def test_a_reset_given_as_seconds_from_now_is_understood():
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, {**headers(1, 0, 0), "X-RateLimit-Reset": "0.3"})
    (state,) = limiter.state()
    assert state.reset_at is not None and 0 < state.reset_at - time.time() <= 0.3
    started = time.monotonic()
    await asyncio.wait_for(limiter.acquire("read"), 3)
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize("bad", ["", "soon", "-5", "nan", "inf"])
async def test_unreadable_headers_keep_it_conservative(bad: str):
    limiter = PrcRateLimiter()
    taken = await limiter.acquire("read")
    limiter.release("read", taken, {**headers(5, 4, time.time() + 30), "X-RateLimit-Limit": bad})
    second = await asyncio.wait_for(limiter.acquire("read"), 1)  # still one at a time, never stuck
    third = asyncio.create_task(limiter.acquire("read"))
    await settle()
    assert not third.done()
    limiter.release("read", second, None)
    await asyncio.wait_for(third, 1)
