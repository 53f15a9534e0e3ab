"""A local, stateful Stripe stand-in for the test suite and the offline demo.

It runs localstripe's aiohttp handlers in-process on 127.0.0.1 and fills the gaps our product relies
on: Checkout Sessions in payment and setup mode with a test hosted page, Stripe-shaped card declines
with decline codes (at charge time, on attach and on SetupIntents), off-session
``authentication_required``, expired cards, card brands, updating a saved card's expiry,
``Idempotency-Key`` replays, the PaymentIntent parameters localstripe rejects, and the events Stripe
sends about all of these. Drive it only through the real ``stripe`` SDK::

    server = StripeTestServer().start()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.base_url},
                                 max_network_retries=0)

Run standalone for the demo with ``python -m core.testing.stripe_server --port 12111``.

Stripe attaches no card that declines, as here; a test that needs a saved card to decline later (an
autopay run) changes the card with :meth:`StripeTestServer.change_card`, as the world would.

State (objects and webhook registrations) lives in localstripe's module globals, so every server in
the process shares it, and ``reset()`` on one clears it for all.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import logging
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
import warnings

from aiohttp import web

with warnings.catch_warnings():
    # localstripe registers plain-function handlers, which aiohttp deprecates on import.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    import localstripe.server as ls_server
    import localstripe.webhooks as ls_webhooks
    from localstripe.errors import UserError
    from localstripe.resources import (
        Charge,
        Customer,
        Event,
        PaymentIntent,
        PaymentMethod,
        Refund,
        SetupIntent,
        Store,
        StripeObject,
        random_id,
        store,
        try_convert_to_bool,
        try_convert_to_int,
    )

__all__ = ["DECLINING_CARDS", "StripeTestServer", "main"]

log = logging.getLogger(__name__)

# Stripe's test cards that decline at charge time: number -> (code, decline_code, message).
DECLINING_CARDS = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4242424242424241": ("incorrect_number", None, "Your card number is incorrect."),
    # These two ask for 3D Secure first, then decline.
    "4000008260003178": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000008400001629": ("card_declined", "generic_decline", "Your card was declined."),
}
_GENERIC_DECLINE = ("card_declined", "generic_decline", "Your card was declined.")
_AUTHENTICATION_REQUIRED = (
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)
_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
                 "xaf", "xof", "xpf"}
_IDEMPOTENCY_CACHE_SIZE = 10_000
_IN_FLIGHT = object()


class _CardError(UserError):
    """localstripe's UserError always says ``invalid_request_error``; declines are ``card_error``."""

    def __init__(self, message, contents):
        super().__init__(402, message, contents)
        self.body["error"]["type"] = "card_error"


def _card_number(payment_method):
    return getattr(payment_method, "_card_number", None)


# Stripe's 4000002500003155 asks for authentication on-session, but once it has been set up (a SetupIntent
# or a payment with setup_future_usage, authenticated) later off-session payments need none. The other
# authentication cards (4000002760003184, ...) ask every time, off-session included.
_AUTHENTICATE_UNTIL_SET_UP = frozenset({"4000002500003155"})


def _card_expired(payment_method):
    card = getattr(payment_method, "card", None)
    if getattr(payment_method, "type", None) != "card" or not isinstance(card, dict):
        return False
    now = time.gmtime()
    return (card["exp_year"], card["exp_month"]) < (now.tm_year, now.tm_mon)


def _charge_decline(payment_method):
    """How the issuer answers a charge on the card now: (code, decline_code, message), or None."""
    if _card_expired(payment_method):
        return DECLINING_CARDS["4000000000000069"]
    return DECLINING_CARDS.get(_card_number(payment_method))


def _check_expiry(exp_month, exp_year):
    """Stripe refuses card details whose expiry has passed, with a card error; localstripe takes any year
    from 2019."""
    month, year = try_convert_to_int(exp_month), try_convert_to_int(exp_year)
    if type(month) is not int or type(year) is not int:
        return  # localstripe's own checks answer malformed values
    if 0 < year < 100:
        year += 2000
    now = time.gmtime()
    if year < now.tm_year:
        raise _CardError("Your card's expiration year is invalid.",
                         {"code": "invalid_expiry_year", "param": "exp_year"})
    if year == now.tm_year and month < now.tm_mon:
        raise _CardError("Your card's expiration month is invalid.",
                         {"code": "invalid_expiry_month", "param": "exp_month"})


def _card_brand(number):
    """The brand Stripe reports for a test card number; localstripe calls every card a Visa."""
    head = int(number[:6]) if number[:6].isdigit() else 0
    if number.startswith("4"):
        return "visa"
    if 510000 <= head < 560000 or 222100 <= head < 272100:
        return "mastercard"
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith(("6011", "65")) or 644000 <= head < 650000:
        return "discover"
    if 352800 <= head < 359000:
        return "jcb"
    if number.startswith(("30", "36", "38", "39")):
        return "diners"
    if number.startswith("62"):
        return "unionpay"
    return "unknown"


# --- Patches to localstripe's resources (applied once, before the first start) ---------------------

_patched = False


