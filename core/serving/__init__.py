"""The production web server: gunicorn, configured by :mod:`core.serving.gunicorn_config`.

``suprata serve`` replaces itself with ``gunicorn --config python:core.serving.gunicorn_config
'core:create_app()'``, so the process a service manager watches is gunicorn's master, and the app in each
gunicorn worker is built from the same environment as every other Suprata process.
"""

from __future__ import annotations

import os
import sys

from core.config import INSTANCE_DIR
from core.observability.metrics import MULTIPROCESS_DIR_VARIABLE

CONFIG = "python:core.serving.gunicorn_config"
APP = "core:create_app()"


def gunicorn_command(extra_args: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The command line ``suprata serve`` runs; ``extra_args`` are gunicorn options that win over the file."""
    return [sys.executable, "-m", "gunicorn", "--config", CONFIG, *extra_args, APP]


def serve_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment gunicorn gets: the caller's, plus a metrics directory if none is set (prometheus-client
    reads it when a process starts, so it has to be there before gunicorn imports anything)."""
    serving = dict(environ)
    serving.setdefault(MULTIPROCESS_DIR_VARIABLE, str(INSTANCE_DIR / "metrics"))
    return serving


def exec_gunicorn(extra_args: list[str] | tuple[str, ...] = ()) -> None:
    """Become the gunicorn master (never returns)."""
    command = gunicorn_command(extra_args)
    os.execve(command[0], command, serve_environment(dict(os.environ)))  # noqa: S606 - our interpreter
