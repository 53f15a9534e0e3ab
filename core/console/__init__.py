"""The staff console: customers, invoices, plugins and settings for one business."""

# Importing the modules attaches their routes to the blueprint.
from core.console import (  # noqa: F401
    addresses,
    audit,
    auth,
    autopay,
    customers,
    dashboard,
    invoices,
    menu,
    notifications,
    payments,
    plugins,
    settings,
    staff,
)
from core.console.blueprint import bp

__all__ = ["bp"]
