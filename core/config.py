"""Configuration from environment variables, with safe defaults for the embedded demo.

Every setting is read from a ``SUPRATA_*`` (or the library's own) environment variable so that secrets never
live in the repository, and every one is listed in the README's configuration table (a test compares the
two). In production (``SUPRATA_ENV=production``) the app refuses to start on a default secret key or without
a public URL.
"""

import os
from pathlib import Path

DEMO_SECRET_KEY = "suprata-demo-secret-key-not-for-production"  # noqa: S105 - refused in production
INSTANCE_DIR = Path(os.environ.get("SUPRATA_INSTANCE_DIR", Path.cwd() / "instance"))


LOG_FORMATS = ("plain", "json")


class ConfigurationError(RuntimeError):
    """Raised at start-up when the configuration is unsafe for the chosen environment."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_ints_if_set(*names: str) -> dict:
    """The named integer settings that the environment sets; the module that uses them keeps the defaults."""
    return {name: int(os.environ[name]) for name in names if os.environ.get(name)}


def _rate_limit_storage_options(uri: str) -> dict:
    # A Redis that stops answering must not hold a request for long: the limiter falls back to memory.
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return {"socket_connect_timeout": 1, "socket_timeout": 1}
    return {}


def _engine_options(database_url: str) -> dict:
    if not database_url.startswith("postgresql"):
        return {}
    # A connection from before a database restart is noticed on checkout, not by a customer's request, and
    # an unreachable server fails fast instead of holding a web process.
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}


def from_environment() -> dict:
    """Build the Flask config mapping from the process environment."""
    env = os.environ.get("SUPRATA_ENV", "development")
    production = env == "production"
    database_url = os.environ.get("SUPRATA_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{INSTANCE_DIR / 'suprata.db'}"
    rate_limit_storage = os.environ.get("SUPRATA_RATELIMIT_STORAGE", "memory://")
    return {
        "SUPRATA_ENV": env,
        "SECRET_KEY": os.environ.get("SUPRATA_SECRET_KEY", DEMO_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        # Public base URL used for every link we send out; never derived from the Host header.
        "SUPRATA_PUBLIC_URL": os.environ.get("SUPRATA_PUBLIC_URL", "" if production else "http://127.0.0.1:5000"),
        # Seconds a process may serve cached business settings and plugin switches before re-reading them.
        "SUPRATA_STATE_TTL": float(os.environ.get("SUPRATA_STATE_TTL", "2")),
        # Task queue: "sqlite:///path" (embedded, no server), "redis://host:port/db", or "memory" (tests).
        "SUPRATA_QUEUE_URL": os.environ.get("SUPRATA_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'queue.db'}"),
        "MAIL_SERVER": os.environ.get("SUPRATA_MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": _env_int("SUPRATA_MAIL_PORT", 1025),
        "MAIL_USE_TLS": _env_bool("SUPRATA_MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("SUPRATA_MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("SUPRATA_MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("SUPRATA_MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("SUPRATA_MAIL_SENDER", "no-reply@suprata.localhost"),
        # Seconds an SMTP connection may take to answer before the message waits for its next attempt.
        "MAIL_TIMEOUT": _env_int("SUPRATA_MAIL_TIMEOUT", 30),
        # The SPF record the console tells businesses to publish (None: one naming MAIL_SERVER).
        "SUPRATA_MAIL_SPF": os.environ.get("SUPRATA_MAIL_SPF"),
        "RATELIMIT_STORAGE_URI": rate_limit_storage,
        "RATELIMIT_STORAGE_OPTIONS": _rate_limit_storage_options(rate_limit_storage),
        # When the shared storage (Redis) is down each process counts on its own, so pages keep working.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_ENABLED": _env_bool("SUPRATA_RATELIMIT_ENABLED", True),
        # Per client address on every pay-link page; Flask-Limiter's notation ("60 per minute").
        "SUPRATA_PAYLINK_RATE_LIMIT": os.environ.get("SUPRATA_PAYLINK_RATE_LIMIT", "60 per minute"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (0: none).
        # Without it, behind a proxy every client shares the proxy's address and so one set of rate limits.
        "SUPRATA_TRUSTED_PROXIES": _env_int("SUPRATA_TRUSTED_PROXIES", 0),
        "SUPRATA_LOG_LEVEL": os.environ.get("SUPRATA_LOG_LEVEL", "INFO").upper(),
        # "plain" (one readable line per record) or "json" (one JSON object per line).
        "SUPRATA_LOG_FORMAT": os.environ.get("SUPRATA_LOG_FORMAT", "plain").lower(),
        # Threads of each `suprata worker` process: tasks it runs at once.
        "SUPRATA_WORKER_THREADS": _env_int("SUPRATA_WORKER_THREADS", 2),
        # Bearer token that /metrics asks for; without one, /metrics is not served.
        "SUPRATA_METRICS_TOKEN": os.environ.get("SUPRATA_METRICS_TOKEN") or None,
        "SESSION_COOKIE_SECURE": _env_bool("SUPRATA_SECURE_COOKIES", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Realm sessions: minutes of inactivity, and hours since login, after which a login ends.
        "SUPRATA_SESSION_IDLE_MINUTES": _env_int("SUPRATA_SESSION_IDLE_MINUTES", 60),
        "SUPRATA_SESSION_MAX_HOURS": _env_int("SUPRATA_SESSION_MAX_HOURS", 12),
        # Businesses reachable by path prefix (/b/<slug>/) when no host name of theirs matches.
        "SUPRATA_PATH_PREFIX_TENANTS": _env_bool("SUPRATA_PATH_PREFIX_TENANTS", not production),
        "MAX_CONTENT_LENGTH": _env_int("SUPRATA_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        # Plugins blocked for the whole installation (comma separated entry-point names).
        "SUPRATA_BLOCKED_PLUGINS": [
            p.strip() for p in os.environ.get("SUPRATA_BLOCKED_PLUGINS", "").split(",") if p.strip()
        ],
        # Claim length and retry timing of the outbox and of plugins' background tasks; their defaults live
        # with each.
        **_env_ints_if_set("SUPRATA_OUTBOX_MAX_ATTEMPTS", "SUPRATA_OUTBOX_RETRY_SECONDS",
                           "SUPRATA_OUTBOX_RETRY_MAX_SECONDS", "SUPRATA_OUTBOX_LEASE_SECONDS",
                           "SUPRATA_TASK_MAX_ATTEMPTS", "SUPRATA_TASK_RETRY_SECONDS",
                           "SUPRATA_TASK_RETRY_MAX_SECONDS", "SUPRATA_TASK_LEASE_SECONDS"),
    }


def check_production_safety(config) -> None:
    """Refuse to run production with demo secrets or without a public URL."""
    if config.get("SUPRATA_ENV") != "production":
        return
    problems = []
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEMO_SECRET_KEY:
        problems.append("set SUPRATA_SECRET_KEY to a long random value")
    if not config.get("SUPRATA_PUBLIC_URL"):
        problems.append("set SUPRATA_PUBLIC_URL to the https:// address customers use")

    if problems:
        raise ConfigurationError("Refusing to start in production: " + "; ".join(problems) + ".")
