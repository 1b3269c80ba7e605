"""The PRC sandbox's configuration: where its state lives, its rate limits, its global keys, its servers."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_SERVER_KEY = "sandbox-server-key"


class SandboxServer(BaseModel):
    """A private server the sandbox knows from the start (more with `add_server`)."""

    key: str = Field(min_length=1)
    name: str = "Sandbox Private Server"
    owner_id: int = 1
    max_players: int = Field(default=40, ge=1)


class PrcSandboxConfig(BaseModel):
    # SQLite file for the state, or ":memory:".
    db_path: str = ":memory:"
    # The read bucket (`global`): per client IP, or per global key when one is sent. The docs show a limit of
    # 35 and say to read the headers; the window is not documented (assumption: 35 a second by default).
    rate_limit: int = Field(default=35, ge=1)
    rate_window_seconds: int = Field(default=1, ge=1)
    # The command bucket (`command-<key>`): about 1 command every 5 s per server.
    command_limit: int = Field(default=1, ge=1)
    command_window_seconds: int = Field(default=5, ge=1)
    # Global keys the sandbox accepts in `Authorization` (any other answers 2003).
    global_keys: list[str] = Field(default_factory=list)
    # PRC answers 3002 while a server has nobody in game (the private server is offline then).
    offline_when_empty: bool = True
    servers: list[SandboxServer] = Field(default_factory=list)
    record_requests: bool = True
