"""Typed configuration: a TOML file read into pydantic models.

Secrets may come from the environment instead of the file (`DISCORD_TOKEN`,
`NORTHCA_PARTNER_KEY`, `ERLC_GLOBAL_KEY`, `ERLC_KEK`, `DISCORD_CLIENT_SECRET` (the dashboard's OAuth2), or files
named by `DISCORD_TOKEN_FILE`, `NORTHCA_PARTNER_KEY_FILE`, `ERLC_GLOBAL_KEY_FILE`, `ERLC_KEK_FILE`,
`DISCORD_CLIENT_SECRET_FILE`), the database
path from `NORTHCA_BOT_DB` (a PostgreSQL URL from `NORTHCA_BOT_DATABASE_URL`) and the health port from
`NORTHCA_BOT_HEALTH_PORT`. The default file (config.toml, not named on the command line) may be absent when the
environment supplies everything; a file named with --config must exist. A variable that is set wins over the
file, and a variable set but empty is an error, as an empty value in the file is. Every problem is reported as
one readable line naming the key (or the variable it came from); values are never echoed, so a secret cannot
leak through an error.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bot.erlc.client import DEFAULT_BASE_URL as PRC_DEFAULT_BASE_URL
from bot.erlc.client import MAX_ANSWER_BYTES as PRC_MAX_ANSWER_BYTES
from bot.erlc.webhook_key import PRC_WEBHOOK_PUBLIC_KEY, load_public_key
from bot.northca.client import PRODUCTION_BASE_URL
from bot.northca.sandbox import SandboxMdt
from bot.storage import DEFAULT_POOL_MAX, DEFAULT_POOL_MIN, DEFAULT_RETRY_SECONDS

DEFAULT_CONFIG_PATH = "config.toml"
# The user the Docker image runs the bot as (Dockerfile: useradd --uid 10001).
CONTAINER_UID = 10001
# What config.example.toml holds until the operator pastes real values.
PLACEHOLDERS = frozenset({"paste-your-bot-token-here", "paste-your-partner-key-here", "..."})


def uid_hint(access: str = "read") -> str:
    """Who was refused, for a permission error: in the container, a root-owned mount or a 600 secret file."""
    able = "writable" if access == "write" else "readable"
    return (
        f"this process runs as uid {os.getuid()} (the container runs as uid {CONTAINER_UID}): "
        f"make it {able} by that uid (e.g. chown {CONTAINER_UID} on the host)"
    )


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
    def both_set_note(self) -> str | None:
        """Both a file path and a URL were given: which one is used, said rather than chosen silently."""
        if self.url is None or "path" not in self.model_fields_set:
            return None
        return (
            f"[database] url wins over [database] path: the bot uses PostgreSQL; the SQLite file {self.path} is not "
            "used (in demo mode the sandbox keeps its state beside it)"
        )

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

    # None: a file beside [database] path (<stem>.sandbox.sqlite3), on PostgreSQL too, so a restart (and a move
    # to PostgreSQL with migrate-db) keeps links.
    db_path: str | None = None


class BotSection(_Section):
    """How the bot's process runs (bot/ops/runtime.py)."""

    # "auto": uvloop when it is installed (`pip install uvloop`), asyncio's own loop otherwise; "asyncio" or
    # "uvloop" to choose (uvloop must then be installed).
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"

    @field_validator("event_loop")
    @classmethod
    def _installed(cls, value: str) -> str:
        # The same test as bot/ops/runtime.py's `uvloop_installed` (the configuration is read before anything runs).
        if value == "uvloop" and importlib.util.find_spec("uvloop") is None:
            raise ValueError('uvloop is not installed: pip install uvloop, or use "auto" or "asyncio"')
        return value


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


