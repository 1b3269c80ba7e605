"""The PRC sandbox as the bot's demo mode uses it: in-process on loopback, one demo server whose key is
published (a demo admin types it into `/erlc connect`), a few players in game, and its state in a file beside
the bot's database so a restart keeps them.

The bot starts it where it starts the Northca sandbox (no partner key: demo mode) and points its PRC client
at `sandbox.base_url` and its webhook check at `sandbox.public_key_b64`.
"""

from __future__ import annotations

from pathlib import Path

from bot.erlc.sandbox.app import PrcSandbox
from bot.erlc.sandbox.config import PrcSandboxConfig, SandboxServer

# Published on purpose: it only opens the local demo server.
DEMO_SERVER_KEY = "demo-erlc-server-key"
DEMO_SERVER_NAME = "Demo ER:LC Server"
# Who is in game when the demo starts (user id, name, team, callsign).
DEMO_PLAYERS: tuple[tuple[int, str, str, str | None], ...] = (
    (1001, "DemoOfficer", "Police", "1A-01"),
    (1002, "DemoDeputy", "Sheriff", "S-12"),
    (1003, "DemoCivilian", "Civilian", None),
)


def demo_state_path(database_path: str) -> str:
    """`data/northca-bot.sqlite3` -> `data/northca-bot.prc-sandbox.sqlite3`."""
    path = Path(database_path)
    return str(path.with_name(f"{path.stem}.prc-sandbox.sqlite3"))


async def start_demo_sandbox(state_path: str = ":memory:", port: int = 0) -> PrcSandbox:
    """Start the demo PRC on loopback; a new state gets the demo server and its players."""
    sandbox = PrcSandbox(
        PrcSandboxConfig(db_path=state_path, servers=[SandboxServer(key=DEMO_SERVER_KEY, name=DEMO_SERVER_NAME)])
    )
    if sandbox.meta("demo_seeded") is None:
        for user_id, name, team, callsign in DEMO_PLAYERS:
            sandbox.join(DEMO_SERVER_KEY, user_id, name, team=team, callsign=callsign)
        sandbox.set_meta("demo_seeded", "1")
    try:
        await sandbox.start("127.0.0.1", port)
    except OSError:
        sandbox.close()
        raise
    return sandbox