def _patch_localstripe():
    global _patched
    if _patched:
        return
    _patched = True

    # Each write would otherwise re-pickle the whole store to /tmp (milliseconds, growing with it).
    Store.dump_to_disk = lambda self: None

    # localstripe only declines 4000000000000341 at charge time; Stripe declines every decline card, and
    # a saved card whose expiry has passed.
    orig_charging_is_declined = PaymentMethod._charging_is_declined

    def _charging_is_declined(self):
        return orig_charging_is_declined(self) or _charge_decline(self) is not None

    PaymentMethod._charging_is_declined = _charging_is_declined

    # Record the real failure code and decline code on the failed charge.
    def _set_auth_failure(self):
        decline = (getattr(self, "_decline", None)
                   or _charge_decline(PaymentMethod._api_retrieve(self.payment_method)) or _GENERIC_DECLINE)
        self.status = "failed"
        self.failure_code, self._decline_code, self.failure_message = decline
        self.outcome = {"type": "issuer_declined", "network_status": "declined_by_network",
                        "reason": self._decline_code}

    Charge._set_auth_failure = _set_auth_failure

    # Raise a Stripe-shaped card error carrying the failed PaymentIntent, so the SDK's CardError has
    # .code, .error.decline_code and .error.payment_intent.
    def _raise_failure(self):
        contents = {"code": self.failure_code, "decline_code": getattr(self, "_decline_code", None),
                    "charge": self.id}
        if self.payment_intent:
            contents["payment_intent"] = PaymentIntent._api_retrieve(self.payment_intent)._export()
        raise _CardError(self.failure_message, contents)

    Charge._raise_failure = _raise_failure

    orig_last_payment_error = PaymentIntent.last_payment_error.fget

    def last_payment_error(self):
        error = orig_last_payment_error(self)
        charge = self.latest_charge
        if error and charge is not None and charge.status == "failed":
            error.update(type="card_error", decline_code=getattr(charge, "_decline_code", None),
                         payment_method=PaymentMethod._api_retrieve(charge.payment_method)._export())
        return error

    PaymentIntent.last_payment_error = property(last_payment_error)

    # Off-session there is nobody to complete 3D Secure: Stripe declines with authentication_required
    # where localstripe would return requires_action.
    orig_confirm = PaymentIntent._confirm

    def _confirm(self, on_failure_now):
        pm = PaymentMethod._api_retrieve(self.payment_method)
        if not (getattr(self, "_off_session", False) and pm._requires_authentication()):
            return orig_confirm(self, on_failure_now)
        self._authentication_failed = False
        if _card_number(pm) in _AUTHENTICATE_UNTIL_SET_UP and getattr(pm, "_set_up", False):
            self._create_charge(on_failure_now=on_failure_now)
            return
        charge = Charge(amount=self.amount, currency=self.currency, customer=self.customer,
                        source=self.payment_method, capture=(self.capture_method != "manual"))
        charge.payment_intent = self.id
        charge._authorized = False
        charge._decline = _AUTHENTICATION_REQUIRED
        self.latest_charge = charge
        charge._initialize_charge(self._on_success, on_failure_now, self._report_async_failure)

    PaymentIntent._confirm = _confirm

    # setup_future_usage: a successful payment saves the card on the customer, as Stripe does, and sets
    # it up for later payments (on-session, so any authentication it asked for was passed).
    orig_on_success = PaymentIntent._on_success

    def _on_success(self):
        if getattr(self, "setup_future_usage", None) and self.customer:
            pm = PaymentMethod._api_retrieve(self.payment_method)
            if getattr(pm, "customer", None) is None:
                pm.customer = self.customer
            pm._set_up = True
        orig_on_success(self)

    PaymentIntent._on_success = _on_success

    # localstripe rejects these PaymentIntent parameters with a 400; keep them on the object instead.
    def _pi_api_create(cls, confirm=None, off_session=None, description=None, receipt_email=None,
                       setup_future_usage=None, automatic_payment_methods=None, return_url=None, **data):
        confirm = try_convert_to_bool(confirm)
        off_session = try_convert_to_bool(off_session)
        if confirm is not None and type(confirm) is not bool:
            raise UserError(400, "Invalid boolean: confirm", {"param": "confirm"})
        if off_session is not None and (type(off_session) is not bool or confirm is not True):
            raise UserError(400, "off_session can only be used with confirm=true", {"param": "off_session"})
        if setup_future_usage not in (None, "", "on_session", "off_session"):
            raise UserError(400, "Invalid setup_future_usage", {"param": "setup_future_usage"})
        obj = cls(**data)
        obj.description = description
        obj.receipt_email = receipt_email
        obj.setup_future_usage = setup_future_usage or None
        obj.automatic_payment_methods = None
        if automatic_payment_methods:
            enabled = try_convert_to_bool((automatic_payment_methods or {}).get("enabled"))
            obj.automatic_payment_methods = {"enabled": enabled is True}
        obj._off_session = bool(off_session)
        if confirm:
            obj._confirm(on_failure_now=obj._report_failure)
        return obj

    PaymentIntent._api_create = classmethod(_pi_api_create)

    # Stripe refuses card details that have expired; it reports each card's brand.
    orig_pm_create = PaymentMethod._api_create

    def _pm_api_create(cls, **data):
        card = data.get("card")
        if data.get("type") == "card" and isinstance(card, dict):
            _check_expiry(card.get("exp_month"), card.get("exp_year"))
        pm = orig_pm_create(**data)
        if pm.type == "card":
            pm.card["brand"] = _card_brand(pm._card_number)
        return pm

    PaymentMethod._api_create = classmethod(_pm_api_create)

    # Attaching a declining card fails in Stripe with a card_error carrying the decline code.
    orig_attach = PaymentMethod._api_attach

    def _api_attach(cls, id, customer=None, **kwargs):
        if _card_expired(PaymentMethod._api_retrieve(id)):
            code, decline_code, message = DECLINING_CARDS["4000000000000069"]
            raise _CardError(message, {"code": code, "decline_code": decline_code})
        try:
            return orig_attach(id, customer=customer, **kwargs)
        except UserError as e:
            if e.code != 402:
                raise
            code, decline_code, message = DECLINING_CARDS.get(
                _card_number(PaymentMethod._api_retrieve(id)), _GENERIC_DECLINE)
            raise _CardError(message, {"code": code, "decline_code": decline_code}) from None

    PaymentMethod._api_attach = classmethod(_api_attach)

    # Stripe announces refunds with charge.refunded; localstripe sends nothing.
    orig_refund_create = Refund._api_create

    def _refund_api_create(cls, **data):
        refund = orig_refund_create(**data)
        ls_webhooks.schedule_webhook(Event("charge.refunded", Charge._api_retrieve(refund.charge)))
        return refund

    Refund._api_create = classmethod(_refund_api_create)

    _patch_saved_card_events()