# --- [erlc]: the game (ER:LC private servers through the PRC API) ------------------------------------------
# The PRC client's settings (this block); the key-encryption key of the connect feature goes in its own block
# right after, in the same section.
class ErlcConfig(_Section):
    """The PRC API: where it is, the optional global key (large deployments), PRC's webhook public key."""

    base_url: str = PRC_DEFAULT_BASE_URL
    # Sent as `Authorization` with every request when set (100+ servers); or ERLC_GLOBAL_KEY, or a file named
    # by global_key_file / ERLC_GLOBAL_KEY_FILE.
    global_key: SecretStr | None = None
    global_key_file: str | None = None
    # PRC's Ed25519 public key for the signed event webhooks (SPKI, base64), as PRC publishes it.
    webhook_public_key: str = PRC_WEBHOOK_PUBLIC_KEY
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_answer_bytes: int = Field(default=PRC_MAX_ANSWER_BYTES, ge=16 * 1024, le=64 * 1024 * 1024)

    @field_validator("base_url")
    @classmethod
    def _erlc_url(cls, value: str) -> str:
        from bot.erlc.client import check_base_url

        check_base_url(value)
        return value.rstrip("/")

    @field_validator("global_key")
    @classmethod
    def _global_key_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty: paste the global API key PRC gave you, or remove the line")
        return value

    @field_validator("webhook_public_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        load_public_key(value)  # ValueError names what is wrong, never the value
        return value.strip()

    @model_validator(mode="after")
    def _key_from_file(self) -> ErlcConfig:
        if self.global_key is None and self.global_key_file:
            try:
                text = Path(self.global_key_file).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                problem = f"cannot read {self.global_key_file} ({type(exc).__name__})"
                raise ValueError(f"global_key_file: {problem}") from None
            if not text:
                raise ValueError(f"global_key_file: {self.global_key_file} is empty")
            self.global_key = SecretStr(text)
        return self

    # --- /erlc connect and the presence poller (bot/erlc/service.py, poller.py) ---
    # Fernet key encrypting the server keys at rest (or ERLC_KEK / ERLC_KEK_FILE). Without it /erlc connect
    # refuses: a key is never stored in clear.
    key_encryption_key: SecretStr | None = None
    # Older KEKs still readable during a rotation (`northca-bot erlc-rotate-kek` re-encrypts under the new one).
    previous_key_encryption_keys: list[SecretStr] = Field(default_factory=list)
    # A webhook request whose timestamp is further than this from now is refused (replays).
    webhook_max_age_seconds: float = Field(default=300.0, gt=0, le=3600)
    # The poller's cadence per server: while a linked member is on duty, while players are in game, when empty.
    poll_fast_seconds: float = Field(default=10.0, gt=0)
    poll_seconds: float = Field(default=30.0, gt=0)
    poll_slow_seconds: float = Field(default=120.0, gt=0)
    poll_max_backoff_seconds: float = Field(default=600.0, ge=1)
    poll_concurrency: int = Field(default=16, ge=1, le=256)
    # After a start, the first polls are spread over this long (no burst of requests after a restart).
    first_poll_spread_seconds: float = Field(default=30.0, ge=0)

    @field_validator("key_encryption_key")
    @classmethod
    def _kek(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.erlc.keys import check_kek

        if value is not None:
            problem = check_kek(value.get_secret_value())
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("previous_key_encryption_keys")
    @classmethod
    def _previous(cls, value: list[SecretStr]) -> list[SecretStr]:
        from bot.erlc.keys import check_kek

        for item in value:
            problem = check_kek(item.get_secret_value())
            if problem:
                raise ValueError(problem)
        return value


# --- end of [erlc] ------------------------------------------------------------------------------------------


DEFAULT_WEB_PORT = 8080


class WebSection(_Section):
    """The bot's public web server: the ER:LC event webhook, and the dashboard (bot/web/dashboard/) under /dashboard/
    when `enabled`. Started in `northca-bot run` only when `port` is set or the dashboard is enabled (port 8080
    then); `northca-bot web` serves the dashboard alone, in its own process, over the same database."""

    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=0, le=65535)
    # The address the world reaches it at (e.g. https://bot.example.org behind a TLS proxy): the webhook URLs,
    # the dashboard's OAuth2 redirect (`<public_base_url>/dashboard/auth/callback`) and its Secure cookie (https).
    public_base_url: str | None = None
    # The web dashboard: mounted in `northca-bot run` when true (`northca-bot web` always serves it).
    enabled: bool = False
    # The Discord application's OAuth2 client (Developer Portal > OAuth2): the id, and the secret (or
    # DISCORD_CLIENT_SECRET / DISCORD_CLIENT_SECRET_FILE). The secret is never logged or rendered.
    client_id: int | None = Field(default=None, gt=0)
    client_secret: SecretStr | None = None
    # A dashboard session ends after this long without a request.
    session_idle_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    # How long what Discord says about a user's permissions in a server is trusted before it is asked again (a
    # user who lost Manage Server loses the server's pages within this time).
    permission_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Logins started per minute, per client address and in all (a login sends the browser to Discord).
    login_attempts_per_minute: int = Field(default=10, ge=1, le=10_000)

    @field_validator("client_secret")
    @classmethod
    def _secret_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty: paste the OAuth2 client secret, or remove the line")
        return value

    @property
    def listen_port(self) -> int | None:
        """The port `northca-bot run` listens on: `port`, else 8080 when the dashboard is enabled, else none."""
        if self.port is not None:
            return self.port
        return DEFAULT_WEB_PORT if self.enabled else None

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://bot.example.org")
        return value.rstrip("/") if value else value


class Config(_Section):
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    northca: NorthcaConfig = Field(default_factory=NorthcaConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    shifts: ShiftConfig = Field(default_factory=ShiftConfig)
    status: StatusConfig = Field(default_factory=StatusConfig)
    sandbox: SandboxSection = Field(default_factory=SandboxSection)
    health: HealthSection = Field(default_factory=HealthSection)
    settings: SettingsSection = Field(default_factory=SettingsSection)
    erlc: ErlcConfig = Field(default_factory=ErlcConfig)
    web: WebSection = Field(default_factory=WebSection)
    bot: BotSection = Field(default_factory=BotSection)

    @property
    def uses_sandbox(self) -> bool:
        return self.northca.partner_key is None


# Settings an environment variable may supply (and then wins over the file).
_ENV_SETTINGS: dict[str, tuple[str, str]] = {
    "DISCORD_TOKEN": ("discord", "token"),
    "NORTHCA_PARTNER_KEY": ("northca", "partner_key"),
    "ERLC_GLOBAL_KEY": ("erlc", "global_key"),
    "ERLC_KEK": ("erlc", "key_encryption_key"),
    "DISCORD_CLIENT_SECRET": ("web", "client_secret"),
    "NORTHCA_BOT_DB": ("database", "path"),
    "NORTHCA_BOT_DATABASE_URL": ("database", "url"),
    "NORTHCA_BOT_HEALTH_PORT": ("health", "port"),
}
_EMPTY_VARIABLE_FIX = {
    "DISCORD_TOKEN": "set it to the bot token, or unset it to use DISCORD_TOKEN_FILE or [discord] token",
    "NORTHCA_PARTNER_KEY": "set it to your Northca partner key, or unset it to run against the LOCAL sandbox",
    "ERLC_GLOBAL_KEY": "set it to your PRC global key, or unset it (each server's own key is then used alone)",
    "ERLC_KEK": "set it to a key from `northca-bot erlc-new-kek`, or unset it to use ERLC_KEK_FILE or [erlc]",
    "DISCORD_CLIENT_SECRET": "set it to the OAuth2 client secret, or unset it (DISCORD_CLIENT_SECRET_FILE or [web])",
}


def _where(loc: tuple[int | str, ...], from_env: Mapping[str, str]) -> str:
    """A problem's key, with the variable it came from when the environment supplied it."""
    where = ".".join(str(p) for p in loc) or "(top level)"
    for key, variable in from_env.items():
        if where == key or where.startswith(key + "."):
            return f"{variable} ({where})"
    return where


def _problems(exc: ValidationError, from_env: Mapping[str, str] | None = None) -> list[str]:
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        where = _where(err["loc"], from_env or {})
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required"
        message = message.removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return lines


# Secrets that may also come from a file named by NAME_FILE (Docker and Kubernetes secrets).
_SECRET_ENV = ("DISCORD_TOKEN", "NORTHCA_PARTNER_KEY", "ERLC_GLOBAL_KEY", "ERLC_KEK", "DISCORD_CLIENT_SECRET")


def _secrets_from_files(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with each NAME_FILE read into NAME (an explicit NAME wins)."""
    merged = dict(env)
    for name in _SECRET_ENV:
        if name in env and not env[name].strip():
            # Set but empty: as an empty value in the file is an error, so is this (never a silent default).
            raise ConfigError([f"{name}: is empty: {_EMPTY_VARIABLE_FIX[name]}"])
        file_name = env.get(f"{name}_FILE")
        if not file_name or env.get(name):
            continue
        try:
            merged[name] = Path(file_name).read_text(encoding="utf-8").strip()
        except PermissionError:
            raise ConfigError([f"{name}_FILE: cannot read {file_name}: permission denied; {uid_hint()}"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{name}_FILE: cannot read {file_name} ({type(exc).__name__})"]) from None
        if not merged[name]:
            raise ConfigError([f"{name}_FILE: {file_name} is empty"])
    return merged


def has_env_token(env: Mapping[str, str]) -> bool:
    return bool(env.get("DISCORD_TOKEN") or env.get("DISCORD_TOKEN_FILE"))


def parse_config(
    data: dict[str, Any], env: Mapping[str, str] | None = None, *, require_token: bool = True, file: str | None = None
) -> Config:
    """`file`: the config file the data came from (None: no file, everything from the environment)."""
    env = _secrets_from_files(os.environ if env is None else env)
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    from_env: dict[str, str] = {}
    for variable, (section, key) in _ENV_SETTINGS.items():
        if env.get(variable):
            # E.g. NORTHCA_BOT_DB keeps a container's SQLite file on a volume whatever the mounted config says.
            data.setdefault(section, {})[key] = env[variable]
            from_env[f"{section}.{key}"] = variable
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, from_env)) from None
    if require_token:
        problems = _secret_problems(config, from_env, file)
        if problems:
            raise ConfigError(problems)
    return config


def _secret_problems(config: Config, from_env: Mapping[str, str], file: str | None) -> list[str]:
    token = config.discord.token.get_secret_value().strip() if config.discord.token else ""
    problems = []
    if not token:
        if file is None:
            problems.append(
                "No bot token: set DISCORD_TOKEN (or DISCORD_TOKEN_FILE, e.g. a Docker secret), or put token = "
                f'"..." under [discord] in {Path(DEFAULT_CONFIG_PATH).resolve()} (copy config.example.toml there)'
            )
        else:
            problems.append("discord.token: required (set it in the file or in the DISCORD_TOKEN environment variable)")
    elif token in PLACEHOLDERS:
        problems.append(
            f"{_where(('discord', 'token'), from_env)}: is still the example's placeholder: paste the bot token from "
            "the Discord developer portal (Bot > Reset Token), or set DISCORD_TOKEN"
        )
    key = config.northca.partner_key
    if key is not None and key.get_secret_value().strip() in PLACEHOLDERS:
        problems.append(
            f"{_where(('northca', 'partner_key'), from_env)}: is still the example's placeholder: paste your Northca "
            "partner key, or remove the line to run against the LOCAL sandbox"
        )
    return problems


def load_config(
    path: str | Path | None = None, env: Mapping[str, str] | None = None, *, require_token: bool = True
) -> Config:
    """`path`: the file named on the command line, which must exist; None: the default config.toml, which may be
    absent (everything then comes from the environment, defaults for the rest)."""
    named = path is not None
    file = Path(DEFAULT_CONFIG_PATH if path is None else path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not named:
            return parse_config({}, env, require_token=require_token, file=None)
        missing = f"{file}: no such file (check the --config path; copy config.example.toml to start)"
        raise ConfigError([missing]) from None
    except PermissionError:
        raise ConfigError([f"{file}: cannot read it: permission denied; {uid_hint()}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot read ({type(exc).__name__})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message names line and column, never the value.
        raise ConfigError([f"{file}: not valid TOML: {exc}"]) from None
    return parse_config(data, env, require_token=require_token, file=str(file))
