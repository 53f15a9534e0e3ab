"""A throwaway PostgreSQL cluster for the test suite, from Debian's binaries.

``initdb`` and ``postgres`` refuse to run as root, so as root every server command runs as the
``postgres`` user through ``runuser`` on a temporary directory that user owns. ``kill()`` and ``restart()``
keep the data and the port, so clients see the server go away and come back, as in an outage.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATE_BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13)]


def find_bin_dir() -> Path | None:
    override = os.environ.get("SUPRATA_PG_BIN")
    if override:
        return Path(override)
    for candidate in CANDIDATE_BIN_DIRS:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """Start with :meth:`start`, get ``url``, and :meth:`stop` removes everything.

    Commits return before their WAL is written, for speed, so a :meth:`kill` loses the last moments of
    work; ``durable=True`` makes every commit survive a kill, as on a real server.
    """

    def __init__(self, *, durable: bool = False):
        self.durable = durable
        self.bin_dir = find_bin_dir()
        if self.bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries not found: apt-get install -y postgresql")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="suprata-pg-"))
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._start_server()
        return self.url()

    def _start_server(self) -> None:
        options = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off " \
                  f"-c synchronous_commit={'on' if self.durable else 'off'} -c full_page_writes=off " \
                  "-c max_connections=200"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w",
                  "start")
        self._wait_ready()

    def kill(self) -> None:
        """Stop the server at once, as a crash would: connections drop, the data stays for :meth:`restart`."""
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        """Start the server again on the same port with the same data (after :meth:`kill`)."""
        self._start_server()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start; see " + str(self.dir / "log"))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
