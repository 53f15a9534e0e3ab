"""gunicorn settings for Suprata, read from the same environment as the app.

Used by ``suprata serve``, or directly: ``gunicorn --config python:core.serving.gunicorn_config
'core:create_app()'`` (then set ``PROMETHEUS_MULTIPROC_DIR`` yourself; ``suprata serve`` does it for you).

- ``SUPRATA_BIND``: address to listen on (``127.0.0.1:8000``); behind a reverse proxy on the same host,
  keep it on loopback.
- ``SUPRATA_WEB_WORKERS``: worker processes (twice the CPUs, plus one).
- ``SUPRATA_WEB_TIMEOUT``: seconds a request may take before its worker is replaced (30).

Workers are synchronous processes: the app's work is CPU and short database calls, and a process per
request in flight keeps one slow request from holding up others. gunicorn's own messages go through the
app's log handler (same format, plain or JSON); the access log is the app's (``suprata.access``), which
names routes, never addresses with their tokens.
"""

from __future__ import annotations

import os

from gunicorn import glogging
from prometheus_client import multiprocess

from core.config import from_environment
from core.observability.logs import configure_logging
from core.observability.metrics import (
    MULTIPROCESS_DIR_VARIABLE,
    prepare_multiprocess_dir,
    remove_samples_of_dead_processes,
)

bind = os.environ.get("SUPRATA_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SUPRATA_WEB_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
worker_class = "sync"
timeout = int(os.environ.get("SUPRATA_WEB_TIMEOUT") or 30)
graceful_timeout = 30
accesslog = None
errorlog = "-"
proc_name = "suprata-web"
# No control socket: it would sit in the user's home, shared by every gunicorn of that user on the host.
control_socket_disable = True


class Logger(glogging.Logger):
    """gunicorn's logger, writing through the process's one log handler."""

    def setup(self, cfg):
        super().setup(cfg)
        config = from_environment()
        configure_logging(config["SUPRATA_LOG_LEVEL"], config["SUPRATA_LOG_FORMAT"])
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True


logger_class = Logger


def on_starting(server):
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        raise RuntimeError(f"set {MULTIPROCESS_DIR_VARIABLE} to a directory for the metrics of every "
                           "process (or start with `suprata serve`, which does)")
    prepare_multiprocess_dir()
    remove_samples_of_dead_processes()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
