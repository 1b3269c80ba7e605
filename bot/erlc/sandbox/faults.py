"""Faults on demand: any PRC error code, any HTTP status, a hang (timeouts), an oversized body, a raw body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The documented error codes (the error body's `code`) and what the sandbox calls them.
ERROR_CODES: dict[int, str] = {
    0: "Unknown error",
    1001: "An error occurred communicating with Roblox / the in-game private server",
    1002: "An internal system error occurred",
    2000: "You did not provide a server-key",
    2001: "You provided an incorrectly formatted server-key",
    2002: "You provided an invalid (or expired) server-key",
    2003: "You provided an invalid global API key",
    2004: "Your server-key is currently banned from accessing the API",
    3001: "You did not provide a valid command in the request body",
    3002: "The server you are attempting to reach is currently offline (has no players)",
    4001: "You are being rate limited",
    4002: "The command you are attempting to run is restricted",
    4003: "The message you're trying to send is prohibited",
    9998: "The resource you are accessing is restricted",
    9999: "The module running on the in-game server is out of date, please kick all and try again",
}

# assumption: the notes give the codes, not the HTTP status each comes with. The client maps by code first.
HTTP_STATUS_OF_CODE: dict[int, int] = {
    0: 500,
    1001: 500,
    1002: 500,
    2000: 400,
    2001: 400,
    2002: 403,
    2003: 403,
    2004: 403,
    3001: 400,
    3002: 422,
    4001: 429,
    4002: 403,
    4003: 403,
    9998: 403,
    9999: 400,
}


@dataclass
class Fault:
    """What to answer instead of the real answer, `times` times, to requests matching `key` and `path`."""

    code: int | None = None  # a PRC error code (body `{code, message}`)
    status: int | None = None  # the HTTP status (default: the code's; 500 without a code)
    times: int = 1
    key: str | None = None  # only requests with this server key
    path: re.Pattern[str] | None = None
    retry_after: float = 1.0  # for 4001 / 429
    hang_seconds: float | None = None  # wait this long before answering (timeouts)
    body_bytes: int | None = None  # answer 200 with a JSON body this large (oversize answers)
    raw_body: bytes | None = None  # answer this body as is (e.g. HTML from a proxy)
    announce_length: bool = True

    def matches(self, key: str | None, path: str) -> bool:
        if self.key is not None and self.key != key:
            return False
        return self.path is None or bool(self.path.search(path))


@dataclass
class Faults:
    queue: list[Fault] = field(default_factory=list)
    latency: float = 0.0

    def add(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be 1 or more")
        if fault.code is not None and fault.code not in ERROR_CODES:
            raise ValueError(f"unknown PRC error code {fault.code}; one of {', '.join(map(str, ERROR_CODES))}")
        if fault.status is not None and not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status (100-599)")
        self.queue.append(fault)

    def take(self, key: str | None, path: str) -> Fault | None:
        for fault in self.queue:
            if fault.matches(key, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.queue.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.queue.clear()
        self.latency = 0.0
