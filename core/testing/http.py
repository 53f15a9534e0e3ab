"""A real HTTP server on 127.0.0.1 that records every request and answers as a test tells it to: the far
end of a webhook, an API a plugin calls."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    pending_failures: list[int] = field(default_factory=list)


class RecordingServer:
    """Listens on ``url`` (``http://127.0.0.1:<port>/``) until :meth:`stop`; ``requests`` holds what came.

    Every request is answered ``200`` unless :meth:`answer` says otherwise; :meth:`fail_next` makes the next
    requests fail first (an endpoint that is down for a while).
    """

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self._answer = _Answer()
        self._changed = threading.Condition()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                received = ReceivedRequest(self.command, self.path, dict(self.headers.items()),
                                           self.rfile.read(length))
                with server._changed:
                    server.requests.append(received)
                    answer = server._answer
                    status = answer.pending_failures.pop(0) if answer.pending_failures else answer.status
                    server._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def answer(self, status: int = 200, body: bytes = b"") -> None:
        """Answer every request from now on with ``status`` and ``body``."""
        with self._changed:
            self._answer.status, self._answer.body = status, body

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, one each (``fail_next(500, 503)``), then as
        before."""
        with self._changed:
            self._answer.pending_failures.extend(statuses)

    def wait_for(self, count: int = 1, timeout: float = 5.0, *, where=None) -> list[ReceivedRequest]:
        """Block until at least ``count`` requests came (those for which ``where(request)`` is true, if
        given), at most ``timeout`` seconds; returns them."""

        def matching() -> list[ReceivedRequest]:
            return [r for r in self.requests if where is None or where(r)]

        with self._changed:
            self._changed.wait_for(lambda: len(matching()) >= count, timeout=timeout)
            return matching()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
