"""The public plugin API: the one module a Suprata plugin imports from core.

Everything here is promised to plugin authors and changes only as a documented, versioned event
(:data:`API_VERSION`; a plugin declares the version it was built for in its own ``API_VERSION``). Anything
else in ``core`` is internal. This module only re-exports: each name is defined where it belongs, and no
core module imports this one. A plugin is a package registered under the ``suprata.plugins`` entry-point
group whose module implements hooks from :mod:`core.plugins.hookspecs`::

    from core.plugin_api import hookimpl, PortalTab

    API_VERSION = "2.4"

    @hookimpl
    def render_portal_tab(customer, request):
        return PortalTab(id="loyalty", title="Rewards", order=50, url="/rewards")
"""

import pluggy
from flask import Blueprint

from core.activity import record as record_activity
from core.background.schedule import Schedule
from core.background.tasks import background_task
from core.extensions import csrf, db, limiter
from core.identity.roles import requires_permission
from core.models import (
    ActivityEvent,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerUser,
    Invoice,
    Payment,
    SavedPaymentMethod,
)
from core.models.types import UTCDateTime
from core.money.amounts import currency_digits, format_money, to_major
from core.money.payments.health import record_processor_status, record_webhook_received
from core.money.payments.ledger import (
    record_checkout_expired,
    record_payment_captured,
    record_payment_failed,
    record_refund,
)
from core.money.payments.processor import PaymentProcessor
from core.money.payments.saved_methods import record_card_saved, record_method_detached
from core.money.payments.types import CardDetails, CheckoutRedirect, Consent, ProcessorError
from core.notifications.channels import Channel, Delivery, DeliveryError, RenderedMessage
from core.notifications.outbox import enqueue as notify
from core.notifications.templates import register_template
from core.plugins import API_VERSION
from core.plugins.blueprints import customer_blueprint, login_exempt, public_blueprint, staff_blueprint
from core.plugins.contributions import MenuItem, PortalTab, Setting
from core.plugins.host import call_hook
from core.plugins.settings import settings_of
from core.tenancy import TenantScoped, business_context, current_business_id, utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for as public_url

hookimpl = pluggy.HookimplMarker("suprata")

__all__ = [
    "API_VERSION",
    "ActivityEvent",
    "Blueprint",
    "CardDetails",
    "Channel",
    "CheckoutRedirect",
    "Consent",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerUser",
    "Delivery",
    "DeliveryError",
    "Invoice",
    "MenuItem",
    "Payment",
    "PaymentProcessor",
    "PortalTab",
    "ProcessorError",
    "RenderedMessage",
    "SavedPaymentMethod",
    "Schedule",
    "Setting",
    "TenantScoped",
    "UTCDateTime",
    "background_task",
    "business_context",
    "call_hook",
    "csrf",
    "currency_digits",
    "current_business",
    "current_business_id",
    "customer_blueprint",
    "db",
    "format_money",
    "hookimpl",
    "limiter",
    "login_exempt",
    "notify",
    "public_blueprint",
    "public_url",
    "record_activity",
    "record_card_saved",
    "record_checkout_expired",
    "record_method_detached",
    "record_payment_captured",
    "record_payment_failed",
    "record_processor_status",
    "record_refund",
    "record_webhook_received",
    "register_template",
    "requires_permission",
    "settings_of",
    "staff_blueprint",
    "to_major",
    "utcnow",
]
