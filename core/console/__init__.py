"""The staff console: customers, invoices, plugins and settings for one business."""

from core.plugin_api import staff_blueprint

bp = staff_blueprint("console", __name__, url_prefix="/console")

# Importing the modules attaches their routes to bp.
from core.console import (  # noqa: E402,F401
    audit,
    auth,
    customers,
    dashboard,
    invoices,
    notifications,
    payments,
    plugins,
    settings,
    staff,
)
