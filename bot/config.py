"""Typed configuration: a TOML file read into pydantic models.

Secrets may come from the environment instead of the file (`DISCORD_TOKEN`,
`NORTHCA_PARTNER_KEY`, or files named by `DISCORD_TOKEN_FILE`, `NORTHCA_PARTNER_KEY_FILE`), the database
path from `NORTHCA_BOT_DB` (a PostgreSQL URL from `NORTHCA_BOT_DATABASE_URL`) and the health port from
`NORTHCA_BOT_HEALTH_PORT`; with the token in the environment the file is optional. Every problem is
reported as one readable line naming the key; values are never echoed, so a secret cannot leak through an error.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bot.northca.client import PRODUCTION_BASE_URL
from bot.northca.sandbox import SandboxMdt
from bot.storage import DEFAULT_POOL_MAX, DEFAULT_POOL_MIN, DEFAULT_RETRY_SECONDS


class ConfigError(Exception):
    """The configuration is unusable; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiscordConfig(_Section):
    token: SecretStr | None = None
    dev_guild_id: int | None = None
    # Sharding over several processes (docs/scaling.md): every process names the same shard_count and its own
    # shard_ids; together they cover 0 .. shard_count-1. Unset: one process, Discord's default.
    shard_count: int | None = Field(default=None, ge=1, le=10_000)
    shard_ids: list[int] | None = None

    @model_validator(mode="after")
    def _shards(self) -> DiscordConfig:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count (the total number of shards of every process)")
        if not self.shard_ids:
            raise ValueError("shard_ids is empty: list the shards this process runs, or remove the line")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("shard_ids lists a shard twice")
        wrong = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
        if wrong:
            raise ValueError(
                f"shard_ids {wrong} out of range: ids run from 0 to shard_count - 1 ({self.shard_count - 1})"
            )
        return self

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None


class NorthcaConfig(_Section):
    base_url: str = PRODUCTION_BASE_URL
    partner_key: SecretStr | None = None
    timeout_seconds: float = Field(default=8.0, gt=0, le=120)
    deadline_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.northca.dev/v1")
        return value.rstrip("/")

    @field_validator("partner_key")
    @classmethod
    def _key_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError(
                "is empty: paste your Northca partner key, or remove the line to run against the LOCAL sandbox"
            )
        return value