# --- Saved cards: setting up, updating, detaching ---------------------------------------------------

def _patch_saved_card_events():
    """Stripe keeps a confirmed SetupIntent's card on its customer and says so with
    ``setup_intent.succeeded``; a declined one goes back to ``requires_payment_method`` with a
    ``last_setup_error`` and ``setup_intent.setup_failed``. It lets a saved card's expiry be updated
    (``payment_method.updated``) and announces detaching with ``payment_method.detached``. localstripe does
    none of these (the detach route is replaced in ``_build_app``)."""
    orig_si_init = SetupIntent.__init__

    def __init__(self, *args, description=None, **kwargs):
        orig_si_init(self, *args, **kwargs)
        self.description = description
        self.last_setup_error = None

    SetupIntent.__init__ = __init__
    SetupIntent._attach_pm = _confirm_setup

    orig_detach = PaymentMethod._api_detach

    def _api_detach(cls, id, **kwargs):
        if getattr(PaymentMethod._api_retrieve(id), "customer", None) is None:
            raise UserError(400, "The payment method you provided is not attached to a customer so "
                            "detachment is impossible.")
        pm = orig_detach(id, **kwargs)
        ls_webhooks.schedule_webhook(Event("payment_method.detached", pm))
        return pm

    PaymentMethod._api_detach = classmethod(_api_detach)
    PaymentMethod._api_update = classmethod(_pm_api_update)


def _confirm_setup(si, pm):
    """Confirm SetupIntent ``si`` with card ``pm`` as Stripe does. Raises a card error on decline."""
    si.payment_method = pm.id
    si.last_setup_error = None
    si.next_action = None
    if pm._attaching_is_declined() or _card_expired(pm):
        code, decline_code, message = _charge_decline(pm) or _GENERIC_DECLINE
        si.status = "requires_payment_method"
        si.payment_method = None
        si.last_setup_error = {"type": "card_error", "code": code, "decline_code": decline_code,
                               "message": message, "payment_method": pm._export()}
        ls_webhooks.schedule_webhook(Event("setup_intent.setup_failed", si))
        raise _CardError(message, {"code": code, "decline_code": decline_code, "setup_intent": si._export()})
    if pm._requires_authentication():
        si.status = "requires_action"
        si.next_action = {"type": "use_stripe_sdk",
                          "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""}}
        return
    _setup_succeeded(si, pm)


def _setup_succeeded(si, pm):
    si.status = "succeeded"
    si.next_action = None
    pm._set_up = True
    if si.customer and pm.customer is None:
        pm.customer = si.customer
    ls_webhooks.schedule_webhook(Event("setup_intent.succeeded", si))


def _setup_authentication_failed(si):
    pm = PaymentMethod._api_retrieve(si.payment_method)
    si.status = "requires_payment_method"
    si.payment_method = None
    si.next_action = None
    si.last_setup_error = {
        "type": "invalid_request_error", "code": "setup_intent_authentication_failure",
        "message": "The latest attempt to set up the payment method has failed because authentication "
                   "failed.", "payment_method": pm._export()}
    ls_webhooks.schedule_webhook(Event("setup_intent.setup_failed", si))


def _pm_api_update(cls, id, card=None, billing_details=None, metadata=None, **kwargs):
    """PaymentMethod update: Stripe lets a saved card's expiry, billing details and metadata change."""
    if kwargs:
        raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs))
    pm = cls._api_retrieve(id)
    if pm.customer is None:
        raise UserError(400, "You must save this PaymentMethod to a customer before you can update it.")
    if card is not None:
        if pm.type != "card" or not isinstance(card, dict) or set(card) - {"exp_month", "exp_year"}:
            raise UserError(400, "Only card[exp_month] and card[exp_year] can be updated", {"param": "card"})
        month = try_convert_to_int(card.get("exp_month", pm.card["exp_month"]))
        year = try_convert_to_int(card.get("exp_year", pm.card["exp_year"]))
        if type(month) is not int or not 1 <= month <= 12 or type(year) is not int:
            raise UserError(400, "Invalid card expiry", {"param": "card"})
        year = year + 2000 if 0 < year < 100 else year
        _check_expiry(month, year)
        pm.card = {**pm.card, "exp_month": month, "exp_year": year}
    if billing_details is not None:
        if not isinstance(billing_details, dict):
            raise UserError(400, "Invalid billing_details", {"param": "billing_details"})
        pm.billing_details = {**(pm.billing_details or {}), **billing_details}
    if metadata:
        if not isinstance(metadata, dict):
            raise UserError(400, "Invalid metadata", {"param": "metadata"})
        pm.metadata = {**(pm.metadata or {}), **metadata}
    ls_webhooks.schedule_webhook(Event("payment_method.updated", pm))
    return pm


