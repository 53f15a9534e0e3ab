"""Logging, configured once per process: one line per record, plain or JSON, with the request id.

Every process (web worker, background worker, command) calls :func:`configure_logging` through the app
factory; the first call installs one handler on the root logger and later calls change nothing, so a second
app in the same process cannot double the output. Each record is one line, its traceback included, so a log
collector never splits a failure across entries. Repeats are rate limited: the same message from the same
place is written once per :data:`REPEAT_WINDOW_SECONDS`, and its next appearance says how many were held
back, so an outage of a backend writes a few lines, not thousands. (Warnings and errors only: every
access line is written.)
"""

from __future__ import annotations

import contextvars
import json
import logging
import random
import sys
import threading
import time
from datetime import UTC, datetime

from core.config import LOG_FORMATS, ConfigurationError

REPEAT_WINDOW_SECONDS = 60.0

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("suprata_request_id", default="-")
_configured = threading.Lock()
_handler: logging.Handler | None = None


def current_request_id() -> str:
    """The id of the request or job being served ("-" outside one)."""
    return _request_id.get()


def new_request_id() -> str:
    """16 hex digits: enough to tell requests apart in the logs (it is no secret, so no system entropy)."""
    return f"{random.getrandbits(64):016x}"


def enter_request(request_id: str) -> contextvars.Token:
    """Tag every record logged from here on (in this context) with ``request_id``."""
    return _request_id.set(request_id)


def leave_request(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RepeatFilter(logging.Filter):
    """Lets a warning or error through once per ``window`` seconds per (logger, level, message, exception
    type); lower levels all pass.

    The first record after a quiet window carries ``repeats``: how many like it were held back.
    """

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS, clock=time.monotonic):
        super().__init__()
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple, list] = {}  # key -> [time let through, held back since]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        key = (record.name, record.levelno, str(record.msg), exc_type)
        now = self.clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.window:
                seen[1] += 1
                return False
            record.repeats = seen[1] if seen else 0
            self._seen[key] = [now, 0]
            if len(self._seen) > 10_000:  # messages that embed changing text must not grow this forever
                self._seen.clear()
        return True


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", " | ")


class PlainFormatter(logging.Formatter):
    """``2026-01-31T12:00:00.123Z ERROR pid=41 req=9f2c suprata.queue: message | Traceback ...``"""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        repeats = getattr(record, "repeats", 0)
        if repeats:
            message += f" (and {repeats} more like this in the last {REPEAT_WINDOW_SECONDS:.0f} s)"
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info)
        line = (f"{_timestamp(record)} {record.levelname} pid={record.process} "
                f"req={getattr(record, 'request_id', '-')} {record.name}: {message}")
        return _one_line(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, request_id, message, and exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if getattr(record, "repeats", 0):
            entry["repeats"] = record.repeats
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners and daemons swap it)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def build_handler(log_format: str) -> logging.Handler:
    """The handler :func:`configure_logging` installs: one line per record, request ids, repeats held."""
    if log_format not in LOG_FORMATS:
        raise ConfigurationError(f"SUPRATA_LOG_FORMAT={log_format!r}: use plain or json")
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RepeatFilter())
    return handler


def configure_logging(level: str = "INFO", log_format: str = "plain") -> bool:
    """Install the process's one log handler on the root logger; True the first time, False afterwards."""
    global _handler
    with _configured:
        if _handler is not None:
            return False
        handler = build_handler(log_format)
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        # SQLAlchemy logs every statement, and the Stripe and Twilio SDKs every API call, at INFO: only their
        # warnings here (the access line and our own records already say what happened).
        for chatty in ("sqlalchemy", "stripe", "twilio"):
            logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
        _handler = handler
    return True
