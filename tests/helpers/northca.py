"""The Northca side of a test: what the sandbox received or holds, shifts planted on it, and a Northca that
answers too much (a streamed body far over the client's limit)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.northca.sandbox import NorthcaSandbox
from bot.northca.sandbox.app import RecordedRequest
from tests.helpers.ids import MDT
from tests.spec import validate_request


def iso_z(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shift_posts(sandbox: NorthcaSandbox) -> list[RecordedRequest]:
    return [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/shifts")]


def shift_gets(sandbox: NorthcaSandbox) -> list[RecordedRequest]:
    return [r for r in sandbox.requests if r.method == "GET" and r.path.endswith("/shifts")]


def unit_puts(sandbox: NorthcaSandbox, since: int = 0) -> list[list[dict[str, Any]]]:
    """The unit lists of the PUTs the sandbox received (from the `since`-th on), in order."""
    return [json.loads(r.body)["units"] for r in sandbox.requests if r.method == "PUT"][since:]


def plant_backlog(
    sandbox: NorthcaSandbox,
    count: int,
    *,
    updated_at: datetime | None = None,
    status: str = "completed",
    department: str = "Patrol",
) -> None:
    """Shifts other bots wrote to the MDT (a backlog after an outage), newest by default."""
    stamp = iso_z(updated_at or datetime.now(UTC))
    for i in range(count):
        sandbox.plant_shift(
            MDT,
            {
                "id": str(uuid.uuid4()),
                "officer_name": f"Backlog {i}",
                "status": status,
                "department": department,
                "start_time": stamp,
                "end_time": stamp,
                "duration_ms": 60_000,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )


class HugeAnswer:
    """A Northca that answers GET shifts with a body of `size` bytes, streamed, and notes how
    much of it it managed to send."""

    def __init__(self, size: int, *, announce_length: bool) -> None:
        self.size = size
        self.announce_length = announce_length
        self.sent: list[int] = []  # bytes sent, per answer
        self.finished = asyncio.Event()
        self.requests = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/mdts/{m}/shifts", self._shifts)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _shifts(self, request: web.Request) -> web.StreamResponse:
        validate_request(request.method, request.path, dict(request.query), dict(request.headers), await request.read())
        self.requests += 1
        resp = web.StreamResponse(headers={"content-type": "application/json"})
        if self.announce_length:
            resp.content_length = self.size
        await resp.prepare(request)
        item = json.dumps({"id": "x" * 40, "officer_name": "y" * 200, "status": "completed"}).encode() + b","
        head = b'{"ok": true, "data": ['
        chunk = item * (64 * 1024 // len(item))
        sent = 0
        try:
            await resp.write(head)
            sent = len(head)
            while sent < self.size - len(chunk):
                await resp.write(chunk)
                sent += len(chunk)
            await resp.write(b" " * (self.size - sent - 2) + b"]}")
            sent = self.size
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what was sent is noted
        finally:
            self.sent.append(sent)
            self.finished.set()
        return resp