def _pi_api_confirm(id, payment_method=None, off_session=None, setup_future_usage=None, return_url=None,
                    receipt_email=None, **kwargs):
    """PaymentIntent confirm, which localstripe limits to intents without a new payment method."""
    if kwargs:
        raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs))
    pi = PaymentIntent._api_retrieve(id)
    if payment_method is not None:
        PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
        _reset_for_new_payment_method(pi, payment_method)
    if pi.status != "requires_confirmation":
        raise UserError(400, f"This PaymentIntent's status is {pi.status}, so it cannot be confirmed.",
                        {"code": "payment_intent_unexpected_state"})
    if setup_future_usage:
        pi.setup_future_usage = setup_future_usage
    if receipt_email:
        pi.receipt_email = receipt_email
    pi._off_session = try_convert_to_bool(off_session) is True
    pi._confirm(on_failure_now=pi._report_failure)
    return pi


def _reset_for_new_payment_method(pi, payment_method):
    if pi.status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        raise UserError(400, f"This PaymentIntent's status is {pi.status}; it cannot take a new payment "
                        "method.", {"code": "payment_intent_unexpected_state"})
    pi.payment_method = payment_method
    pi.latest_charge = None
    pi.next_action = None
    pi._authentication_failed = False


# --- Checkout Sessions (absent from localstripe) ----------------------------------------------------

