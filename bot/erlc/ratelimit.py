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
import contextlib
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Sent a little after the announced reset, so a request never lands on PRC before its window rolled over.
RESET_MARGIN_SECONDS = 0.05
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


class PrcRateLimiter:
    """Token buckets per PRC bucket, filled from the answers' headers. `route` says which requests share a
    bucket before its name is known: "read" (every GET) or "command:<key tag>"."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._routes: dict[str, str] = {}  # route -> PRC bucket name (public form)
        self._buckets: dict[str, _Bucket] = {}
        self._changed = asyncio.Condition()
        self.waited_seconds = 0.0  # total time requests waited for capacity (benchmarks)

    def _bucket(self, route: str) -> _Bucket:
        name = self._routes.get(route, route)
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(name)
        return bucket

    async def acquire(self, route: str) -> str:
        """Wait until the route's bucket has room, take one; returns the bucket name to `release` with."""
        async with self._changed:
            while True:
                bucket = self._bucket(route)
                now = self._clock()
                wait = self._wait_needed(bucket, now)
                if wait == 0.0:
                    bucket.in_flight += 1
                    if bucket.limit is not None:
                        bucket.remaining -= 1
                    return bucket.name
                started = time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)
                self.waited_seconds += time.monotonic() - started

    def _wait_needed(self, bucket: _Bucket, now: float) -> float | None:
        """0.0: may send now; a number: wait that long at most; None: wait for an answer."""
        if bucket.blocked_until > now:
            return min(bucket.blocked_until - now, MAX_WAIT_SECONDS)
        if bucket.limit is None:
            # Nothing known yet: one at a time until the first headers tell the limit.
            return 0.0 if bucket.in_flight == 0 else None
        if bucket.reset_known and now >= bucket.reset_at + RESET_MARGIN_SECONDS:
            # The window rolled over: full again (less what is still on its way), next reset unknown yet.
            bucket.remaining = bucket.limit - bucket.in_flight
            bucket.reset_known = False
        if bucket.remaining > 0:
            return 0.0
        if bucket.reset_known:
            return min(bucket.reset_at + RESET_MARGIN_SECONDS - now, MAX_WAIT_SECONDS)
        # Out of room and the reset is not known: the next answer will say it.
        return None if bucket.in_flight else 1.0

    async def release(
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
        async with self._changed:
            held = self._buckets[taken]
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
                self._routes[route] = name
                if held.limit is None and held.in_flight == 0:
                    # The provisional bucket (named after the route) is done with.
                    self._buckets.pop(taken, None)
            if headers is not None:
                self._update(bucket, headers)
            if retry_after is not None:
                bucket.blocked_until = max(bucket.blocked_until, self._clock() + min(retry_after, MAX_WAIT_SECONDS))
                bucket.remaining = 0
            self._changed.notify_all()

    def _update(self, bucket: _Bucket, headers: Mapping[str, str]) -> None:
        limit = _int(headers.get("X-RateLimit-Limit"))
        remaining = _int(headers.get("X-RateLimit-Remaining"))
        reset = _float(headers.get("X-RateLimit-Reset"))
        if limit is None or remaining is None:
            return
        first = bucket.limit is None
        bucket.limit = limit
        # What PRC counted so far, less what is still on its way to it (conservative: never above the limit).
        seen = max(0, remaining - bucket.in_flight)
        if reset is not None and (first or not bucket.reset_known or reset > bucket.reset_at):
            bucket.reset_at = reset
            bucket.reset_known = True
            bucket.remaining = seen
        else:
            bucket.remaining = min(bucket.remaining, seen) if not first else seen

    def state(self) -> list[RateLimitState]:
        """Each known bucket (those PRC named), for `/erlc status`."""
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
            if b.limit is not None or b.blocked_until > now
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
