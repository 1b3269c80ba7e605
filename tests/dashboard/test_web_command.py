"""`northca-bot web` as a real process: it serves the dashboard over the bot's database, stops on SIGTERM, and
never prints the OAuth2 client secret."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp

from tests.dashboard.conftest import CLIENT_ID, CLIENT_SECRET
from tests.ops.botproc import finish, spawn, write_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_web_command_serves_the_dashboard_alone_and_stops_on_sigterm(
    tmp_path: Path, sandbox, fake_discord
) -> None:
    port = free_port()
    secret_file = tmp_path / "client_secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    config = write_config(
        tmp_path / "config.toml",
        tmp_path / "bot.sqlite3",
        northca={"base_url": sandbox.base_url, "partner_key": "test-partner-key-d0n0tl0g"},
        web={"port": port, "client_id": CLIENT_ID},
    )
    proc = await spawn(
        "web", "--config", str(config), "--log-level", "DEBUG",
        discord_api=fake_discord.base_url, env={"DISCORD_CLIENT_SECRET_FILE": str(secret_file)},
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/dashboard/") as response:
                        page = await response.text()
                        headers = response.headers
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the dashboard did not listen")
            assert "Log in with Discord" in page and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            async with http.get(f"http://127.0.0.1:{port}/dashboard/login", allow_redirects=False) as response:
                assert response.status == 303
                assert response.headers["Location"].startswith(fake_discord.base_url.removesuffix("/api/v10"))
                assert f"client_id={CLIENT_ID}" in response.headers["Location"]
                assert CLIENT_SECRET not in response.headers["Location"]
    finally:
        proc.send_signal(signal.SIGTERM)
        done = await finish(proc, 30)
    assert done.returncode == 0, done.stderr
    assert "dashboard listening" in done.stderr
    assert CLIENT_SECRET not in done.stdout + done.stderr