class CheckoutSession(StripeObject):
    """A Checkout Session in ``payment`` mode (pay an amount) or ``setup`` mode (save a card, pay nothing).

    As with Stripe since API version 2022-08-01, the PaymentIntent or SetupIntent is created when the
    shopper submits the hosted page, not with the session.
    """

    object = "checkout.session"
    _id_prefix = "cs_test_"
    _known = {"mode", "line_items", "success_url", "cancel_url", "customer", "customer_email",
              "client_reference_id", "metadata", "payment_intent_data", "setup_intent_data", "currency",
              "expires_at", "payment_method_types", "customer_creation", "locale", "submit_type"}
    _setup_intent_data_known = {"metadata", "description"}

    def __init__(self, base_url="", **params):
        unknown = sorted(set(params) - self._known)
        if unknown:
            raise UserError(400, "Received unknown parameter: " + unknown[0], {"param": unknown[0]})
        mode = params.get("mode")
        if mode not in ("payment", "setup"):
            raise UserError(400, "Only mode=payment and mode=setup are supported by the test server",
                            {"param": "mode"})
        if not params.get("success_url"):
            raise UserError(400, "Missing required param: success_url.", {"param": "success_url"})
        customer = params.get("customer")
        if customer:
            Customer._api_retrieve(customer)  # 404 if unknown
        if customer and params.get("customer_email"):
            raise UserError(400, "You may only specify one of these parameters: customer, customer_email.")
        currency = (params.get("currency") or "").lower() or None
        items, pi_data, si_data = [], {}, {}
        if mode == "payment":
            items = self._parse_line_items(params.get("line_items"))
            if currency and currency != items[0]["currency"]:
                raise UserError(400, "currency must match the line items' currency", {"param": "currency"})
            currency = items[0]["currency"]
            if params.get("setup_intent_data"):
                raise UserError(400, "setup_intent_data can only be used in setup mode.",
                                {"param": "setup_intent_data"})
            pi_data = params.get("payment_intent_data") or {}
            if pi_data.get("setup_future_usage") not in (None, "on_session", "off_session"):
                raise UserError(400, "Invalid setup_future_usage",
                                {"param": "payment_intent_data[setup_future_usage]"})
        else:
            for name in ("line_items", "payment_intent_data"):
                if params.get(name):
                    raise UserError(400, f"{name} cannot be used in setup mode.", {"param": name})
            si_data = params.get("setup_intent_data") or {}
            if not isinstance(si_data, dict) or set(si_data) - self._setup_intent_data_known:
                raise UserError(400, "setup_intent_data accepts metadata and description",
                                {"param": "setup_intent_data"})
        payment_method_types = params.get("payment_method_types") or ["card"]
        if payment_method_types != ["card"]:
            raise UserError(400, "The test server only supports payment_method_types=['card']",
                            {"param": "payment_method_types"})
        now = int(time.time())
        expires_at = try_convert_to_int(params.get("expires_at") or now + 24 * 3600)
        # Stripe's own bounds, so a product bug shows up here rather than in production.
        if type(expires_at) is not int or not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            raise UserError(400, "expires_at must be between 30 minutes and 24 hours from now",
                            {"param": "expires_at"})

        super().__init__(id=self._id_prefix + random_id(40))

        self._base_url = base_url
        self._line_items = items
        self._payment_intent_data = pi_data
        self._setup_intent_data = si_data
        self._customer_creation = params.get("customer_creation") or "if_required"
        self._status = "open"
        self.mode = mode
        self.currency = currency
        if mode == "payment":
            self.amount_subtotal = self.amount_total = sum(i["unit_amount"] * i["quantity"] for i in items)
        else:
            self.amount_subtotal = self.amount_total = None
        self.customer = customer or None
        self.customer_email = params.get("customer_email")
        self.customer_details = None
        self.client_reference_id = params.get("client_reference_id")
        self.metadata = params.get("metadata") or {}
        self.payment_intent = None
        self.payment_method_types = payment_method_types
        self.payment_status = "unpaid" if mode == "payment" else "no_payment_required"
        self.success_url = params["success_url"]
        self.cancel_url = params.get("cancel_url")
        self.expires_at = expires_at
        self.locale = params.get("locale")
        self.setup_intent = None
        self.subscription = None
        self.invoice = None

    @staticmethod
    def _parse_line_items(line_items):
        if not isinstance(line_items, list) or not line_items:
            raise UserError(400, "Missing required param: line_items.", {"param": "line_items"})
        items = []
        for n, item in enumerate(line_items):
            price_data = item.get("price_data") if isinstance(item, dict) else None
            if not isinstance(price_data, dict):
                raise UserError(400, "The test server only supports line_items[][price_data]",
                                {"param": f"line_items[{n}][price_data]"})
            unit_amount = try_convert_to_int(price_data.get("unit_amount"))
            quantity = try_convert_to_int(item.get("quantity", 1))
            name = (price_data.get("product_data") or {}).get("name")
            currency = (price_data.get("currency") or "").lower()
            if type(unit_amount) is not int or unit_amount < 0 or type(quantity) is not int or quantity < 1:
                raise UserError(400, "Invalid unit_amount or quantity", {"param": f"line_items[{n}]"})
            if not name or not currency:
                raise UserError(400, "line items need a currency and product_data[name]",
                                {"param": f"line_items[{n}][price_data]"})
            items.append({"name": name, "currency": currency, "unit_amount": unit_amount,
                          "quantity": quantity})
        if len({i["currency"] for i in items}) > 1:
            raise UserError(400, "All line items must share one currency", {"param": "line_items"})
        return items

    @property
    def status(self):
        if self._status == "open" and time.time() >= self.expires_at:
            return "expired"
        return self._status

    @property
    def url(self):
        return f"{self._base_url}/_test/checkout/{self.id}" if self.status == "open" else None

    @classmethod
    def _api_expire(cls, id, **kwargs):
        session = cls._api_retrieve(id)
        if session.status != "open":
            raise UserError(400, "Only Checkout Sessions with a status of `open` can be expired.")
        session._status = "expired"
        # An attempt left half-way (a decline, a pending 3D Secure) can no longer complete, as in Stripe.
        if session.payment_intent:
            pi = PaymentIntent._api_retrieve(session.payment_intent)
            if pi.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
                pi._canceled = True
                pi.next_action = None
                ls_webhooks.schedule_webhook(Event("payment_intent.canceled", pi))
        if session.setup_intent:
            si = SetupIntent._api_retrieve(session.setup_intent)
            if si.status != "succeeded":
                si.status = "canceled"
                si.next_action = None
                ls_webhooks.schedule_webhook(Event("setup_intent.canceled", si))
        ls_webhooks.schedule_webhook(Event("checkout.session.expired", session))
        return session

    def _new_card(self, card, email):
        try:
            return PaymentMethod._api_create(type="card", card=card, billing_details={"email": email})
        except _CardError:
            raise  # an expiry in the past: Stripe says which field
        except UserError:
            raise UserError(400, "Your card details are incomplete or invalid.") from None

    def _pay(self, card, email=None):
        """What Stripe does when the shopper submits the hosted page in payment mode. Raises a card error
        on decline."""
        sfu = self._payment_intent_data.get("setup_future_usage")
        email = self.customer_email or email or None
        if self.customer is None and (sfu or self._customer_creation == "always"):
            self.customer = Customer(email=email).id
        pm = self._new_card(card, email)
        if self.payment_intent:  # a retry after a decline reuses the session's PaymentIntent
            pi = PaymentIntent._api_retrieve(self.payment_intent)
            _reset_for_new_payment_method(pi, pm.id)
            pi.customer = self.customer
        else:
            pi = PaymentIntent(amount=self.amount_total, currency=self.currency, customer=self.customer,
                               payment_method=pm.id,
                               metadata=dict(self._payment_intent_data.get("metadata") or {}))
            pi.description = self._payment_intent_data.get("description")
            pi.receipt_email = email
            pi.setup_future_usage = sfu
            pi.automatic_payment_methods = None
            self.payment_intent = pi.id
        self._email = email
        pi._confirm(on_failure_now=pi._report_failure)
        self._complete_if_done(pi)
        return pi

    def _set_up(self, card, email=None):
        """What Stripe does when the shopper submits the hosted page in setup mode: a SetupIntent that
        keeps the card on the session's customer. Raises a card error on decline."""
        email = self.customer_email or email or None
        if self.customer is None and self._customer_creation == "always":
            self.customer = Customer(email=email).id
        pm = self._new_card(card, email)
        if self.setup_intent:  # a retry after a decline reuses the session's SetupIntent
            si = SetupIntent._api_retrieve(self.setup_intent)
        else:
            si = SetupIntent(customer=self.customer, usage="off_session", payment_method_types=["card"],
                             metadata=dict(self._setup_intent_data.get("metadata") or {}),
                             description=self._setup_intent_data.get("description"))
            self.setup_intent = si.id
        self._email = email
        _confirm_setup(si, pm)
        self._complete_if_done(si)
        return si

    def _complete_if_done(self, intent):
        if intent.status == "succeeded" and self._status == "open":
            self._status = "complete"
            if self.mode == "payment":
                self.payment_status = "paid"
            self.customer_details = {"email": getattr(self, "_email", None)}
            ls_webhooks.schedule_webhook(Event("checkout.session.completed", self))


