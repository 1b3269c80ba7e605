"""Run `python -m bot ...` as a real subprocess, bounded in time, pointed at a fake Discord in the test process."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.ops.cli import TEST_DISCORD_API_ENV

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 60.0  # seconds a subprocess may take before the test fails (a shared, slow machine)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def write_config(path: Path, db_path: Path | str, **sections: dict[str, Any]) -> Path:
    lines = ["[discord]", 'token = "test-bot-token"', "[database]", f"path = {str(db_path)!r}"]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value!r}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bot_env(discord_api: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NORTHCA_"))}
    env.update(extra or {})
    env["PYTHONPATH"] = str(REPO)
    if discord_api:
        env[TEST_DISCORD_API_ENV] = discord_api
    return env


async def spawn(
    *args: str, discord_api: str | None = None, env: dict[str, str] | None = None, cwd: Path = REPO, **popen: Any
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *popen.pop("prefix", ()),
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=str(cwd),
        env=bot_env(discord_api, env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        **popen,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = DEADLINE) -> Finished:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"the bot process did not end within {timeout} s") from None
    assert proc.returncode is not None
    return Finished(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


async def run_bot(
    *args: str,
    discord_api: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = DEADLINE,
    cwd: Path = REPO,
    **popen: Any,
) -> Finished:
    """`popen`: further subprocess arguments; prefix=[...] runs the bot under a wrapper command (e.g. setpriv)."""
    return await finish(await spawn(*args, discord_api=discord_api, env=env, cwd=cwd, **popen), timeout)
