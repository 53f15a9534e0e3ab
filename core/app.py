"""The application factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from core import cli, notifications
from core import config as config_module
from core.account import bp as account_bp
from core.background import queue
from core.console import bp as console_bp
from core.database import configure_sqlite
from core.extensions import csrf, db, limiter, login_manager, mail, migrate
from core.identity.sessions import Anonymous, apply_realm_cookie
from core.observability import metrics
from core.observability import requests as request_observation
from core.observability.logs import configure_logging
from core.observability.views import bp as ops_bp
from core.paylink import bp as paylink_bp
from core.plugins.host import PluginHost
from core.tenancy import enter_business, leave_business
from core.tenancy.state import BusinessCache, remember_business
from core.web import errors, headers, helpers
from core.web.site import bp as site_bp
from core.web.themes import DEFAULT_THEME, THEMES_DIR, ThemeKeyedCache, ThemeLoader

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass
class SuprataState:
    """Everything core keeps per app, in ``app.extensions["suprata"]``."""

    plugins: PluginHost
    businesses: BusinessCache
    blueprint_realms: dict[str, str | None] = field(default_factory=dict)
    queue: object = None
    schedules: list = field(default_factory=list)


class SuprataFlask(Flask):
    """Flask with theme-aware template loading."""

    def create_global_jinja_loader(self):
        return ThemeLoader(super().create_global_jinja_loader())

    def create_jinja_environment(self):
        env = super().create_jinja_environment()
        env.cache = ThemeKeyedCache(env.cache if env.cache is not None else {})
        return env


class PathPrefixTenants:
    """WSGI middleware: ``/b/<slug>/rest`` is served as ``/rest`` for business ``slug`` (development)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/b/"):
            slug, _, rest = path[3:].partition("/")
            if slug:
                environ["suprata.business_slug"] = slug
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/b/{slug}"
                environ["PATH_INFO"] = "/" + rest
        return self.wsgi_app(environ, start_response)


def create_app(config: dict | None = None, *, plugins: list[tuple[str, object]] | None = None) -> Flask:
    """Build the app. ``config`` overrides the environment; ``plugins`` registers extra (name, plugin)
    pairs after the entry points, the way tests and embedding code add a plugin without installing it."""
    theme_dir = THEMES_DIR / DEFAULT_THEME
    app = SuprataFlask(
        "core",
        template_folder=str(theme_dir / "templates"),
        static_folder=str(theme_dir / "static"),
        instance_path=str(config_module.INSTANCE_DIR),
    )
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.check_production_safety(app.config)
    if not app.testing:  # under a test runner, the runner captures and shows the logs
        configure_logging(app.config["SUPRATA_LOG_LEVEL"], app.config["SUPRATA_LOG_FORMAT"])
    metrics.prepare_multiprocess_dir()
    proxies = app.config["SUPRATA_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["SUPRATA_PATH_PREFIX_TENANTS"]:
        app.wsgi_app = PathPrefixTenants(app.wsgi_app)
    _ensure_sqlite_dir(app)

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous

    host = PluginHost(blocked=app.config["SUPRATA_BLOCKED_PLUGINS"])
    state = SuprataState(plugins=host, businesses=BusinessCache(app.config["SUPRATA_STATE_TTL"]))
    app.extensions["suprata"] = state
    host._business_lookup = state.businesses.by_id
    if app.config.get("SUPRATA_LOAD_ENTRY_POINTS", True):
        host.load_entry_points()
    for name, plugin in plugins or ():
        host.register(plugin, name)

    _register_core_blueprints(app)
    host.register_blueprints(app)
    _record_realms(app)
    request_observation.init_app(app)
    _install_request_hooks(app)

    errors.init_app(app)
    headers.init_app(app)
    helpers.init_app(app)
    notifications.init_app(app)
    queue.init_app(app)
    cli.init_app(app)
    host.call_all_plugins("register_cli", cli=app.cli)
    return app


def _ensure_sqlite_dir(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _register_core_blueprints(app: Flask) -> None:
    app.register_blueprint(ops_bp)
    app.register_blueprint(site_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(paylink_bp)
    app.register_blueprint(account_bp)


def _record_realms(app: Flask) -> None:
    realms = app.extensions["suprata"].blueprint_realms
    for name, bp in app.blueprints.items():
        realms[name] = getattr(bp, "realm", None)


def _install_request_hooks(app: Flask) -> None:
    state: SuprataState = app.extensions["suprata"]

    @app.before_request
    def select_business():
        """Resolve the business once per request; everything after this is scoped to it."""
        if request.blueprint == ops_bp.name:
            return  # health and metrics answer for the installation, even while the database is down
        slug = request.environ.get("suprata.business_slug")
        host_name = request.host.split(":")[0]
        business = state.businesses.by_slug(slug) if slug else state.businesses.by_host(host_name)
        g.business_token = enter_business(business.id if business else None)
        remember_business(business)
        if business is None and (slug or request.endpoint not in INSTALLATION_ENDPOINTS):
            abort(404)
        owner = state.plugins.blueprint_owner.get(request.blueprint)
        if owner is not None and not state.plugins.is_enabled(owner):
            abort(404)

    app.after_request(apply_realm_cookie)

    @app.teardown_request
    def leave(_exc):
        token = g.pop("business_token", None)
        if token is not None:
            leave_business(token)


# Endpoints that answer without a business: the installation's landing page and static files (and the
# health and metrics endpoints, which skip the business lookup altogether).
INSTALLATION_ENDPOINTS = {"site.installation_home", "static"}
