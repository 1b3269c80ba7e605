"""Configuration: the example passes, bad files say what is wrong in one line per key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or {"PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_example_config_passes_check_config_once_the_token_is_given():
    example = str(ROOT / "config.example.toml")
    placeholder = run_cli("check-config", "--config", example)
    assert placeholder.returncode == 2 and "placeholder" in placeholder.stderr
    result = run_cli("check-config", "--config", example, env={"PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "t0ken"})
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "sandbox" in result.stdout


def test_example_documents_every_key():
    config = load_config(ROOT / "config.example.toml", require_token=False)  # its token is a placeholder
    text = (ROOT / "config.example.toml").read_text()
    for section_name, section in config:
        for key in type(section).model_fields:
            assert key in text, f"[{section_name}] {key} is not documented in config.example.toml"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[discord\ntoken='x'", "not valid TOML"),
        ("[discord]\ntoken='x'\ncolour='blue'", "discord.colour: unknown key"),
        ("[discord]\ntoken='x'\n[northca]\ntimeout_seconds='soon'", "northca.timeout_seconds:"),
        ("[discord]\ndev_guild_id=1", "discord.token: required"),
        (
            "[discord]\ntoken='x'\n[status]\non_duty_code='10-99'",
            "on_duty_code '10-99' is not one of the configured codes",
        ),
        (
            "[discord]\ntoken='x'\n[northca]\nbase_url='ftp://x'",
            "northca.base_url: must be an http(s) URL",
        ),
    ],
)
def test_bad_files_exit_nonzero_with_one_line_per_problem(tmp_path, content, expected):
    path = tmp_path / "config.toml"
    path.write_text(content)
    for command in ("check-config", "run"):
        result = run_cli(command, "--config", str(path))
        assert result.returncode == 2
        assert expected in result.stderr
        assert "Traceback" not in result.stderr


def test_secrets_never_echoed(tmp_path):
    path = tmp_path / "config.toml"
    secret = "sup3r-s3cret-t0ken-value"
    path.write_text(f"[discord]\ntoken={{ value = '{secret}' }}\n[northca]\npartner_key=['{secret}']\n")
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode == 2
    assert secret not in result.stderr + result.stdout
    assert "discord.token" in result.stderr and "northca.partner_key" in result.stderr


def test_environment_supplies_secrets(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[database]\npath='x.sqlite3'\n")
    with pytest.raises(ConfigError):
        load_config(path, env={})
    config = load_config(path, env={"DISCORD_TOKEN": "tok-from-env-123", "NORTHCA_PARTNER_KEY": "key-from-env-456"})
    assert config.discord.token.get_secret_value() == "tok-from-env-123"
    assert config.northca.partner_key.get_secret_value() == "key-from-env-456"
    assert not config.uses_sandbox
    assert "tok-from-env-123" not in repr(config) and "key-from-env-456" not in repr(config)


def test_missing_file_is_a_clear_line(tmp_path):
    result = run_cli("check-config", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_empty_partner_key_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        parse_config({"discord": {"token": "t"}, "northca": {"partner_key": ""}}, env={})
    assert caught.value.problems[0].startswith("northca.partner_key: is empty")


def test_secrets_come_from_files_named_by_env(tmp_path):
    (tmp_path / "token").write_text("token-from-file\n")
    (tmp_path / "key").write_text("key-from-file")
    env = {"DISCORD_TOKEN_FILE": str(tmp_path / "token"), "NORTHCA_PARTNER_KEY_FILE": str(tmp_path / "key")}
    config = parse_config({}, env=env)
    assert config.discord.token.get_secret_value() == "token-from-file"
    assert config.northca.partner_key.get_secret_value() == "key-from-file"
    with pytest.raises(ConfigError) as caught:
        parse_config({}, env={"DISCORD_TOKEN_FILE": str(tmp_path / "missing")})
    assert caught.value.problems == [f"DISCORD_TOKEN_FILE: cannot read {tmp_path / 'missing'} (FileNotFoundError)"]


def test_default_config_file_is_optional_when_the_environment_has_the_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.toml here
    config = load_config(None, env={"DISCORD_TOKEN": "t", "NORTHCA_BOT_DB": "/data/x.sqlite3"})
    assert config.discord.token.get_secret_value() == "t" and config.database.path == "/data/x.sqlite3"
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={})
    assert caught.value.problems[0].startswith("No bot token: set DISCORD_TOKEN")
    # A file named on the command line must exist, even when the environment has the token.
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.toml", env={"DISCORD_TOKEN": "t"})
    assert "no such file" in caught.value.problems[0]
