"""PRC's rate limits, as the bot keeps them: one bucket per PRC bucket, shared by every server of the bot.

PRC limits per IP (or per global key when one is sent), so every server the bot polls draws from the same
`global` bucket; commands have a bucket per server key (`command-<key>`). Nothing is hard-coded: each answer's
`X-RateLimit-Bucket`, `-Limit`, `-Remaining` and `-Reset` (epoch seconds) set the bucket's state, and a
request waits for capacity before it is sent. Until a bucket's first headers arrive, one request at a time
goes out (conservative). A 429 blocks its bucket for `retry_after`.

Bucket names holding a server key (`command-<key>`) are kept and shown with the key replaced by a short hash:
the rate-limit state is shown to admins (`/erlc status`), and a key must never be.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Sent a little after the announced reset, so a request never lands on PRC before its window rolled over.
RESET_MARGIN_SECONDS = 0.05
# A reset below this (2001-09-09 as epoch seconds) is read as seconds from now.
RELATIVE_RESET_BELOW = 1_000_000_000.0
# The longest a bucket waits on one 429 or one reset (one odd header must not freeze the bot for a day).
MAX_WAIT_SECONDS = 300.0


def key_tag(key: str) -> str:
    """A short, stable, non-reversible name for a server key (in bucket names, logs, counters)."""
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def public_bucket_name(name: str, key: str | None = None) -> str:
    """The bucket name with any server key in it replaced by its tag."""
    if key and key in name:
        name = name.replace(key, key_tag(key))
    if name.startswith("command-") and key is None:
        name = "command-" + key_tag(name.removeprefix("command-"))
    return name


@dataclass(frozen=True)
class RateLimitState:
    """What `/erlc status` shows of one bucket."""

    bucket: str
    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds
    blocked_until: float | None  # epoch seconds, after a 429


@dataclass
class _Bucket:
    name: str
    limit: int | None = None
    remaining: int = 0
    reset_at: float = 0.0
    reset_known: bool = False
    blocked_until: float = 0.0
    in_flight: int = 0
    # Requests waiting for room, first come first served; each future is given the bucket name it took from.
    waiters: deque[asyncio.Future[str]] = field(default_factory=deque)
    timer: asyncio.TimerHandle | None = None


class PrcRateLimiter:
    """Token buckets per PRC bucket, filled from the answers' headers. `route` says which requests share a
    bucket before its name is known: "read" (every GET) or "command:<key tag>".

    Waiting requests queue per bucket and are let through in order as room appears (a timer at the reset, or
    an answer), so a thousand waiting servers cost one wake-up each, not one per answer."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._routes: dict[str, str] = {}  # route -> PRC bucket name (public form)
        self._buckets: dict[str, _Bucket] = {}
        self.waited_seconds = 0.0  # total time requests waited for room (benchmarks)
        self.granted = 0

    def _bucket(self, route: str) -> _Bucket:
        # Until PRC names the route's bucket, a provisional one stands in (a name PRC cannot send).
        name = self._routes.get(route, f"(unknown {route})")
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(name)
        return bucket

    async def acquire(self, route: str) -> str:
        """Wait until the route's bucket has room, take one; returns the bucket name to `release` with."""
        bucket = self._bucket(route)
        if not bucket.waiters and self._try_take(bucket):
            self.granted += 1
            return bucket.name
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        bucket.waiters.append(waiter)
        self._pump(bucket)
        started = time.monotonic()
        try:
            name = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # granted just as it was cancelled: the room goes to the next
            raise
        finally:
            self.waited_seconds += time.monotonic() - started
        self.granted += 1
        return name

    def _try_take(self, bucket: _Bucket) -> bool:
        now = self._clock()
        if bucket.blocked_until > now:
            return False
        if bucket.limit is None or (not bucket.reset_known and bucket.remaining <= 0):
            # Nothing known (yet, or any more: answers without headers): one at a time until headers tell.
            if bucket.in_flight == 0:
                bucket.in_flight += 1
                return True
            return False
        if bucket.reset_known and now >= bucket.reset_at + RESET_MARGIN_SECONDS:
            # The window rolled over: full again (less what is still on its way); the next reset comes with
            # the next answer.
            bucket.remaining = bucket.limit - bucket.in_flight
            bucket.reset_known = False
        if bucket.remaining > 0:
            bucket.remaining -= 1
            bucket.in_flight += 1
            return True
        return False

    def _pump(self, bucket: _Bucket) -> None:
        """Let waiting requests through while there is room; else wake up when there will be."""
        if bucket.timer is not None:
            bucket.timer.cancel()
            bucket.timer = None
        while bucket.waiters:
            if bucket.waiters[0].done():  # cancelled while waiting
                bucket.waiters.popleft()
                continue
            if not self._try_take(bucket):
                break
            bucket.waiters.popleft().set_result(bucket.name)
        if not bucket.waiters:
            return
        now = self._clock()
        if bucket.blocked_until > now:
            delay = bucket.blocked_until - now
        elif bucket.limit is not None and bucket.reset_known and bucket.remaining <= 0:
            delay = bucket.reset_at + RESET_MARGIN_SECONDS - now
        else:
            return  # an answer on its way will make room (release pumps)
        bucket.timer = asyncio.get_running_loop().call_later(min(max(delay, 0.0), MAX_WAIT_SECONDS), self._pump, bucket)

    def _give_back(self, name: str) -> None:
        bucket = self._buckets.get(name)
        if bucket is None:
            return
        bucket.in_flight = max(0, bucket.in_flight - 1)
        if bucket.limit is not None:
            bucket.remaining += 1
        self._pump(bucket)

    def release(
        self,
        route: str,
        taken: str,
        headers: Mapping[str, str] | None,
        *,
        key: str | None = None,
        retry_after: float | None = None,
        bucket_hint: str | None = None,
    ) -> None:
        """An answer (or a failure: headers None) for a request taken from bucket `taken`."""
        held = self._buckets.get(taken) or self._bucket(route)
        if held.name == taken:
            held.in_flight = max(0, held.in_flight - 1)
        name = None
        if headers is not None and headers.get("X-RateLimit-Bucket"):
            name = public_bucket_name(headers["X-RateLimit-Bucket"], key)
        elif bucket_hint:
            name = public_bucket_name(bucket_hint, key)
        bucket = held
        if name is not None and name != taken:
            bucket = self._buckets.get(name) or _Bucket(name)
            self._buckets[name] = bucket
            provisional = self._buckets.get(f"(unknown {route})")
            self._routes[route] = name
            if provisional is not None and provisional is not bucket:
                # Those waiting on the stand-in now wait on the real bucket, in the same order.
                bucket.waiters.extend(provisional.waiters)
                provisional.waiters.clear()
                if provisional.in_flight == 0:
                    if provisional.timer is not None:
                        provisional.timer.cancel()
                    del self._buckets[provisional.name]
        if headers is not None:
            self._update(bucket, headers)
        if retry_after is not None:
            bucket.blocked_until = max(bucket.blocked_until, self._clock() + min(retry_after, MAX_WAIT_SECONDS))
            # After the wait, one request at a time until an answer's headers tell the room again.
            bucket.remaining = 0
            bucket.reset_known = False
        self._pump(bucket)
        if held is not bucket and held.name in self._buckets:
            self._pump(held)

    def _update(self, bucket: _Bucket, headers: Mapping[str, str]) -> None:
        limit = _int(headers.get("X-RateLimit-Limit"))
        remaining = _int(headers.get("X-RateLimit-Remaining"))
        reset = _float(headers.get("X-RateLimit-Reset"))
        if limit is None or remaining is None:
            return
        if reset is not None and reset < RELATIVE_RESET_BELOW:
            # The notes say epoch seconds; a small number can only be seconds from now (read it so, safely).
            reset = self._clock() + reset
        first = bucket.limit is None
        bucket.limit = limit
        # What PRC counted so far, less what is still on its way to it (conservative: never above the limit).
        seen = max(0, min(limit, remaining) - bucket.in_flight)
        if reset is not None and (first or not bucket.reset_known or reset > bucket.reset_at):
            bucket.reset_at = reset
            bucket.reset_known = True
            bucket.remaining = seen
        else:
            bucket.remaining = seen if first else min(bucket.remaining, seen)

    def state(self) -> list[RateLimitState]:
        """Each bucket PRC named, for `/erlc status`."""
        now = self._clock()
        return [
            RateLimitState(
                b.name,
                b.limit,
                None if b.limit is None else max(0, b.remaining),
                b.reset_at if b.reset_known else None,
                b.blocked_until if b.blocked_until > now else None,
            )
            for b in self._buckets.values()
            if not b.name.startswith("(unknown ")
        ]


def _int(value: str | None) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
