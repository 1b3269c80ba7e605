"""The Northca Partner API client the whole bot shares.

One `aiohttp.ClientSession` (owned by the bot) carries every call. Each call
has a deadline covering all its retries, so a caller is never stuck; retries
are bounded, back off exponentially with jitter, honour `Retry-After`, and are
only made where repeating the request is safe.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import json
import logging
import random
import time
from typing import Any, Sequence, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from pydantic import BaseModel, ValidationError

from .errors import (
    NorthcaError,
    NorthcaRateLimited,
    NorthcaServerError,
    NorthcaUnavailable,
    error_for_status,
)
from .models import (
    ActiveUnit,
    ActiveUnitUpsert,
    ConfirmResult,
    CreateLinkRequestBody,
    CreateShiftBody,
    LinkedMdt,
    LinkRequest,
    Shift,
    UpsertActiveUnitsBody,
)

log = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://api.northca.dev/v1"

M = TypeVar("M", bound=BaseModel)


class _Secret:
    """Holds the partner key so that no repr, str or log line can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Secret('**********')"

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
        self._key = _Secret(partner_key)
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else max(timeout * 2.5, timeout + 5)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # Counters a person can read in /status of the bot or a benchmark.
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"<NorthcaClient base_url={self.base_url!r}>"

    def single_attempt(self) -> "NorthcaClient":
        """The same client (session, key, timeouts) trying each request once.

        For callers that run their own retry loop, such as the shift sync, which must
        look a shift up after an ambiguous failure before it may write it again."""
        clone = copy.copy(self)
        clone.max_attempts = 1
        return clone

    # --- endpoints ---------------------------------------------------------

    async def create_link_request(self, guild_id: int | str, mdt_id: str, actor_id: int | str | None = None) -> LinkRequest:
        body = CreateLinkRequestBody(mdt_id=mdt_id)
        data = await self._call("POST", "/link-requests", guild_id, actor_id, body=body.to_json(), idempotent=False)
        return self._parse(LinkRequest, data)

    async def confirm_link_request(self, request_id: str, guild_id: int | str, actor_id: int | str) -> ConfirmResult:
        # Confirming twice answers `already`, so a repeat is harmless.
        data = await self._call(
            "POST", f"/link-requests/{_seg(request_id)}/confirm", guild_id, actor_id, idempotent=True
        )
        return self._parse(ConfirmResult, data if isinstance(data, dict) else {})

    async def list_guild_mdts(self, guild_id: int | str, actor_id: int | str | None = None) -> list[LinkedMdt]:
        data = await self._call("GET", f"/guilds/{_seg(str(guild_id))}/mdts", guild_id, actor_id, idempotent=True)
        return self._parse_list(LinkedMdt, data)

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
        return self._parse(Shift, data)

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
        params: dict[str, str] = {"limit": str(max(1, min(200, int(limit))))}
        if department:
            params["department"] = department
        if status:
            params["status"] = status
        data = await self._call("GET", f"/mdts/{_seg(mdt_id)}/shifts", guild_id, actor_id, params=params, idempotent=True)
        return self._parse_list(Shift, data)

    async def upsert_active_units(
        self, mdt_id: str, units: Sequence[ActiveUnitUpsert], guild_id: int | str, actor_id: int | str | None = None
    ) -> list[ActiveUnit]:
        body = UpsertActiveUnitsBody(units=list(units))
        data = await self._call(
            "PUT", f"/mdts/{_seg(mdt_id)}/units/active", guild_id, actor_id, body=body.to_json(), idempotent=True
        )
        return self._parse_list(ActiveUnit, data)

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
                raw = await resp.read()
                status = resp.status
                content_type = resp.content_type
                retry_after = resp.headers.get("Retry-After")
        except asyncio.TimeoutError:
            raise NorthcaUnavailable(f"Northca timed out after {timeout:g}s on {method} {path}") from None
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made, so nothing was sent.
            raise NorthcaUnavailable(f"cannot reach Northca ({exc.os_error.strerror or type(exc).__name__})", sent=False) from None
        except aiohttp.ClientError as exc:
            raise NorthcaUnavailable(f"connection to Northca failed on {method} {path} ({type(exc).__name__})") from None
        log.debug("Northca %s %s -> %s in %.0f ms", method, path, status, (time.perf_counter() - started) * 1000)
        return self._unwrap(status, content_type, raw, retry_after)

    @staticmethod
    def _unwrap(status: int, content_type: str, raw: bytes, retry_after_header: str | None) -> Any:
        envelope: Any = None
        if raw and "json" in content_type:
            try:
                envelope = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                envelope = None
        retry_after = _parse_retry_after(retry_after_header)
        if not isinstance(envelope, dict) or "ok" not in envelope:
            what = "an empty body" if not raw else f"a body that is not the JSON envelope ({content_type or 'no content type'})"
            message = f"Northca answered HTTP {status} with {what}"
            if 200 <= status < 300:
                raise NorthcaServerError(message, status)
            raise error_for_status(status, message, retry_after)
        if envelope.get("ok") is True and 200 <= status < 300:
            return envelope.get("data")
        error = envelope.get("error")
        message = error if isinstance(error, str) and error else f"Northca answered HTTP {status}"
        if 200 <= status < 300:
            # ok:false with a 2xx status is not a success whatever the status says.
            raise NorthcaServerError(message, status)
        raise error_for_status(status, message, retry_after)

    @staticmethod
    def _parse(model: type[M], data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise NorthcaServerError(f"Northca sent an unreadable {model.__name__} ({exc.error_count()} problems)", 200) from None

    @classmethod
    def _parse_list(cls, model: type[M], data: Any) -> list[M]:
        if not isinstance(data, list):
            raise NorthcaServerError(f"Northca sent {type(data).__name__} where a list of {model.__name__} was expected", 200)
        return [cls._parse(model, item) for item in data]


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # An HTTP-date; rare enough to fall back to our own backoff.
