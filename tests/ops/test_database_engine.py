"""Choosing the database engine: [database] url / NORTHCA_BOT_DATABASE_URL, and one-line errors that name
the PostgreSQL server without its password."""

from __future__ import annotations

import socket

import pytest

from bot.core.config import ConfigError, parse_config
from bot.ops.checks import check_database

PASSWORD = "s3cret-pw"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_database_url_from_the_environment_selects_postgresql_and_hides_the_password():
    url = f"postgresql://bot:{PASSWORD}@db.example:5433/northca"
    config = parse_config({"discord": {"token": "t"}}, env={"NORTHCA_BOT_DATABASE_URL": url})
    assert config.database.target == url
    assert PASSWORD not in config.database.where
    assert config.database.where == "postgresql://bot:***@db.example:5433/northca"


def test_database_url_of_another_engine_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as caught:
        parse_config({"discord": {"token": "t"}, "database": {"url": f"mysql://bot:{PASSWORD}@db/northca"}}, env={})
    text = str(caught.value)
    assert "database.url" in text and "postgresql://" in text
    assert PASSWORD not in text


async def test_unreachable_postgresql_is_named_in_one_line_without_the_password():
    port = _closed_port()
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:{port}/northca"
    config = parse_config({"discord": {"token": "t"}, "database": {"url": url}}, env={})
    ok, message = await check_database(config)
    assert not ok
    assert f"127.0.0.1:{port}" in message and "unreachable" in message
    assert "start the server" in message and "[database] url" in message
    assert PASSWORD not in message and "\n" not in message
