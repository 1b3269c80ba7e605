"""The PRC sandbox on loopback and the client against it. Every request a test sent to the sandbox is
validated against the project's copy of the PRC API when the test ends (tests/erlc/prc_spec.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import aiohttp
import pytest

from bot.erlc.client import PrcClient
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig, RecordedRequest
from tests.erlc.prc_spec import validate_prc_request

# A server key as a community would paste it; no log line, message or exception may ever hold it.
SERVER_KEY = "prc-test-key-N3verL0gMe"
OTHER_KEY = "prc-other-key-Secr3tToo"
GLOBAL_KEY = "prc-global-key-Gl0balS3cret"
OWNER_ID = 7001
# Requests a test sends by hand carry it; the client's requests never do, and only those are held to the copy.
RAW_REQUEST_HEADER = "X-Test-Raw"
RAW = {RAW_REQUEST_HEADER: "1"}


@pytest.fixture
def prc_config() -> PrcSandboxConfig:
    return PrcSandboxConfig(global_keys=[GLOBAL_KEY])


@pytest.fixture
async def prc(prc_config: PrcSandboxConfig) -> AsyncIterator[PrcSandbox]:
    sandbox = PrcSandbox(prc_config)
    await sandbox.start()
    sandbox.add_server(SERVER_KEY, name="Sunset County RP", owner_id=OWNER_ID, max_players=40)
    try:
        yield sandbox
    finally:
        requests = list(sandbox.requests)
        await sandbox.stop()
    assert_requests_follow_the_copy(requests)


def assert_requests_follow_the_copy(requests: Iterable[RecordedRequest]) -> None:
    for rec in requests:
        if RAW_REQUEST_HEADER.lower() in rec.headers:
            continue  # sent by hand on purpose (to see how the sandbox answers a bad request), not by the client
        validate_prc_request(rec.method, rec.path, rec.query, rec.headers, rec.body)


@pytest.fixture
def prc_client(prc: PrcSandbox, http: aiohttp.ClientSession) -> PrcClient:
    assert prc.base_url
    return PrcClient(http, prc.base_url, timeout=2.0)
