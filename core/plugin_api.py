"""The public plugin API: the one module a Suprata plugin imports from core.

Everything here is promised to plugin authors and changes only as a documented, versioned event
(:data:`API_VERSION`). Anything else in ``core`` is internal. A plugin is a package registered under the
``suprata.plugins`` entry-point group whose module implements hooks from :mod:`core.hookspecs`::

    from core.plugin_api import hookimpl, PortalTab

    @hookimpl
    def render_portal_tab(customer, request):
        return PortalTab(id="loyalty", title="Rewards", order=50, url="/rewards")
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import wraps
from typing import Any

import pluggy
from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_login import current_user

from core.extensions import csrf, db, limiter
from core.models import (
    ActivityEvent,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomerUser,
    Invoice,
    OutboxMessage,
    Payment,
    SavedPaymentMethod,
)
from core.payments import (
    CardDetails,
    Consent,
    ProcessorError,
    record_card_saved,
    record_checkout_expired,
    record_method_detached,
    record_payment_captured,
    record_payment_failed,
    record_refund,
)
from core.queue import Schedule
from core.tenancy import TenantScoped, business_context, current_business_id, utcnow

API_VERSION = "1.0"

hookimpl = pluggy.HookimplMarker("suprata")


# -- contributions returned by hooks ------------------------------------------------------------------------


@dataclass(frozen=True)
class PortalTab:
    """One entry in the portal's tab bar (see ``render_portal_tab``)."""

    id: str
    title: str
    url: str
    order: int = 100


@dataclass(frozen=True)
class MenuItem:
    """One entry in the staff console's menu (see ``console_menu_items``)."""

    title: str
    url: str
    order: int = 100


@dataclass(frozen=True)
class Setting:
    """A plugin setting: shown on the plugins page, stored per business, validated on save.

    ``kind`` is ``"text"``, ``"secret"`` (stored encrypted, never shown back), ``"bool"``, ``"int"`` or
    ``"choice"`` (with ``choices``). ``validate`` may raise ``ValueError`` with a message for the user.
    """

    name: str
    label: str
    kind: str = "text"
    default: Any = None
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    validate: Any = None


# -- providers returned by registration hooks ----------------------------------------------------------------


@dataclass
class CheckoutRedirect:
    """Where to send the customer to pay, and the processor's id for that attempt."""

    url: str
    checkout_ref: str


class PaymentProcessor(ABC):
    """A payment processor (returned by the ``payment_processors`` hook). Deliberately small.

    A processor never changes money state itself: it reports what its processor says, from a verified
    webhook or a server-side re-fetch, through ``record_payment_captured``, ``record_payment_failed``,
    ``record_refund``, ``record_card_saved``, ``record_checkout_expired`` and ``record_method_detached``
    (re-exported here from :mod:`core.payments`), which apply each fact exactly once. Methods that talk to
    the processor raise :class:`ProcessorError` with a message for staff when it refuses or cannot be
    reached.
    """

    #: short identifier stored on payments and saved methods, e.g. ``"stripe"``
    name: str = ""
    #: shown to staff
    label: str = ""

    @abstractmethod
    def is_connected(self) -> bool:
        """True when the current business has configured this processor and can take payments."""

    @abstractmethod
    def create_checkout(self, payment: Payment, *, save_card: bool, success_url: str, cancel_url: str
                        ) -> CheckoutRedirect:
        """Open the processor's hosted payment page for ``payment`` (amount and currency already set).

        ``save_card`` is True only when the customer consented to keeping the card for later
        (the consent is on ``payment.details["consent"]``); otherwise nothing may be kept.
        """

    @abstractmethod
    def refresh_payment(self, payment: Payment) -> None:
        """Re-fetch the processor's object for ``payment`` server-side and record what it says."""

    @abstractmethod
    def charge_saved_method(self, payment: Payment, method: SavedPaymentMethod) -> None:
        """Charge a saved method off-session for ``payment`` and record the outcome.

        The request carries ``payment.idempotency_key``, so charging the same payment again returns the
        first result instead of charging twice.
        """

    @abstractmethod
    def detach_saved_method(self, method: SavedPaymentMethod) -> None:
        """Remove a saved method at the processor; core marks it detached."""

    @abstractmethod
    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        """Refund ``amount`` of ``payment`` at the processor, sending ``idempotency_key`` with the request;
        returns the processor's refund id."""


