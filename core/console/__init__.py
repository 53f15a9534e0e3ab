"""The staff console: customers, invoices, plugins and settings for one business."""

# Importing the modules attaches their routes to the blueprint.
from core.console import (  # noqa: F401
    audit,
    auth,
    autopay,
    customers,
    dashboard,
    invoices,
    notifications,
    payments,
    plugins,
    settings,
    staff,
)
from core.console.blueprint import bp

__all__ = ["bp"]
