"""Fault injection, switchable at run time: errors, latency, hangs and holds on matching requests."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

# "error": answers `status` with `message` as the error text (e.g. a very long one).
FAULT_KINDS = ("500", "429", "html502", "hang", "commit_then_500", "empty200", "error")


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: re.Pattern[str] | None = None
    method: str | None = None
    retry_after: float = 1.0
    hang_seconds: float = 60.0
    status: int = 400
    message: str = "Refused"

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return self.path is None or bool(self.path.search(path))


@dataclass
class Hold:
    """Holds the next matching request(s) before they are served, until released: lets a test
    interleave a call with others deterministically (sandbox-only, like latency)."""

    path: re.Pattern[str]
    method: str | None = None
    times: int = 1
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class Faults:
    """Fault injection, switchable at run time (from Python or `POST /_sandbox/faults`)."""

    latency: float = 0.0
    queue: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    # Sandbox-only: the status new link requests start with. The spec says `pending`; another
    # value rehearses a status Northca may add later (e.g. `in_review`).
    link_request_status: str = "pending"

    def hold(self, path: str, *, method: str | None = None, times: int = 1) -> Hold:
        held = Hold(re.compile(path), method.upper() if method else None, times)
        self.holds.append(held)
        return held

    def release_all(self) -> None:
        for held in self.holds:
            held.release()
        self.holds.clear()

    def take_hold(self, method: str, path: str) -> Hold | None:
        for held in self.holds:
            if (held.method is None or held.method == method) and held.path.search(path):
                held.times -= 1
                if held.times <= 0:
                    self.holds.remove(held)
                return held
        return None

    def add(
        self,
        kind: str,
        times: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        retry_after: float = 1.0,
        hang_seconds: float = 60.0,
        status: int = 400,
        message: str = "Refused",
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be 1 or more (a fault with times 0 would never be wanted)")
        self.queue.append(
            Fault(
                kind,
                times,
                re.compile(path) if path else None,
                method.upper() if method else None,
                retry_after,
                hang_seconds,
                status,
                message,
            )
        )

    def clear(self) -> None:
        self.queue.clear()
        self.latency = 0.0
        self.release_all()
        self.link_request_status = "pending"

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.queue:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.queue.remove(fault)
                return fault
        return None