@dataclass
class RenderedMessage:
    subject: str
    text: str
    html: str | None = None


class DeliveryError(Exception):
    """A channel could not deliver. ``permanent=True`` stops retries (bad address, opted out)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(ABC):
    """A notification delivery channel (returned by the ``notification_channels`` hook)."""

    #: the outbox channel name this delivers, e.g. ``"email"`` or ``"sms"``
    name: str = ""

    @abstractmethod
    def deliver(self, message: OutboxMessage, rendered: RenderedMessage) -> str | None:
        """Send one message; return the provider's id, or raise :class:`DeliveryError`."""


# -- blueprints ---------------------------------------------------------------------------------------------


def customer_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint whose pages belong to the customer realm (portal, help site)."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = "customer"
    return bp


def staff_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint whose pages belong to the staff console; only staff sessions authenticate here."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = "staff"
    return bp


def staff_login_required(view):
    """Decorator for the views of a plugin's staff blueprint: without a staff login of this business, the
    console's login page (which brings the member back here after logging in)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.realm == "staff"):
            return redirect(url_for("console.login", next=request.path))
        return view(*args, **kwargs)

    return guarded


def public_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A blueprint with no login at all (webhooks, public forms)."""
    bp = Blueprint(name, import_name, **kwargs)
    bp.realm = None
    return bp


# -- helpers -------------------------------------------------------------------------------------------------


def current_business():
    """The current business as a read-only :class:`core.business_state.BusinessInfo`."""
    return g.business


def plugin_settings(plugin_name: str) -> dict:
    """The current business's settings for a plugin, with declared defaults filled in, secrets decrypted."""
    from core.plugin_settings import settings_for

    return settings_for(plugin_name)


def call_hook(hook_name: str, **kwargs) -> list:
    """Call a hook on the current business's enabled plugins (isolated); how plugins talk to each other."""
    return current_app.extensions["suprata"].plugins.call(hook_name, **kwargs)


def notify(template_key: str, *, to: str, channel: str = "email", customer_id: int | None = None,
           context: dict | None = None) -> OutboxMessage:
    """Queue a notification in the outbox, in the caller's transaction (see :mod:`core.notifications`)."""
    from core.notifications.outbox import enqueue

    return enqueue(template_key, to=to, channel=channel, customer_id=customer_id, context=context or {})


def register_template(key: str, *, subject: str, text: str, html: str | None = None, description: str = ""
                      ) -> None:
    """Declare a default notification template a business may then rewrite in its own voice."""
    from core.notifications.templates import register_default

    register_default(key, subject=subject, text=text, html=html, description=description)


def record_activity(customer_id: int, *, surface: str, kind: str, summary: str, **ref) -> ActivityEvent:
    """Add an event to the customer's timeline, in the caller's transaction."""
    from core.activity import record

    return record(customer_id, surface=surface, kind=kind, summary=summary, **ref)


def public_url(endpoint: str, **values) -> str:
    """An absolute link for emails and redirects, built from the configured public URL, never the Host."""
    from core.urls import public_url_for

    return public_url_for(endpoint, **values)


__all__ = [
    "API_VERSION",
    "Blueprint",
    "CardDetails",
    "Channel",
    "CheckoutRedirect",
    "Consent",
    "Customer",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerUser",
    "DeliveryError",
    "Invoice",
    "MenuItem",
    "OutboxMessage",
    "Payment",
    "PaymentProcessor",
    "PortalTab",
    "ProcessorError",
    "RenderedMessage",
    "SavedPaymentMethod",
    "Schedule",
    "Setting",
    "TenantScoped",
    "business_context",
    "call_hook",
    "csrf",
    "current_business",
    "current_business_id",
    "customer_blueprint",
    "db",
    "hookimpl",
    "limiter",
    "notify",
    "plugin_settings",
    "public_blueprint",
    "public_url",
    "record_activity",
    "record_card_saved",
    "record_checkout_expired",
    "record_method_detached",
    "record_payment_captured",
    "record_payment_failed",
    "record_refund",
    "register_template",
    "staff_blueprint",
    "staff_login_required",
    "utcnow",
]
