"""Shared fixtures: a real sandbox on loopback, and a real aiohttp session.

Every request that reaches a sandbox in any test is validated against the
project's copy of the spec when the test ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from tests.spec import validate_request

GUILD = 111111111111111111
OWNER = 222222222222222222
ADMIN = 333333333333333333
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
KEY = "test-partner-key-d0n0tl0g"


def assert_requests_follow_spec(sandbox: NorthcaSandbox) -> None:
    for rec in sandbox.requests:
        validate_request(rec.method, rec.path, rec.query, rec.headers, rec.body)


@pytest.fixture
async def sandbox() -> AsyncIterator[NorthcaSandbox]:
    sb = NorthcaSandbox(
        SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))])
    )
    await sb.start()
    try:
        yield sb
    finally:
        requests = list(sb.requests)
        await sb.stop()
    for rec in requests:
        validate_request(rec.method, rec.path, rec.query, rec.headers, rec.body)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sandbox: NorthcaSandbox, http: aiohttp.ClientSession) -> NorthcaClient:
    assert sandbox.base_url
    return NorthcaClient(http, sandbox.base_url, KEY, timeout=2.0, deadline=6.0, backoff_base=0.02, backoff_max=0.2)


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    # DEBUG everywhere, so the "key never logged" assertions see every line.
    caplog.set_level(logging.DEBUG)
