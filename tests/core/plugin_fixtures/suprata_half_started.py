"""Half started: a plugin that adds its routes, then raises before finishing ``register_blueprints``."""

from core.plugin_api import hookimpl, public_blueprint

bp = public_blueprint("half_started", __name__, url_prefix="/half")


@bp.get("/")
def page():
    return "half started"


@hookimpl
def register_blueprints(app):
    app.register_blueprint(bp)
    raise RuntimeError("missing configuration")
