"""Prometheus metrics, added up across the web and worker processes of a host.

Under the production server every process writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multi-process mode, chosen by that variable when the process starts: ``suprata serve``
sets it for the web server, and the worker's unit file sets the same directory), and ``/metrics`` adds up
the files of every process on the host. Without the variable (development, tests) each process counts on
its own.

What is counted where it happens: request latency by route, webhook processing lag, failed charges, plugin
errors per plugin. What is a fact about the database is read from it when Prometheus asks: outbox depth and
the age of the oldest message still waiting, across every business.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from core.extensions import db
from core.models import OutboxMessage
from core.tenancy import utcnow

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "suprata_http_request_duration_seconds",
    "Time to answer a request, by route (the URL rule, never the address with its tokens), method, status",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_LAG_SECONDS = Histogram(
    "suprata_webhook_lag_seconds",
    "From the payment processor creating an event to its effect being committed here",
    ["processor"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
FAILED_CHARGES = Counter(
    "suprata_failed_charges", "Charges that definitively failed (declined, expired card, ...)", ["processor"]
)
PLUGIN_ERRORS = Counter(
    "suprata_plugin_errors", "Hook calls and periodic jobs of a plugin that raised", ["plugin"]
)


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    return Path(value) if value else None


def prepare_multiprocess_dir() -> None:
    """Create the samples directory if the variable names one (a fresh host, a cleaned /run)."""
    directory = multiprocess_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)


def remove_samples_of_dead_processes() -> None:
    """Delete the sample files of processes that no longer run (the server calls this when it starts)."""
    directory = multiprocess_dir()
    if directory is None or not directory.is_dir():
        return
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)


def observe_webhook_lag(processor_name: str, created_at: datetime | float) -> None:
    """A processor's event took effect just now; ``created_at`` is when the processor created it (a
    timezone-aware datetime or a Unix timestamp). Call after the commit."""
    created = created_at.timestamp() if isinstance(created_at, datetime) else float(created_at)
    WEBHOOK_LAG_SECONDS.labels(processor_name).observe(max(time.time() - created, 0.0))


def count_failed_charge(processor_name: str) -> None:
    FAILED_CHARGES.labels(processor_name).inc()


def count_plugin_error(plugin_name: str) -> None:
    PLUGIN_ERRORS.labels(plugin_name).inc()


class OutboxCollector:
    """Outbox depth and the age of its oldest waiting message, read from the database at each scrape."""

    def collect(self):
        rows = db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(("pending", "sending", "failed")))
            .group_by(OutboxMessage.status)
            .execution_options(all_businesses=True)
        ).all()
        db.session.rollback()  # a scrape holds no transaction open
        counts = {status: (count, oldest) for status, count, oldest in rows}
        depth = GaugeMetricFamily("suprata_outbox_depth", "Messages waiting to be delivered or being "
                                  "delivered", labels=["status"])
        waiting = []
        for status in ("pending", "sending"):
            count, oldest = counts.get(status, (0, None))
            depth.add_metric([status], count)
            if oldest is not None:
                waiting.append(oldest)
        yield depth
        yield GaugeMetricFamily("suprata_outbox_failed", "Messages that failed for good and wait for staff",
                                value=counts.get("failed", (0, None))[0])
        oldest_age = (utcnow() - _aware(min(waiting))).total_seconds() if waiting else 0.0
        yield GaugeMetricFamily("suprata_outbox_oldest_age_seconds",
                                "Age of the oldest message not delivered yet (0 when none waits)",
                                value=max(oldest_age, 0.0))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def exposition() -> bytes:
    """The text Prometheus reads: every process's samples on this host, then the database's figures."""
    directory = multiprocess_dir()
    if directory is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(OutboxCollector())
    return counted + generate_latest(database)
