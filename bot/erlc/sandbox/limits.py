"""The sandbox's rate limits: fixed windows aligned on epoch seconds, one counter per bucket and client.

Each answer carries the PRC headers `X-RateLimit-Bucket`, `-Limit`, `-Remaining` and `-Reset` (epoch seconds,
when the window ends and the bucket is full again). Over the limit the request is refused with 429 and
`retry_after` (the seconds until the reset).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    bucket: str  # the name sent in X-RateLimit-Bucket
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds
    retry_after: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Bucket": self.bucket,
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class FixedWindows:
    """Counters per (bucket, who) for windows of `window` seconds aligned on the epoch."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (bucket, who) -> (window index, used)
        self.refused = 0  # 429s answered, for tests and benchmarks
        self.allowed = 0

    def hit(self, bucket: str, who: str, limit: int, window: int) -> Verdict:
        now = self._clock()
        index = math.floor(now / window)
        reset = (index + 1) * window
        seen_index, used = self._counts.get((bucket, who), (index, 0))
        if seen_index != index:
            used = 0
        if used >= limit:
            self.refused += 1
            self._counts[(bucket, who)] = (index, used)
            return Verdict(bucket, False, limit, 0, reset, max(0.0, round(reset - now, 3)))
        used += 1
        self.allowed += 1
        self._counts[(bucket, who)] = (index, used)
        return Verdict(bucket, True, limit, limit - used, reset, 0.0)
