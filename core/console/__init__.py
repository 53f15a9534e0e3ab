"""The staff console: customers, invoices, plugins and settings for one business."""

# Importing the modules attaches their routes to the blueprint.
from core.console import (  # noqa: F401
    addresses,
    audit,
    auth,
    autopay,
    catalog,
    customers,
    dashboard,
    email_auth,
    invoice_list,
    invoices,
    menu,
    notifications,
    pay_links,
    payments,
    plugins,
    settings,
    sign_in_apps,
    staff,
)
from core.console.blueprint import bp

__all__ = ["bp"]
