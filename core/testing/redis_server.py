"""A throwaway ``redis-server`` for the test suite: its own process on a free loopback port, nothing on disk.

It runs Debian's ``redis-server`` (``apt-get install -y redis-server``) with ``--save '' --appendonly no``,
so it writes no snapshot and no append-only file, bound to 127.0.0.1 only. ``kill()`` and ``restart()``
keep the port, so a client built once from ``url`` sees an outage and then a recovery, as it would when
the production Redis goes down and comes back::

    redis = ThrowawayRedis().start()
    huey = RedisHuey(url=redis.url)
    redis.kill()       # the queue now fails to connect
    redis.restart()    # same URL, empty data

Readiness is a PING on a plain socket, so this module does not need redis-py.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from core.testing.postgres import free_port

__all__ = ["ThrowawayRedis", "find_redis_server"]

_START_TIMEOUT = 10.0


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class ThrowawayRedis:
    """One ``redis-server`` process; :meth:`start`, then ``url``; :meth:`stop` removes everything."""

    def __init__(self, port: int | None = None):
        self.binary = find_redis_server()
        if self.binary is None:
            raise RuntimeError("redis-server not found: apt-get install -y redis-server")
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="suprata-redis-"))
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> ThrowawayRedis:
        """Start the server and return once it answers PING."""
        if self.running:
            raise RuntimeError("redis-server is already running")
        log = self.dir / "redis.log"
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--daemonize", "no",
        ]
        with open(log, "ab") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        self._wait_ready(log)
        return self

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                # Usually the port was taken between choosing it and binding it.
                self._process = None
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited on start:\n{tail}")
            if _ping(self.port):
                return
            time.sleep(0.05)
        self._terminate(signal.SIGKILL)
        raise RuntimeError(f"redis-server did not answer PING within {_START_TIMEOUT:.0f}s; see {log}")

    def ping(self) -> bool:
        """Whether the server answers right now."""
        return _ping(self.port)

    def kill(self) -> None:
        """End the server abruptly, as a crash would: clients get connection errors, its data is gone."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> ThrowawayRedis:
        """Start again on the same port (killing the server first if it still runs), empty."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        """Shut the server down and delete its directory."""
        self._terminate(signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _terminate(self, sig: int) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> ThrowawayRedis:
        return self if self.running else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
