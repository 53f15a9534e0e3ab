"""The public plugin API: the one module a Suprata plugin imports from core.

Everything here is promised to plugin authors and changes only as a documented, versioned event
(:data:`API_VERSION`; a plugin declares the version it was built for in its own ``API_VERSION``). Anything
else in ``core`` is internal. This module only re-exports: each name is defined where it belongs, and no
core module imports this one. A plugin is a package registered under the ``suprata.plugins`` entry-point
group whose module implements hooks from :mod:`core.plugins.hookspecs`::

    from core.plugin_api import hookimpl, PortalTab

    API_VERSION = "2.11"

    @hookimpl
    def render_portal_tab(customer, request):
        return PortalTab(id="loyalty", title="Rewards", order=50, url="/rewards")
"""

import pluggy
from flask import Blueprint

from core.account.invitations import Invitation, accept_invitation, find_invitation, send_invitation
from core.account.logins import (
    login_for_email,
    login_of_customer,
    open_login,
    send_password_reset,
    sign_in,
)
from core.activity import record as record_activity
from core.background.schedule import Schedule
from core.background.tasks import background_task
from core.database import lock_row
from core.extensions import csrf, db, limiter
from core.identity.forms import VALID_EMAIL, SetPasswordForm
from core.identity.login import private
from core.identity.login import safe_next as safe_next_path
from core.identity.oidc.backchannel import LOGOUT_EVENT as SSO_LOGOUT_EVENT
from core.identity.oidc.clients import client_of_plugin as sso_client
from core.identity.oidc.clients import report_clock_offset as report_sso_clock_offset
from core.identity.oidc.server import issuer as sso_issuer
from core.identity.roles import requires_permission
from core.identity.tokens import consume as consume_token
from core.identity.tokens import issue as issue_token
from core.identity.tokens import peek as peek_token
from core.identity.tokens import revoke_all as revoke_tokens
from core.models import (
    INVOICE_KINDS,
    TIME_WINDOWS,
    ActivityEvent,
    Agreement,
    AppointmentRequest,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerUser,
    Invoice,
    InvoiceView,
    Job,
    Payment,
    Reservation,
    SavedPaymentMethod,
    StaffUser,
)
from core.models.customer import search_condition as customer_search
from core.models.types import UTCDateTime
from core.money.amounts import currency_digits, format_money, to_major
from core.money.autopay.enrolment import AutopayError
from core.money.autopay.enrolment import consent_wording as autopay_consent_wording
from core.money.autopay.enrolment import switch_off as switch_autopay_off
from core.money.autopay.enrolment import switch_on as switch_autopay_on
from core.money.autopay.enrolment import why_not_allowed as why_autopay_not_allowed
from core.money.documents import invoice_pdf, receipt_payments, receipt_pdf
from core.money.invoicing import InvoiceStateError
from core.money.payments.checkout import check_returning_payment, open_checkout
from core.money.payments.health import record_processor_status, record_webhook_received
from core.money.payments.ledger import (
    record_checkout_expired,
    record_payment_captured,
    record_payment_failed,
    record_refund,
)
from core.money.payments.processor import PaymentProcessor, connected_processor
from core.money.payments.saved_methods import (
    detach_payment_method,
    make_default,
    record_card_saved,
    record_method_detached,
    saved_methods_of,
)
from core.money.payments.types import CardDetails, CheckoutRedirect, Consent, PaymentError, ProcessorError
from core.money.payments.wording import card_label, save_card_wording
from core.money.reservations import balance_invoice
from core.notifications.channels import Channel, Delivery, DeliveryError, RenderedMessage
from core.notifications.events import customer_choices, notify_event, save_customer_choice
from core.notifications.outbox import enqueue as notify
from core.notifications.templates import register_template
from core.observability.metrics import observe_webhook_lag
from core.phones import PhoneNumberError, normalise_phone
from core.plugins import API_VERSION
from core.plugins.blueprints import customer_blueprint, login_exempt, public_blueprint, staff_blueprint
from core.plugins.contributions import MenuItem, PortalTab, Setting
from core.plugins.events import emit_after_commit
from core.plugins.host import call_hook
from core.plugins.settings import settings_of
from core.tenancy import TenantScoped, business_context, current_business_id, utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for as public_url
from core.web.helpers import format_date, format_datetime

hookimpl = pluggy.HookimplMarker("suprata")

__all__ = [
    "API_VERSION",
    "ActivityEvent",
    "Agreement",
    "AppointmentRequest",
    "AutopayError",
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
    "INVOICE_KINDS",
    "Invitation",
    "Invoice",
    "InvoiceView",
    "InvoiceStateError",
    "Job",
    "MenuItem",
    "Payment",
    "PaymentError",
    "PaymentProcessor",
    "PhoneNumberError",
    "PortalTab",
    "ProcessorError",
    "RenderedMessage",
    "Reservation",
    "SSO_LOGOUT_EVENT",
    "SavedPaymentMethod",
    "Schedule",
    "SetPasswordForm",
    "Setting",
    "StaffUser",
    "TIME_WINDOWS",
    "TenantScoped",
    "UTCDateTime",
    "VALID_EMAIL",
    "accept_invitation",
    "balance_invoice",
    "autopay_consent_wording",
    "background_task",
    "business_context",
    "call_hook",
    "card_label",
    "check_returning_payment",
    "connected_processor",
    "consume_token",
    "csrf",
    "currency_digits",
    "current_business",
    "current_business_id",
    "customer_blueprint",
    "customer_search",
    "customer_choices",
    "db",
    "detach_payment_method",
    "emit_after_commit",
    "find_invitation",
    "format_date",
    "format_datetime",
    "format_money",
    "hookimpl",
    "invoice_pdf",
    "issue_token",
    "limiter",
    "lock_row",
    "login_exempt",
    "login_for_email",
    "login_of_customer",
    "make_default",
    "notify",
    "open_checkout",
    "open_login",
    "peek_token",
    "private",
    "normalise_phone",
    "notify_event",
    "observe_webhook_lag",
    "public_blueprint",
    "public_url",
    "receipt_payments",
    "receipt_pdf",
    "record_activity",
    "record_card_saved",
    "record_checkout_expired",
    "record_method_detached",
    "record_payment_captured",
    "record_payment_failed",
    "record_processor_status",
    "record_refund",
    "record_webhook_received",
    "report_sso_clock_offset",
    "register_template",
    "revoke_tokens",
    "safe_next_path",
    "save_card_wording",
    "saved_methods_of",
    "send_invitation",
    "send_password_reset",
    "requires_permission",
    "save_customer_choice",
    "settings_of",
    "sign_in",
    "sso_client",
    "sso_issuer",
    "staff_blueprint",
    "switch_autopay_off",
    "switch_autopay_on",
    "to_major",
    "utcnow",
    "why_autopay_not_allowed",
]