def _success_redirect(session):
    location = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    return web.Response(status=303, headers={"Location": location})


def _format_amount(amount, currency):
    if currency in _ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def _page(session, body, status=200):
    e = html.escape
    if session.mode == "setup":
        heading = "Save a card for later payments"
    else:
        heading = _format_amount(session.amount_total, session.currency)
    items = "".join(f"<li>{e(i['name'])} &times; {i['quantity']}</li>" for i in session._line_items)
    items = f'<ul id="items">{items}</ul>' if items else ""
    cancel = f'<p><a id="cancel" href="{e(session.cancel_url)}">Cancel</a></p>' if session.cancel_url else ""
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test checkout</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.7rem 0}}input{{font-size:1rem;display:block}}
#error{{color:#b00020}}.test{{background:#fff3cd;padding:.4rem}}</style></head>
<body><p class="test">Test mode: no real payment is made.</p>
<h1 id="amount">{e(heading)}</h1>
{items}
{body}
{cancel}</body></html>"""
    return web.Response(text=text, content_type="text/html", status=status)


def _payment_form(session, error=None, status=200):
    e = html.escape
    email = "" if session.customer_email or session.customer else (
        '<label>Email <input type="email" name="email" id="email" autocomplete="email"></label>')
    error_html = f'<p id="error" role="alert">{e(error)}</p>' if error else ""
    if session.mode == "setup":
        button = "Save card"
    else:
        button = "Pay " + _format_amount(session.amount_total, session.currency)
    body = f"""{error_html}
<form method="post" action="/_test/checkout/{e(session.id)}/pay">
{email}
<label>Card number <input name="card_number" id="card_number" value="4242424242424242"
  inputmode="numeric" autocomplete="off"></label>
<label>Expiry month <input name="exp_month" id="exp_month" value="12" inputmode="numeric"></label>
<label>Expiry year <input name="exp_year" id="exp_year" value="{time.gmtime().tm_year + 5}"
  inputmode="numeric"></label>
<label>CVC <input name="cvc" id="cvc" value="123" inputmode="numeric"></label>
<button type="submit" id="pay">{e(button)}</button>
</form>"""
    return _page(session, body, status)


def _authentication_form(session):
    body = f"""<h2>Test 3D Secure authentication</h2>
