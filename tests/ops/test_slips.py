"""The small slips of set-up and daily use, each named after what a user would trip over."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.core.config import parse_config
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import Faults, NorthcaSandbox, config_from_args
from tests.helpers.ids import GUILD, MDT, OWNER
from tests.ops.botproc import REPO

PYTHON_ERROR_TEXT = ("Expecting value", "object has no attribute", "invalid literal", "could not convert", "Traceback")


def test_auto_approve_after_false_means_approve_by_hand():
    config = parse_config({"discord": {"token": "t"}, "sandbox": {"auto_approve_after": False}}, env={})
    assert config.sandbox.auto_approve_after is None
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    comment = example.split("\nauto_approve_after =")[0].rsplit("\n\n", 1)[-1].split("[sandbox]")[-1]
    assert "Set it to false to approve by" in comment and "remove to approve" not in comment


async def _post_faults(sandbox: NorthcaSandbox, http: aiohttp.ClientSession, data: str) -> tuple[int, str]:
    assert sandbox.base_url
    url = sandbox.base_url.removesuffix("/v1") + "/_sandbox/faults"
    async with http.post(url, data=data, headers={"content-type": "application/json"}) as resp:
        return resp.status, (await resp.json())["error"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"fault": "500", "times": "two"}',
        '{"latency_ms": "slow"}',
        '{"fault": "500", "path": "("}',
    ],
)
async def test_malformed_fault_request_answers_without_python_error_text(sandbox, http, body):
    status, error = await _post_faults(sandbox, http, body)
    assert status == 400 and error.startswith("Malformed fault request")
    assert not any(text in error for text in PYTHON_ERROR_TEXT)
    assert sandbox.faults.queue == []


@pytest.mark.asyncio
async def test_fault_with_times_zero_is_refused_and_never_fires(sandbox, http, client: NorthcaClient):
    status, error = await _post_faults(sandbox, http, '{"fault": "500", "times": 0}')
    assert status == 400 and "times must be 1 or more" in error
    with pytest.raises(ValueError):
        Faults().add("500", times=0)
    sandbox.link(GUILD, MDT)
    assert await client.list_guild_mdts(GUILD) is not None  # no 500 fired


@pytest.mark.asyncio
async def test_expiring_an_approved_request_is_refused_and_keeps_it_approved(sandbox, http, client: NorthcaClient):
    request = await client.create_link_request(GUILD, MDT, OWNER)
    sandbox.decide(request.id, "approved")
    assert sandbox.base_url
    url = sandbox.base_url.removesuffix("/v1") + f"/_sandbox/link-requests/{request.id}/expire"
    async with http.post(url) as resp:
        assert resp.status == 409 and (await resp.json())["error"] == "Link request already approved"
    assert sandbox.is_linked(GUILD, MDT)
    assert [r["status"] for r in sandbox.link_requests()] == ["approved"]


def test_sandbox_restarted_with_db_but_without_mdt_keeps_the_owner(tmp_path: Path):
    db = str(tmp_path / "sandbox.sqlite3")
    first = NorthcaSandbox(config_from_args(db, ["m1:42"], auto_approve=True))
    first.db.close()
    again = NorthcaSandbox(config_from_args(db, [], auto_approve=True))
    try:
        owners = {r["id"]: r["owner_discord_id"] for r in again.db.execute("SELECT id, owner_discord_id FROM mdts")}
    finally:
        again.db.close()
    assert owners == {"m1": "42"}


def test_configuration_reference_names_every_key():
    from bot.core.config import Config

    reference = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for line in reference.splitlines():
        if line.startswith("| `["):
            rows.setdefault(line.split("|")[1].strip().strip("`[]"), []).append(line)
    for section, field in Config.model_fields.items():
        assert section in rows, f"[{section}] is missing from docs/configuration.md"
        model = field.annotation
        # Each Config section's annotation is a model class; typed as `type | None` by pydantic.
        for key in model.model_fields:  # type: ignore[union-attr]
            assert any(f"| `{key}` |" in row for row in rows[section]), f"[{section}] {key} is missing"
