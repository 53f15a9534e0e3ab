"""The staff console: customers, invoices, plugins and settings for one business."""

from core.plugin_api import staff_blueprint

bp = staff_blueprint("console", __name__, url_prefix="/console")

from core.console import views  # noqa: E402,F401  (routes attach to bp)