class DatabaseConfig(_Section):
    path: str = "data/northca-bot.sqlite3"
    # PostgreSQL instead of the SQLite file at `path`: postgresql://user:password@host:port/dbname.
    url: str | None = None
    # PostgreSQL only: the connections each process keeps open (at least) and may open (at most); reads run
    # concurrently on them, each transaction holds one. SQLite keeps its one connection and single writer.
    pool_min: int = Field(default=DEFAULT_POOL_MIN, ge=1, le=100)
    pool_max: int = Field(default=DEFAULT_POOL_MAX, ge=1, le=100)
    # PostgreSQL only: how long a statement is retried while the server restarts (where sending it again is safe)
    # before the person is told to try again.
    retry_seconds: float = Field(default=DEFAULT_RETRY_SECONDS, ge=0.0, le=60.0)

    @model_validator(mode="after")
    def _pool_sizes_in_order(self) -> DatabaseConfig:
        if self.pool_min > self.pool_max:
            raise ValueError(f"pool_min ({self.pool_min}) is larger than pool_max ({self.pool_max}): lower pool_min")
        return self

    @field_validator("url")
    @classmethod
    def _url_is_postgresql(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must be a PostgreSQL URL (postgresql://user:password@host:5432/dbname), "
                "or remove it to use the SQLite file at [database] path"
            )
        return value

    @property
    def target(self) -> str:
        """What Database opens: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.url or self.path

    @property
    def where(self) -> str:
        """The database for messages: the file, or the URL without its password."""
        from bot.storage import redact_url

        return redact_url(self.url) if self.url else self.path


class ShiftConfig(_Section):
    departments: list[str] = Field(default_factory=lambda: ["Patrol", "Traffic", "Fire", "EMS", "Dispatch"])
    end_status: str = "completed"
    max_shift_hours: float = Field(default=12.0, gt=0, le=72)
    log_channel_id: int | None = None
    on_duty_role_id: int | None = None
    supervisor_role_ids: list[int] = Field(default_factory=list)
    # How often the background sync retries shifts waiting for Northca.
    sync_interval_seconds: float = Field(default=15.0, gt=0)


ButtonStyleName = Literal["primary", "secondary", "success", "danger"]


class StatusCode(_Section):
    code: str = Field(min_length=1, max_length=16)
    label: str = Field(min_length=1, max_length=40)
    style: ButtonStyleName = "secondary"


def _default_codes() -> list[StatusCode]:
    return [
        StatusCode(code="10-8", label="In service", style="success"),
        StatusCode(code="10-6", label="Busy", style="primary"),
        StatusCode(code="10-7", label="Out of service", style="danger"),
        StatusCode(code="10-23", label="On scene", style="primary"),
        StatusCode(code="10-97", label="En route", style="secondary"),
    ]


class StatusConfig(_Section):
    codes: list[StatusCode] = Field(default_factory=_default_codes, min_length=1, max_length=25)
    batch_window_ms: int = Field(default=250, ge=0, le=10_000)
    # What a click does while its officer is off duty: "prompt" (tell them to /shift start) or "allow".
    off_duty: Literal["prompt", "allow"] = "prompt"
    on_duty_code: str = "10-8"
    off_duty_code: str = "10-7"
    # How often statuses Northca has not acknowledged (refused, or lost in an outage) are sent again.
    resend_interval_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _codes_known(self) -> StatusConfig:
        known = {c.code for c in self.codes}
        if len(known) != len(self.codes):
            raise ValueError("status codes must be unique")
        for name in ("on_duty_code", "off_duty_code"):
            if getattr(self, name) not in known:
                raise ValueError(f"{name} {getattr(self, name)!r} is not one of the configured codes")
        return self


class SandboxSection(_Section):
    """The local Northca used when no partner key is configured."""

    port: int = Field(default=0, ge=0, le=65535)
    # Seconds before a link request approves itself; false (TOML has no null): approve by hand.
    auto_approve_after: float | None = Field(default=1.0, ge=0)
    mdts: list[SandboxMdt] = Field(default_factory=lambda: [SandboxMdt(id="demo-mdt", name="Demo MDT")])

    @field_validator("auto_approve_after", mode="before")
    @classmethod
    def _false_is_by_hand(cls, value: Any) -> Any:
        if value is False:
            return None
        if value is True:
            raise ValueError("must be a number of seconds, or false to approve by hand")
        return value

    # None: a file beside the bot's database (<database stem>.sandbox.sqlite3), so a restart keeps links.
    db_path: str | None = None


class HealthSection(_Section):
    """The loopback health endpoint (GET /health) and the old-outbox warning."""

    host: str = "127.0.0.1"
    # None: no endpoint (the warning still runs); 0 picks a free port. NORTHCA_BOT_HEALTH_PORT overrides it.
    port: int | None = Field(default=None, ge=0, le=65535)
    # A warning is logged (and /health reports unhealthy) while a shift has waited for Northca this long.
    outbox_warn_after_seconds: float = Field(default=900.0, gt=0)


class SettingsSection(_Section):
    """Per-server settings (the [shifts] and [status] values above are the defaults a server starts from)."""

    # How long a server's data is kept after the bot leaves it (rejoining within it restores the settings).
    retention_days: float = Field(default=30.0, ge=0)
    purge_interval_seconds: float = Field(default=3600.0, gt=0)


class Config(_Section):
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    northca: NorthcaConfig = Field(default_factory=NorthcaConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    shifts: ShiftConfig = Field(default_factory=ShiftConfig)
    status: StatusConfig = Field(default_factory=StatusConfig)
    sandbox: SandboxSection = Field(default_factory=SandboxSection)
    health: HealthSection = Field(default_factory=HealthSection)
    settings: SettingsSection = Field(default_factory=SettingsSection)

    @property
    def uses_sandbox(self) -> bool:
        return self.northca.partner_key is None


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required"
        message = message.removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return lines


# Secrets that may also come from a file named by NAME_FILE (Docker and Kubernetes secrets).
_SECRET_ENV = ("DISCORD_TOKEN", "NORTHCA_PARTNER_KEY")


def _secrets_from_files(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with each NAME_FILE read into NAME (an explicit NAME wins)."""
    merged = dict(env)
    for name in _SECRET_ENV:
        file_name = env.get(f"{name}_FILE")
        if not file_name or env.get(name):
            continue
        try:
            merged[name] = Path(file_name).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{name}_FILE: cannot read {file_name} ({type(exc).__name__})"]) from None
        if not merged[name]:
            raise ConfigError([f"{name}_FILE: {file_name} is empty"])
    return merged


def has_env_token(env: Mapping[str, str]) -> bool:
    return bool(env.get("DISCORD_TOKEN") or env.get("DISCORD_TOKEN_FILE"))


def parse_config(data: dict[str, Any], env: Mapping[str, str] | None = None, *, require_token: bool = True) -> Config:
    env = _secrets_from_files(os.environ if env is None else env)
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if env.get("DISCORD_TOKEN"):
        data.setdefault("discord", {})["token"] = env["DISCORD_TOKEN"]
    if env.get("NORTHCA_PARTNER_KEY"):
        data.setdefault("northca", {})["partner_key"] = env["NORTHCA_PARTNER_KEY"]
    if env.get("NORTHCA_BOT_DB"):
        # Lets a container keep its SQLite file on a volume whatever the mounted config says.
        data.setdefault("database", {})["path"] = env["NORTHCA_BOT_DB"]
    if env.get("NORTHCA_BOT_DATABASE_URL"):
        # PostgreSQL (and its password) from the environment rather than the file.
        data.setdefault("database", {})["url"] = env["NORTHCA_BOT_DATABASE_URL"]
    if env.get("NORTHCA_BOT_HEALTH_PORT"):
        data.setdefault("health", {})["port"] = env["NORTHCA_BOT_HEALTH_PORT"]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
    if require_token and (config.discord.token is None or not config.discord.token.get_secret_value().strip()):
        raise ConfigError(["discord.token: required (set it in the file or in the DISCORD_TOKEN environment variable)"])
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None, *, require_token: bool = True) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if has_env_token(os.environ if env is None else env):
            # Everything from the environment (e.g. a container): the file is optional, defaults for the rest.
            return parse_config({}, env, require_token=require_token)
        raise ConfigError([f"{path}: no such file (copy config.example.toml to start)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read ({type(exc).__name__})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message names line and column, never the value.
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_config(data, env, require_token=require_token)
