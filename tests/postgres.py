"""A real, throwaway PostgreSQL server for the suite's PostgreSQL pass (NORTHCA_TEST_DB=postgresql).

Debian's server binaries (/usr/lib/postgresql/<version>/bin; `.ci/run` installs the package when they are
missing) run as the `postgres` user when we are root (the server refuses root), on a fresh data directory
in a temporary directory, on a free loopback port, with fsync off (test data only). The schema is migrated
once into a template database; each test gets its own database copied from it. A test may stop and start the
server (a restart under a running bot): `PostgresServer.stop` / `start` / `restart_after`.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count

from bot.storage import Database

TEMPLATE = "northca_template"


def wants_postgresql() -> bool:
    return os.environ.get("NORTHCA_TEST_DB", "sqlite").lower() in ("postgresql", "postgres", "pg")


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"no PostgreSQL {name}: install the server (apt-get install -y postgresql)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    _names: Iterator[int]
    data: str = ""  # the data directory
    _start_args: list[str] = field(default_factory=list)
    _stop_args: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Shut the server down as for maintenance (`pg_ctl stop -m fast`: sessions are ended, in-flight
        statements fail with 57P01), and wait until it is down."""
        _run_quiet(self._stop_args)

    def start(self) -> None:
        """Start it again on the same port and data (after `stop`), and wait until it accepts connections."""
        _run_quiet(self._start_args)

    async def restart_after(self, seconds: float) -> None:
        """`stop`, `seconds` down, `start`; from a running event loop (the tools run in a thread)."""
        await asyncio.to_thread(self.stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(self.start)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    async def fresh_database(self) -> str:
        """A new database holding the migrated schema, empty; its URL."""
        import asyncpg

        name = f"t{next(self._names)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        finally:
            await conn.close()
        return self.url(name)

    async def empty_database(self) -> str:
        """A new database without any table (not even the migrations' record); its URL."""
        import asyncpg

        name = f"t{next(self._names)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        return self.url(name)


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run_quiet(args: list[str]) -> None:
    """Run a server tool; on failure CalledProcessError carries its stderr."""
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)


def start_server() -> Iterator[PostgresServer]:
    """initdb, start, migrate the template; stop and remove everything at the end."""
    workdir = tempfile.mkdtemp(prefix="northca-pg-")
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
    data = os.path.join(workdir, "data")
    port = _free_port()
    _run_quiet(_as_postgres([_bin("initdb"), "-A", "trust", "-U", user, "-E", "UTF8", "-D", data]))
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200"
    )
    start = _as_postgres([_bin("pg_ctl"), "-D", data, "-o", options, "-l", os.path.join(workdir, "log"), "-w", "start"])
    _run_quiet(start)
    try:
        stop = _as_postgres([_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"])
        server = PostgresServer("127.0.0.1", port, user, count(1), data, start, stop)

        async def template() -> None:
            import asyncpg

            conn = await asyncpg.connect(server.url("postgres"))
            try:
                await conn.execute(f"CREATE DATABASE {TEMPLATE}")
            finally:
                await conn.close()
            db = Database(server.url(TEMPLATE))
            await db.open()
            await db.close()

        # Its own thread: the first test to ask for the server may already run an event loop.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, template()).result()
        yield server
    finally:
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(workdir, ignore_errors=True)
