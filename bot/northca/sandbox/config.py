"""The sandbox's configuration: its partner key, its MDTs, its link-request timings."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_SANDBOX_KEY = "sandbox-partner-key"


class SandboxMdt(BaseModel):
    id: str = Field(min_length=1)
    owner_discord_id: str | None = None
    name: str | None = None


class SandboxConfig(BaseModel):
    partner_key: str = DEFAULT_SANDBOX_KEY
    # Approve pending link requests by themselves after this many seconds (None: never).
    auto_approve_after: float | None = 1.0
    link_request_ttl_seconds: float = 15 * 60
    db_path: str = ":memory:"
    mdts: list[SandboxMdt] = Field(default_factory=lambda: [SandboxMdt(id="demo-mdt", name="Demo MDT")])
    record_requests: bool = True
