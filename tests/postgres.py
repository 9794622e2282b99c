"""A throw-away PostgreSQL server for the tests: Debian's binaries (`make postgresql` installs them), a data folder
in /tmp, a free loopback port, trust authentication, no fsync; started and stopped by the test session.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user the Debian package creates.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Optional

SKIP_VARIABLE = "UQLENS_TEST_NO_POSTGRES"


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server could not be started; the message says what to install or set."""


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: run `make postgresql` "
                              f"(apt-get install -y postgresql), or set {SKIP_VARIABLE}=1 to skip the PostgreSQL "
                              "tests explicitly")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder on a loopback port; `url(database)` for SQLAlchemy."""

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="uqlens-pg-"))
        self.data_dir = self.folder / "data"
        self.log_file = self.folder / "server.log"
        self.port = free_port()
        self.as_user: Optional[str] = "postgres" if os.geteuid() == 0 else None
        if self.as_user:
            shutil.chown(self.folder, self.as_user)

    def _run(self, *args: str) -> None:
        """Run a PostgreSQL program (as the postgres user when we are root); PostgresUnavailable on failure."""
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()} "
                                      f"{log}")

    def init(self) -> "PostgresServer":
        """Create the cluster (superuser `postgres`, trust authentication on loopback)."""
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-instructions")
        return self

    def start(self) -> "PostgresServer":
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options, "-w", "-t", "60",
                  "start")
        return self

    def stop(self) -> None:
        """Stop the server at once (fast shutdown), waiting until it is down."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            self.stop()
        except PostgresUnavailable:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database with a fresh name; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres() -> PostgresServer:
    """A fresh, running server; PostgresUnavailable (with the cause) when it cannot start."""
    server = PostgresServer()
    try:
        return server.init().start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        server.remove()
        raise PostgresUnavailable(f"the test PostgreSQL server did not start: {exc}. Install it with `make "
                                  f"postgresql`, or set {SKIP_VARIABLE}=1 to skip the PostgreSQL tests "
                                  "explicitly") from exc
