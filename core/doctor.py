"""``suprata doctor``: is this installation configured and able to run?

Each check returns findings (ok, warning or error) with a sentence saying what to do. The clock check
matters for single sign-on: ID tokens and login codes are time-stamped, so a web host whose clock is off
from the others (the database server is the shared reference) makes logins fail in confusing ways.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from core.config import DEMO_SECRET_KEY
from core.extensions import db, migrate
from core.models import Business, BusinessHost
from core.observability import backends, metrics

OK, WARNING, ERROR = "ok", "warning", "error"
CLOCK_WARNING_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    message: str

    def render(self) -> str:
        return f"{self.level:<7}  {self.check}: {self.message}"


def run_checks(app: Flask, *, local_clock: Callable[[], datetime] | None = None) -> list[Finding]:
    """Run every check inside an app context and return all findings, in a stable order."""
    with app.app_context():
        findings = check_configuration(app)
        database = check_database()
        findings.append(database)
        if database.level != ERROR:
            migrations = check_migrations()
            findings.append(migrations)
            findings.append(check_clock(local_clock or (lambda: datetime.now(UTC))))
            if migrations.level != ERROR:
                findings.append(check_business_hosts(app))
        findings.append(check_mail(app))
        findings.append(check_queue(app))
        findings.append(check_rate_limits(app))
        findings.append(check_metrics())
        findings.extend(check_plugins(app))
    return findings


def check_configuration(app: Flask) -> list[Finding]:
    config = app.config
    production = config.get("SUPRATA_ENV") == "production"
    findings = []
    if config.get("SECRET_KEY") in (None, "", DEMO_SECRET_KEY):
        level = ERROR if production else WARNING
        findings.append(Finding(level, "secret key", "the demo secret key is in use; set SUPRATA_SECRET_KEY"))
    else:
        findings.append(Finding(OK, "secret key", "set"))
    public_url = config.get("SUPRATA_PUBLIC_URL") or ""
    if not public_url:
        findings.append(
            Finding(ERROR, "public URL", "not set; set SUPRATA_PUBLIC_URL to the address customers use")
        )
    elif production and not public_url.startswith("https://"):
        findings.append(Finding(WARNING, "public URL", f"{public_url} is not https:// in production"))
    else:
        findings.append(Finding(OK, "public URL", public_url))
    return findings


def check_database() -> Finding:
    url = db.engine.url.render_as_string(hide_password=True)
    started = time.perf_counter()
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return Finding(ERROR, "database", f"{url} is not reachable: {exc}")
    return Finding(OK, "database", f"{url} answers ({(time.perf_counter() - started) * 1000:.0f} ms)")


def check_migrations() -> Finding:
    """Compare the database's revisions with the heads of core's and every installed plugin's branch."""
    try:
        script = ScriptDirectory.from_config(migrate.get_config())
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
        # Plugin branches start at base and depend on core, so compare whole ancestries, not head lists.
        applied = {rev.revision for rev in script.iterate_revisions(current, "base")}
        pending = sorted(rev.revision for rev in script.iterate_revisions("heads", "base")
                         if rev.revision not in applied)
    except Exception as exc:
        return Finding(ERROR, "migrations", f"cannot compare with the migration scripts: {exc}")
    if not current:
        return Finding(ERROR, "migrations", "the database has no schema yet; run `suprata init-db`")
    if pending:
        return Finding(ERROR, "migrations", f"not applied yet: {', '.join(pending)}; run `suprata init-db`")
    return Finding(OK, "migrations", "up to date: " + ", ".join(sorted(applied)))


def check_business_hosts(app: Flask) -> Finding:
    """In production a business is reached only by its host names: one without any cannot be served, and
    the links it sends (invoices, password resets) lead nowhere."""
    without = db.session.scalars(
        select(Business.slug).where(~Business.id.in_(select(BusinessHost.business_id))).order_by(Business.slug)
    ).all()
    if not without:
        return Finding(OK, "host names", "every business has a host name")
    listed = ", ".join(without)
    if app.config.get("SUPRATA_PATH_PREFIX_TENANTS"):
        return Finding(OK, "host names", f"served at /b/<slug>/ without a host name: {listed}")
    return Finding(ERROR, "host names",
                   f"no host name, so unreachable and their emailed links fail: {listed}; an owner adds "
                   "one on the console's Settings > Web addresses page")