<form method="post" action="/_test/checkout/{html.escape(session.id)}/authenticate">
<button type="submit" name="result" value="succeed" id="authenticate">Complete authentication</button>
<button type="submit" name="result" value="fail" id="fail-authentication">Fail authentication</button>
</form>"""
    return _page(session, body)


def _closed_page(session):
    if session.status == "complete":
        text = "Your card is saved." if session.mode == "setup" else "This payment is complete."
        return _page(session, f'<p id="status">{text}</p>', 200)
    return _page(session, '<p id="status">This checkout has expired.</p>', 410)


def _hosted_session(request):
    try:
        return CheckoutSession._api_retrieve(request.match_info["id"])
    except UserError:
        raise web.HTTPNotFound(text="No such checkout session") from None


async def hosted_page(request):
    session = _hosted_session(request)
    return _payment_form(session) if session.status == "open" else _closed_page(session)


async def hosted_pay(request):
    session = _hosted_session(request)
    if session.status == "complete":  # a double submit lands where the first one did
        return _success_redirect(session)
    if session.status != "open":  # expired: Stripe takes no payment on it
        return _closed_page(session)
    form = await request.post()
    card = {"number": "".join(form.get("card_number", "").split()), "exp_month": form.get("exp_month", ""),
            "exp_year": form.get("exp_year", ""), "cvc": form.get("cvc", "").strip()}
    try:
        if session.mode == "setup":
            intent = session._set_up(card, email=form.get("email"))
        else:
            intent = session._pay(card, email=form.get("email"))
    except UserError as e:
        return _payment_form(session, e.body["error"].get("message", "Payment failed."), status=e.code)
    if intent.status == "requires_action":
        return _authentication_form(session)
    return _success_redirect(session)


async def hosted_authenticate(request):
    """The test stand-in for the 3D Secure challenge of cards like 4000002500003155 on-session."""
    session = _hosted_session(request)
    if session.status != "open" or not (session.payment_intent or session.setup_intent):
        return await hosted_page(request)
    form = await request.post()
    success = form.get("result") == "succeed"
    if session.mode == "setup":
        return _authenticate_setup(session, success)
    pi = PaymentIntent._api_retrieve(session.payment_intent)
    if pi.status != "requires_action":
        return _payment_form(session)
    try:
        PaymentIntent._api_authenticate(pi.id, client_secret=pi.client_secret, success=success)
    except UserError as e:
        return _payment_form(session, e.body["error"].get("message", "Payment failed."), status=e.code)
    if not success:
        ls_webhooks.schedule_webhook(Event("payment_intent.payment_failed", pi))
        return _payment_form(session, "We are unable to authenticate your payment method. Please choose a "
                             "different payment method and try again.", status=402)
    session._complete_if_done(pi)
    return _success_redirect(session)


def _authenticate_setup(session, success):
    si = SetupIntent._api_retrieve(session.setup_intent)
    if si.status != "requires_action":
        return _payment_form(session)
    if not success:
        _setup_authentication_failed(si)
        return _payment_form(session, "We are unable to authenticate your payment method. Please choose a "
                             "different payment method and try again.", status=402)
    _setup_succeeded(si, PaymentMethod._api_retrieve(si.payment_method))
    session._complete_if_done(si)
    return _success_redirect(session)


async def retrieve_checkout_session(request):
    data = ls_server.unflatten_data(request.query)
    expand = data.pop("expand", None)
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    return ls_server.json_response(session._export(expand=expand))


async def create_checkout_session(request):
    data = await ls_server.get_post_data(request) or {}
    expand = data.pop("expand", None)
    session = CheckoutSession(base_url=f"{request.scheme}://{request.host}", **data)
    return ls_server.json_response(session._export(expand=expand))


def _change_card(payment_method_id, *, behaves_as=None, exp_month=None, exp_year=None):
    """What happens to a card out in the world, which no API request can do (see StripeTestServer)."""
    pm = PaymentMethod._api_retrieve(payment_method_id)
    if pm.type != "card":
        raise UserError(400, "Not a card")
    if behaves_as is not None:
        if len(behaves_as) != 16 or not behaves_as.isdigit():
            raise UserError(400, "behaves_as must be a 16-digit test card number")
        # Same card (last4, fingerprint, brand kept): only the issuer's answers change.
        pm._card_number = behaves_as
    if exp_month is not None or exp_year is not None:
        month = try_convert_to_int(exp_month or pm.card["exp_month"])
        year = try_convert_to_int(exp_year or pm.card["exp_year"])
        if type(month) is not int or not 1 <= month <= 12 or type(year) is not int or year < 2000:
            raise UserError(400, "exp_month must be 1-12 and exp_year four digits")
        pm.card = {**pm.card, "exp_month": month, "exp_year": year}


# --- Middleware ----------------------------------------------------------------------------------

@web.middleware
async def public_test_pages(request, handler):
    # The shopper's browser opens the hosted page without an API key: skip localstripe's auth check.
    if request.path.startswith("/_test/"):
        return await request.match_info.handler(request)
    return await handler(request)


def _idempotency_error(status, message):
    error = UserError(status, message)
    error.body["error"]["type"] = "idempotency_error"
    return error


def _idempotency_middleware(cache):
    """Stripe replays the first response for a repeated Idempotency-Key; localstripe acts again."""

    @web.middleware
    async def idempotency(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        fingerprint = (request.path, hashlib.sha256(await request.read()).hexdigest())
        entry = cache.get(key)
        if entry is _IN_FLIGHT:
            raise _idempotency_error(409, "There is currently another in-progress request using this "
                                     "Idempotent Key. Try again later.")
        if entry is not None:
            if entry[0] != fingerprint:
                raise _idempotency_error(400, "Keys for idempotent requests can only be used with the same "
                                         "parameters they were first used with.")
            _, status, body, content_type = entry
            return web.Response(status=status, body=body, content_type=content_type,
                                headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
        cache[key] = _IN_FLIGHT
        try:
            try:
                response = await handler(request)
            except UserError as e:
                response = e.to_response()
        except BaseException:
            cache.pop(key, None)
            raise
        # Like Stripe, keep successes and card declines; a request rejected as invalid may be retried.
        if isinstance(response, web.Response) and (response.status < 300 or response.status == 402):
            cache[key] = (fingerprint, response.status, response.body, response.content_type)
            while len(cache) > _IDEMPOTENCY_CACHE_SIZE:
                cache.pop(next(iter(cache)))
        else:
            cache.pop(key, None)
        return response

    return idempotency


def _build_app(idempotency_cache):
    """A fresh Application holding localstripe's routes and middlewares plus ours.

    localstripe's module-level app binds to the first event loop that runs it and cannot be started
    again, so a server that is stopped and restarted (or one per test module) needs its own app.
    """

    async def flush_store(request):
        store.clear()
        idempotency_cache.clear()
        return web.Response()

    async def change_card(request):
        form = await request.post()
        _change_card(request.match_info["id"], behaves_as=form.get("behaves_as") or None,
                     exp_month=form.get("exp_month") or None, exp_year=form.get("exp_year") or None)
        return web.Response()

    async def remove_webhooks(request):
        if "id" in request.match_info:
            ls_webhooks._webhooks.pop(request.match_info["id"], None)
        else:
            ls_webhooks._webhooks.clear()
        return web.Response()

    overrides = {
        ("POST", "/v1/payment_intents/{id}/confirm"): ls_server.api_extra(
            _pi_api_confirm, "/v1/payment_intents/{id}/confirm"),
        ("POST", "/v1/payment_methods/{id}/attach"): ls_server.api_extra(
            PaymentMethod._api_attach, "/v1/payment_methods/{id}/attach"),
        ("POST", "/v1/payment_methods/{id}/detach"): ls_server.api_extra(
            PaymentMethod._api_detach, "/v1/payment_methods/{id}/detach"),
        ("DELETE", "/_config/data"): flush_store,
    }
    app = web.Application(middlewares=[
        ls_server.error_middleware,
        public_test_pages,
        ls_server.auth_middleware,
        _idempotency_middleware(idempotency_cache),
        ls_server.save_store_middleware,
    ])
    app.on_response_prepare.append(ls_server.add_cors_headers)
    for route in ls_server.app.router.routes():
        path = route.resource.canonical
        app.router.add_route(route.method, path, overrides.get((route.method, path), route.handler))

    app.router.add_post("/_config/payment_methods/{id}", change_card)
    app.router.add_delete("/_config/webhooks", remove_webhooks)
    app.router.add_delete("/_config/webhooks/{id}", remove_webhooks)
    app.router.add_post("/v1/checkout/sessions", create_checkout_session)
    app.router.add_get("/v1/checkout/sessions/{id}", retrieve_checkout_session)
    app.router.add_post("/v1/checkout/sessions/{id}/expire",
                        ls_server.api_extra(CheckoutSession._api_expire, "/v1/checkout/sessions/{id}/expire"))
    app.router.add_get("/_test/checkout/{id}", hosted_page)
    app.router.add_post("/_test/checkout/{id}/pay", hosted_pay)
    app.router.add_post("/_test/checkout/{id}/authenticate", hosted_authenticate)
    return app


# --- The server ------------------------------------------------------------------------------------

class StripeTestServer:
    """localstripe plus our additions, served on 127.0.0.1 from a background thread."""

    def __init__(self, *, log_requests=False):
        self._log_requests = log_requests
        self._idempotency = {}
        self._loop = None
        self._thread = None
        self._runner = None
        self._port = None

    @property
    def base_url(self):
        if self._port is None:
            raise RuntimeError("StripeTestServer is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def port(self):
        return self._port

    def start(self, port=None):
        """Listen on 127.0.0.1:port (a free port when None) and return self."""
        if self._thread is not None:
            raise RuntimeError("StripeTestServer is already running")
        _patch_localstripe()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run_loop, args=(loop,), name="stripe-test-server", daemon=True)
        thread.start()
        try:
            self._port = asyncio.run_coroutine_threadsafe(self._serve(port or 0), loop).result(timeout=15)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        return self

    def stop(self):
        """Stop serving. Webhooks still waiting for delivery are dropped; stored objects remain."""
        if self._thread is None:
            return
        loop, thread = self._loop, self._thread
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            self._loop = self._thread = self._runner = self._port = None

    def reset(self):
        """Forget every object and idempotency key. Webhook registrations stay."""
        self._request("DELETE", "/_config/data")

    def register_webhook(self, url, secret, events=None):
        """Deliver events (all, or those in `events`) to `url`, signed with `secret`. Returns its id."""
        webhook_id = "wh_" + hashlib.sha256(url.encode()).hexdigest()[:16]  # same url: replaced, not doubled
        fields = [("url", url), ("secret", secret)] + [("events[]", e) for e in events or ()]
        self._request("POST", f"/_config/webhooks/{webhook_id}", urllib.parse.urlencode(fields).encode())
        return webhook_id

    def unregister_webhook(self, webhook_id):
        self._request("DELETE", f"/_config/webhooks/{webhook_id}")

    def clear_webhooks(self):
        """Drop every webhook registration (they are shared by every server in the process)."""
        self._request("DELETE", "/_config/webhooks")

    def change_card(self, payment_method_id, *, behaves_as=None, exp_month=None, exp_year=None):
        """Change what a saved card does when charged, as the world changes it after the card was saved.

        ``behaves_as``: the issuer now answers as that test card does, e.g. ``"4000000000009995"``
        (insufficient funds), ``"4000000000009987"`` (lost) or ``"4000002760003184"`` (asks for
        authentication every time). ``exp_month``/``exp_year``: the card's expiry, in the past too (it
        expired since it was saved: charges then fail with ``expired_card``). Last4, brand and fingerprint
        stay. Stripe will not attach a card that declines, so this is how a test gets a saved card that
        declines later.
        """
        fields = {"behaves_as": behaves_as, "exp_month": exp_month, "exp_year": exp_year}
        data = urllib.parse.urlencode({k: str(v) for k, v in fields.items() if v is not None}).encode()
        self._request("POST", f"/_config/payment_methods/{payment_method_id}", data)

    def hosted_page_url(self, session_id):
        return f"{self.base_url}/_test/checkout/{session_id}"

    def __enter__(self):
        return self.start() if self._thread is None else self

    def __exit__(self, *exc):
        self.stop()

    def _request(self, method, path, data=None):
        # Always our own http://127.0.0.1 URL.
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.read()

    @staticmethod
    def _run_loop(loop):
        asyncio.set_event_loop(loop)
        loop.run_forever()

    async def _serve(self, port):
        access_log = logging.getLogger("aiohttp.access") if self._log_requests else None
        runner = web.AppRunner(_build_app(self._idempotency), access_log=access_log)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        return runner.addresses[0][1]

    async def _shutdown(self):
        await self._runner.cleanup()
        # Pending webhook deliveries: cancel them so the loop closes without dangling tasks.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.shutdown_asyncgens()
        await loop.shutdown_default_executor()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m core.testing.stripe_server",
                                     description="Local Stripe test server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", help="deliver every event to this URL")
    parser.add_argument("--webhook-secret", help="signing secret for --webhook-url (whsec_...)")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = StripeTestServer(log_requests=True).start(args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if args.webhook_url:
            server.register_webhook(args.webhook_url, args.webhook_secret)
        print(f"Stripe test server listening on {server.base_url}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
