"""The [erlc] configuration: defaults, the global key from the file, a file or the environment, one readable
line per problem, and never the key's value in a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config, parse_config
from bot.erlc.webhook_key import PRC_WEBHOOK_PUBLIC_KEY

ROOT = Path(__file__).resolve().parents[2]
SECRET = "gk-Sup3rS3cret-value"


def test_defaults_point_at_prc_with_its_public_key():
    config = parse_config({}, env={}, require_token=False)
    assert config.erlc.base_url == "https://api.policeroleplay.community"
    assert config.erlc.global_key is None
    assert config.erlc.webhook_public_key == PRC_WEBHOOK_PUBLIC_KEY


def test_example_config_has_the_erlc_section():
    config = load_config(ROOT / "config.example.toml", env={"DISCORD_TOKEN": "t0ken"})
    assert config.erlc.base_url == "https://api.policeroleplay.community" and config.erlc.global_key is None


def test_global_key_from_environment_wins(tmp_path: Path):
    config = parse_config({"erlc": {"global_key": "from-file"}}, env={"ERLC_GLOBAL_KEY": SECRET}, require_token=False)
    assert config.erlc.global_key is not None and config.erlc.global_key.get_secret_value() == SECRET
    assert SECRET not in repr(config)


def test_global_key_from_files(tmp_path: Path):
    path = tmp_path / "gk"
    path.write_text(SECRET + "\n")
    by_env = parse_config({}, env={"ERLC_GLOBAL_KEY_FILE": str(path)}, require_token=False)
    by_toml = parse_config({"erlc": {"global_key_file": str(path)}}, env={}, require_token=False)
    for config in (by_env, by_toml):
        assert config.erlc.global_key is not None and config.erlc.global_key.get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("erlc", "expected"),
    [
        ({"base_url": "http://api.example.com"}, "erlc.base_url: must use https"),
        ({"base_url": "ftp://x"}, "erlc.base_url: must be an http(s) URL"),
        ({"webhook_public_key": "not base64!"}, "erlc.webhook_public_key: is not base64"),
        ({"webhook_public_key": "AAAA"}, "erlc.webhook_public_key: is not a public key"),
        ({"global_key": "  "}, "erlc.global_key: is empty"),
        ({"global_key_file": "/nonexistent/gk"}, "cannot read /nonexistent/gk (FileNotFoundError)"),
        ({"timeout_seconds": 0}, "erlc.timeout_seconds:"),
        ({"colour": "blue"}, "erlc.colour: unknown key"),
    ],
)
def test_problems_are_one_line_each(erlc: dict[str, object], expected: str):
    with pytest.raises(ConfigError) as info:
        parse_config({"erlc": erlc}, env={}, require_token=False)
    assert len(info.value.problems) == 1 and expected in info.value.problems[0], info.value.problems


def test_loopback_http_is_allowed_for_the_sandbox():
    config = parse_config({"erlc": {"base_url": "http://127.0.0.1:8789/"}}, env={}, require_token=False)
    assert config.erlc.base_url == "http://127.0.0.1:8789"


def test_a_bad_global_key_file_never_shows_its_content(tmp_path: Path):
    path = tmp_path / "gk"
    path.write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(ConfigError) as info:
        parse_config({"erlc": {"global_key_file": str(path)}}, env={}, require_token=False)
    assert SECRET not in str(info.value) and "UnicodeDecodeError" in str(info.value)