def database_clock() -> datetime:
    """The database server's current time (for SQLite, the local clock as SQLite reads it)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return conn.execute(text("SELECT now()")).scalar_one()
        value = conn.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def check_clock(local_clock: Callable[[], datetime]) -> Finding:
    before = local_clock()
    remote = database_clock()
    after = local_clock()
    # Compare with the middle of the round trip, so network latency does not count as offset.
    offset = (remote - (before + (after - before) / 2)).total_seconds()
    message = f"clock offset against the database server {offset:+.3f} s"
    if abs(offset) > CLOCK_WARNING_SECONDS:
        return Finding(
            WARNING,
            "clock",
            message + f" (over {CLOCK_WARNING_SECONDS:g} s: single sign-on "
            "and expiring links may fail; synchronise this host's clock with NTP)",
        )
    return Finding(OK, "clock", message)


def can_connect(host: str, port: int) -> str | None:
    """None when a TCP connection opens, else the reason it did not."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return None
    except OSError as exc:
        return str(exc) or type(exc).__name__


def check_mail(app: Flask) -> Finding:
    host, port = app.config.get("MAIL_SERVER"), int(app.config.get("MAIL_PORT") or 25)
    problem = can_connect(host, port)
    if problem:
        return Finding(
            ERROR,
            "mail",
            f"SMTP server {host}:{port} is not reachable ({problem}); mail waits in the outbox until it is",
        )
    return Finding(OK, "mail", f"SMTP server {host}:{port} accepts connections")


def check_queue(app: Flask) -> Finding:
    queue_url = app.config.get("SUPRATA_QUEUE_URL") or ""
    if queue_url == "memory":
        return Finding(WARNING, "queue", "in-memory queue: jobs run inside the web process (tests only)")
    probe = backends.probe_queue(app)
    if not probe.ok:
        return Finding(ERROR, "queue", probe.detail + "; notifications wait in the outbox until it answers")
    if queue_url.startswith("sqlite:"):
        return Finding(OK, "queue", f"embedded queue in {make_url(queue_url).database}: " + probe.detail)
    return Finding(OK, "queue", probe.detail)


def check_rate_limits(app: Flask) -> Finding:
    """The rate-limit storage answers; several web processes counting in memory each is a warning."""
    probe = backends.probe_rate_limits(app)
    if not probe.ok:
        return Finding(ERROR, "rate limits", probe.detail + "; meanwhile each process counts on its own")
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if uri.startswith("memory") and app.config.get("RATELIMIT_ENABLED", True):
        level = WARNING if app.config.get("SUPRATA_ENV") == "production" else OK
        return Finding(level, "rate limits", "counted in each process's memory: with several web processes "
                       "set SUPRATA_RATELIMIT_STORAGE to a shared Redis (redis://host:6379/1)")
    return Finding(OK, "rate limits", probe.detail)


def check_metrics() -> Finding:
    directory = metrics.multiprocess_dir()
    if directory is None:
        return Finding(OK, "metrics", "each process counts alone (PROMETHEUS_MULTIPROC_DIR is not set; "
                       "`suprata serve` sets it for the web server)")
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        return Finding(ERROR, "metrics", f"PROMETHEUS_MULTIPROC_DIR {directory} is not a writable directory")
    return Finding(OK, "metrics", f"every process on this host writes its samples to {directory}")


def check_plugins(app: Flask) -> list[Finding]:
    host = app.extensions["suprata"].plugins
    findings = [Finding(ERROR, "plugin " + name, why) for name, why in sorted(host.broken.items())]
    findings.append(Finding(OK, "plugins", "loaded: " + (", ".join(host.plugin_names()) or "none")))
    return findings
