"""The Northca Partner API client the whole bot shares.

One `aiohttp.ClientSession` (owned by the bot) carries every call. Each call
has a deadline covering all its retries, so a caller is never stuck; retries
are bounded, back off exponentially with jitter, honour `Retry-After` (capped at
`RETRY_AFTER_CAP_SECONDS`, so one odd header cannot freeze anything for a day),
and are only made where repeating the request is safe.

No answer is read beyond `max_answer_bytes` (the spec caps lists at 200 items; a
few MiB is plenty): a larger one is refused unread as `NorthcaAnswerTooLarge`.
Large answers are parsed in a worker thread, so the event loop (and with it every
Discord interaction) never waits on a JSON parse.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import logging
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

# RETRY_AFTER_CAP_SECONDS is part of the retry policy callers read here (the explicit alias re-exports it).
from .answers import RETRY_AFTER_CAP_SECONDS as RETRY_AFTER_CAP_SECONDS
from .answers import parse_list, parse_model, parse_record, shift_window, unwrap
from .errors import (
    NorthcaAnswerTooLarge,
    NorthcaError,
    NorthcaRateLimited,
    NorthcaUnavailable,
)
from .models import (
    ActiveUnit,
    ActiveUnitUpsert,
    Call,
    ConfirmResult,
    CreateCallBody,
    CreateLinkRequestBody,
    CreateSceneReportBody,
    CreateShiftBody,
    CreateTicketBody,
    LinkedMdt,
    LinkRequest,
    PanicBody,
    PanicResult,
    SceneReport,
    Shift,
    ShiftWindow,
    Ticket,
    UpdateCallBody,
    UpsertActiveUnitsBody,
)

log = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://api.northca.dev/v1"
# The longest wait a `Retry-After` is honoured for, by the client and by everyone who reads
# `NorthcaRateLimited.retry_after` (which is already capped).
MAX_ANSWER_BYTES = 4 * 1024 * 1024
# Above these sizes parsing moves to a worker thread.
THREAD_PARSE_BYTES = 256 * 1024
THREAD_PARSE_ITEMS = 256
_READ_CHUNK = 64 * 1024


class Secret:
    """Holds a secret (the partner key, an ER:LC server key) so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _seg(value: str) -> str:
    # Every path segment is quoted fully: an id can never add a path level.
    return quote(str(value), safe="")


class NorthcaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        partner_key: str,
        *,
        timeout: float = 10.0,
        deadline: float | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.25,
        backoff_max: float = 4.0,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Northca base URL must be an http(s) URL, got {base_url!r}")
        if parts.scheme != "https" and not is_loopback_host(parts.hostname):
            raise ValueError("Northca base URL must use https (plain http is only allowed on loopback)")
        if not partner_key:
            raise ValueError("a partner key is required")
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._key = Secret(partner_key)
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else max(timeout * 2.5, timeout + 5)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_answer_bytes = max_answer_bytes
        # Counters a person can read in /status of the bot or a benchmark.
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"<NorthcaClient base_url={self.base_url!r}>"

    def single_attempt(self) -> NorthcaClient:
        """The same client (session, key, timeouts) trying each request once.

        For callers that run their own retry loop, such as the shift sync, which must
        look a shift up after an ambiguous failure before it may write it again."""
        clone = copy.copy(self)
        clone.max_attempts = 1
        return clone

    # --- endpoints ---------------------------------------------------------

    async def create_link_request(
        self, guild_id: int | str, mdt_id: str, actor_id: int | str | None = None
    ) -> LinkRequest:
        body = CreateLinkRequestBody(mdt_id=mdt_id)
        data = await self._call("POST", "/link-requests", guild_id, actor_id, body=body.to_json(), idempotent=False)
        return parse_model(LinkRequest, data)

    async def confirm_link_request(self, request_id: str, guild_id: int | str, actor_id: int | str) -> ConfirmResult:
        # Confirming twice answers `already`, so a repeat is harmless.
        data = await self._call(
            "POST", f"/link-requests/{_seg(request_id)}/confirm", guild_id, actor_id, idempotent=True
        )
        return parse_model(ConfirmResult, data if isinstance(data, dict) else {})

    async def list_guild_mdts(self, guild_id: int | str, actor_id: int | str | None = None) -> list[LinkedMdt]:
        data = await self._call("GET", f"/guilds/{_seg(str(guild_id))}/mdts", guild_id, actor_id, idempotent=True)
        return parse_list(LinkedMdt, data)

    async def unlink_mdt(self, mdt_id: str, guild_id: int | str, actor_id: int | str) -> Any:
        return await self._call("POST", f"/mdts/{_seg(mdt_id)}/unlink", guild_id, actor_id, idempotent=False)

    async def create_shift(
        self, mdt_id: str, body: CreateShiftBody, guild_id: int | str, actor_id: int | str | None = None
    ) -> Shift:
        # With a client-chosen id a repeat can be recognised, so it may be retried.
        idempotent = "id" in body.model_fields_set
        data = await self._call(
            "POST", f"/mdts/{_seg(mdt_id)}/shifts", guild_id, actor_id, body=body.to_json(), idempotent=idempotent
        )
        return parse_model(Shift, data)

    async def list_shifts(
        self,
        mdt_id: str,
        guild_id: int | str,
        actor_id: int | str | None = None,
        *,
        limit: int = 50,
        department: str | None = None,
        status: str | None = None,
    ) -> list[Shift]:
        window = await self.list_shift_window(
            mdt_id, guild_id, actor_id, limit=limit, department=department, status=status
        )
        return window.items

    async def list_shift_window(
        self,
        mdt_id: str,
        guild_id: int | str,
        actor_id: int | str | None = None,
        *,
        limit: int = 50,
        department: str | None = None,
        status: str | None = None,
    ) -> ShiftWindow:
        """The newest shifts, each item parsed on its own: one that does not parse is skipped
        (and counted), never the whole answer."""
        limit = max(1, min(200, int(limit)))
        params: dict[str, str] = {"limit": str(limit)}
        if department:
            params["department"] = department
        if status:
            params["status"] = status
        path = f"/mdts/{_seg(mdt_id)}/shifts"
        data = await self._call("GET", path, guild_id, actor_id, params=params, idempotent=True)
        if isinstance(data, list) and len(data) > THREAD_PARSE_ITEMS:
            return await asyncio.to_thread(shift_window, data, limit, path)
        return shift_window(data, limit, path)

    async def upsert_active_units(
        self, mdt_id: str, units: Sequence[ActiveUnitUpsert], guild_id: int | str, actor_id: int | str | None = None
    ) -> list[ActiveUnit]:
        body = UpsertActiveUnitsBody(units=list(units))
        data = await self._call(
            "PUT", f"/mdts/{_seg(mdt_id)}/units/active", guild_id, actor_id, body=body.to_json(), idempotent=True
        )
        return parse_list(ActiveUnit, data)

    # --- dispatch (recovered endpoints; answers read leniently) --------------

    async def panic_unit(
        self,
        mdt_id: str,
        unit_id: str,
        guild_id: int | str,
        actor_id: int | str | None = None,
        *,
        address: str | None = None,
    ) -> PanicResult:
        # Repeating a panic for the same unit is the same panic, so it may be retried.
        body = PanicBody(address=address)
        path = f"/mdts/{_seg(mdt_id)}/units/active/{_seg(unit_id)}/panic"
        data = await self._call("POST", path, guild_id, actor_id, body=body.to_json(), idempotent=True)
        return parse_record(PanicResult, data)

    async def create_call(
        self, mdt_id: str, body: CreateCallBody, guild_id: int | str, actor_id: int | str | None = None
    ) -> Call:
        data = await self._create_with_id("calls", mdt_id, body, body.id, guild_id, actor_id)
        return parse_record(Call, data)

    async def update_call(
        self, mdt_id: str, call_id: str, body: UpdateCallBody, guild_id: int | str, actor_id: int | str | None = None
    ) -> Call:
        # Every field sets a value (units_assigned the full list), so applying it twice is applying it once.
        path = f"/mdts/{_seg(mdt_id)}/calls/{_seg(call_id)}"
        data = await self._call("PATCH", path, guild_id, actor_id, body=body.to_json(), idempotent=True)
        return parse_record(Call, data)

    async def create_scene_report(
        self, mdt_id: str, body: CreateSceneReportBody, guild_id: int | str, actor_id: int | str | None = None
    ) -> SceneReport:
        data = await self._create_with_id("scene-reports", mdt_id, body, body.id, guild_id, actor_id)
        return parse_record(SceneReport, data)

    async def create_ticket(
        self, mdt_id: str, body: CreateTicketBody, guild_id: int | str, actor_id: int | str | None = None
    ) -> Ticket:
        data = await self._create_with_id("tickets", mdt_id, body, body.id, guild_id, actor_id)
        return parse_record(Ticket, data)

    async def _create_with_id(
        self,
        collection: str,
        mdt_id: str,
        body: CreateCallBody | CreateSceneReportBody | CreateTicketBody,
        record_id: str | None,
        guild_id: int | str,
        actor_id: int | str | None,
    ) -> Any:
        # As for shifts: with a client-chosen id a repeat can be recognised, so it may be retried;
        # without one (or with a null or empty one, which lets the server choose) a repeat could write twice.
        return await self._call(
            "POST",
            f"/mdts/{_seg(mdt_id)}/{collection}",
            guild_id,
            actor_id,
            body=body.to_json(),
            idempotent=bool(record_id),
        )

    # --- machinery ---------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        guild_id: int | str,
        actor_id: int | str | None,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
    ) -> Any:
        headers = {"x-partner-key": self._key.get(), "x-discord-guild": str(guild_id), "accept": "application/json"}
        if actor_id is not None:
            headers["x-discord-actor"] = str(actor_id)
        url = self.base_url + path
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.deadline
        attempt = 0
        while True:
            attempt += 1
            remaining = give_up_at - loop.time()
            if remaining <= 0:
                raise NorthcaUnavailable(f"Northca did not answer {method} {path} within {self.deadline:g}s")
            try:
                return await self._once(method, url, path, headers, body, params, min(self.timeout, remaining))
            except NorthcaError as exc:
                may_retry = exc.retryable and (
                    idempotent
                    # Not sent at all, or refused before processing: safe for any request.
                    or (isinstance(exc, NorthcaUnavailable) and not exc.sent)
                    or isinstance(exc, NorthcaRateLimited)
                )
                if not may_retry or attempt >= self.max_attempts:
                    raise
                wait = self._backoff(attempt, exc)
                if loop.time() + wait >= give_up_at:
                    raise
                log.info("Northca %s %s failed (%s); retry %d in %.2fs", method, path, exc, attempt, wait)
                await asyncio.sleep(wait)

    def _backoff(self, attempt: int, exc: NorthcaError) -> float:
        if isinstance(exc, NorthcaRateLimited) and exc.retry_after is not None:
            return exc.retry_after + random.uniform(0, 0.1)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)

    async def _once(
        self,
        method: str,
        url: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        params: dict[str, str] | None,
        timeout: float,
    ) -> Any:
        started = time.perf_counter()
        self.requests_sent += 1
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                json=body,
                params=params,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as resp:
                status = resp.status
                content_type = resp.content_type
                retry_after = resp.headers.get("Retry-After")
                raw = await self._read_capped(resp, method, path)
        except TimeoutError:
            raise NorthcaUnavailable(f"Northca timed out after {timeout:g}s on {method} {path}") from None
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made, so nothing was sent.
            raise NorthcaUnavailable(
                f"cannot reach Northca ({exc.os_error.strerror or type(exc).__name__})", sent=False
            ) from None
        except aiohttp.ClientError as exc:
            raise NorthcaUnavailable(
                f"connection to Northca failed on {method} {path} ({type(exc).__name__})"
            ) from None
        log.debug("Northca %s %s -> %s in %.0f ms", method, path, status, (time.perf_counter() - started) * 1000)
        if len(raw) > THREAD_PARSE_BYTES:
            return await asyncio.to_thread(unwrap, status, content_type, raw, retry_after)
        return unwrap(status, content_type, raw, retry_after)

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        """The body, or NorthcaAnswerTooLarge as soon as it is known to exceed the cap
        (from Content-Length before reading anything, else while reading)."""
        cap = self.max_answer_bytes
        declared = resp.content_length
        if declared is not None and declared > cap:
            resp.close()
            raise self._too_large(method, path, resp.status, f"{declared} bytes announced")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_READ_CHUNK):
            body += chunk
            if len(body) > cap:
                # Closing drops the connection: the rest is never read.
                resp.close()
                raise self._too_large(method, path, resp.status, f"more than {cap} bytes sent")
        return bytes(body)

    def _too_large(self, method: str, path: str, status: int, what: str) -> NorthcaAnswerTooLarge:
        log.warning(
            "Northca's answer to %s %s was refused unread: %s (the cap is %d)",
            method,
            path,
            what,
            self.max_answer_bytes,
        )
        return NorthcaAnswerTooLarge(
            f"Northca sent an answer larger than {self.max_answer_bytes // (1024 * 1024)} MiB to {method} {path};"
            " it was refused unread",
            status,
        )
