"""Stripe as a Suprata payment processor: Checkout Sessions, off-session charges, refunds, saved cards.

Every fact about money comes from an object fetched from Stripe's API by our server (never from a browser
redirect or a webhook body alone) and is handed to core's ``record_*`` functions, which apply it once.
Requests that create something carry an idempotency key derived from our own row's id, so repeating one (a
double click, a retried request) returns the first result instead of charging or refunding twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.plugin_api import (
    CardDetails,
    CheckoutRedirect,
    Consent,
    Customer,
    Payment,
    PaymentProcessor,
    ProcessorError,
    SavedPaymentMethod,
    current_business_id,
    db,
    record_card_saved,
    record_checkout_expired,
    record_payment_captured,
    record_payment_failed,
)
from plugins.payments_stripe.models import StripeCustomer
from plugins.payments_stripe.settings import client_for, current_config

NAME = "stripe"


class StripeProcessor(PaymentProcessor):
    name = NAME
    label = "Stripe"
    # The portal's "Payment methods" tab (plugins/payments_stripe/portal.py), where a saved card is replaced.
    update_card_endpoint = "payments_stripe_portal.methods"

    def __init__(self):
        self.config = current_config()

    @property
    def client(self) -> stripe.StripeClient:
        return client_for(self.config)

    def is_connected(self) -> bool:
        return self.config.secret_key is not None

    # -- taking payments ------------------------------------------------------------------------------------

    def create_checkout(self, payment: Payment, *, save_card: bool, success_url: str, cancel_url: str
                        ) -> CheckoutRedirect:
        invoice = payment.invoice
        metadata = payment_metadata(payment)
        intent_data = {"metadata": metadata, "description": f"Invoice {invoice.number}"}
        params = {
            "mode": "payment",
            "line_items": [{
                "quantity": 1,
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": payment.amount,
                    "product_data": {"name": f"Invoice {invoice.number}"},
                },
            }],
            "client_reference_id": f"payment-{payment.id}",
            "metadata": metadata,
            "payment_intent_data": intent_data,
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if save_card:
            # Only with the customer's consent does Stripe get a customer to keep the card on.
            params["customer"] = self._stripe_customer(invoice.customer)
            intent_data["setup_future_usage"] = "off_session"
        elif invoice.customer.primary_email:
            params["customer_email"] = invoice.customer.primary_email
        session = self._call(self.client.v1.checkout.sessions.create, params=params,
                             options={"idempotency_key": f"{_key_prefix()}-checkout-{payment.id}"})
        return CheckoutRedirect(url=session.url, checkout_ref=session.id,
                                expires_at=datetime.fromtimestamp(session.expires_at, UTC))

    def expire_checkout(self, payment: Payment) -> None:
        try:
            self.client.v1.checkout.sessions.expire(payment.checkout_ref)
        except stripe.InvalidRequestError as exc:
            # Stripe expires only open sessions: this one expired already, or was paid. Record which.
            session, intent = self.fetch_checkout_session(payment.checkout_ref)
            if session.status == "open":
                raise ProcessorError(_message(exc)) from exc
            self.record_checkout_session(session, intent)
        except stripe.StripeError as exc:
            raise ProcessorError(_message(exc)) from exc

    def charge_saved_method(self, payment: Payment, method: SavedPaymentMethod) -> None:
        card = self._call(self.client.v1.payment_methods.retrieve, method.processor_ref)
        if not card.customer:
            raise ProcessorError("Stripe no longer keeps this card; ask the customer for a new one.")
        params = {
            "amount": payment.amount,
            "currency": payment.currency.lower(),
            "customer": card.customer,
            "payment_method": method.processor_ref,
            "confirm": True,
            "off_session": True,
            "description": f"Invoice {payment.invoice.number}",
            "metadata": payment_metadata(payment),
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": payment.idempotency_key})
        except stripe.CardError as exc:
            error = exc.error.to_dict() if exc.error else {}
            record_payment_failed(NAME, (error.get("payment_intent") or {}).get("id"),
                                  code=error.get("decline_code") or exc.code,
                                  message=exc.user_message or str(exc), payment_id=payment.id)
            return
        except stripe.StripeError as exc:
            raise ProcessorError(_message(exc)) from exc
        self.record_intent(intent, payment_id=payment.id)

    def refresh_payment(self, payment: Payment) -> None:
        if payment.processor_ref:
            self.record_intent(self.fetch_intent(payment.processor_ref), payment_id=payment.id)
        elif payment.checkout_ref:
            session, intent = self.fetch_checkout_session(payment.checkout_ref)
            self.record_checkout_session(session, intent)

    def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        refund = self._call(self.client.v1.refunds.create,
                            params={"payment_intent": payment.processor_ref, "amount": amount,
                                    "metadata": payment_metadata(payment)},
                            options={"idempotency_key": idempotency_key})
        return refund.id

    def detach_saved_method(self, method: SavedPaymentMethod) -> None:
        self._call(self.client.v1.payment_methods.detach, method.processor_ref)

    # -- saving a card without a payment ---------------------------------------------------------------------

    def create_card_setup(self, customer: Customer, consent: Consent, *, success_url: str, cancel_url: str,
                          replaces: int | None = None) -> CheckoutRedirect:
        """Open Stripe's hosted page in setup mode: the customer enters a card, nothing is charged. The
        consent (and the saved card it replaces, if any) travel in the SetupIntent's metadata, so whoever
        records the result (the return page or the webhook) keeps the card only with that consent."""
        metadata = {
            "suprata_business_id": str(current_business_id()),
            "suprata_customer_id": str(customer.id),
            "suprata_consent_at": consent.at.isoformat(),
            "suprata_consent_text": consent.text,
            "suprata_consent_ip": consent.ip or "",
            "suprata_consent_user_agent": (consent.user_agent or "")[:300],
            "suprata_surface": "portal",
        }
        if replaces is not None:
            metadata["suprata_replaces"] = str(replaces)
        session = self._call(self.client.v1.checkout.sessions.create, params={
            "mode": "setup",
            "customer": self._stripe_customer(customer),
            "payment_method_types": ["card"],
            "setup_intent_data": {"metadata": metadata},
            "metadata": {"suprata_business_id": metadata["suprata_business_id"]},
            "success_url": success_url,
            "cancel_url": cancel_url,
        })
        return CheckoutRedirect(url=session.url, checkout_ref=session.id)

    def finish_card_setup(self, session_id: str) -> tuple[SavedPaymentMethod | None, int | None]:
        """Re-fetch a setup session (the browser's return proves nothing) and keep its card: (the saved
        card, or None while Stripe has none yet; the id of the card it replaces, if any)."""
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        if not belongs_here(session) or session.mode != "setup" or not session.setup_intent:
            return None, None
        setup_intent = self.fetch_setup_intent(session.setup_intent)
        replaces = _int(metadata_of(setup_intent).get("suprata_replaces"))
        return self.record_setup(setup_intent), replaces

    # -- reading Stripe's objects and recording what they say ------------------------------------------------

    def fetch_intent(self, intent_id: str):
        return self._call(self.client.v1.payment_intents.retrieve, intent_id,
                          params={"expand": ["payment_method"]})

    def fetch_checkout_session(self, session_id: str):
        """The session and its PaymentIntent (None before the customer submitted the hosted page)."""
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        intent = self.fetch_intent(session.payment_intent) if session.payment_intent else None
        return session, intent

    def fetch_refunds_of_charge(self, charge_id: str):
        """The PaymentIntent a charge belongs to, and every refund made on it."""
        charge = self._call(self.client.v1.charges.retrieve, charge_id)
        if not charge.payment_intent:
            return None, []
        refunds = self._call(self.client.v1.refunds.list, params={"payment_intent": charge.payment_intent})
        return charge.payment_intent, list(refunds.data)

    def fetch_payment_method(self, method_id: str):
        return self._call(self.client.v1.payment_methods.retrieve, method_id)

    def fetch_setup_intent(self, setup_intent_id: str):
        return self._call(self.client.v1.setup_intents.retrieve, setup_intent_id,
                          params={"expand": ["payment_method"]})

    def checkout_still_open(self, intent) -> bool:
        """True while the customer is on the hosted page of the intent's payment and may try another card."""
        payment_id = _int(metadata_of(intent).get("suprata_payment_id"))
        checkout_ref = db.session.scalar(
            select(Payment.checkout_ref).where(Payment.processor == NAME, Payment.id == payment_id)
        )
        if not checkout_ref:
            return False
        return self._call(self.client.v1.checkout.sessions.retrieve, checkout_ref).status == "open"

    def record_checkout_session(self, session, intent) -> None:
        if not belongs_here(session):
            return
        if session.status == "expired":
            record_checkout_expired(NAME, session.id)
        elif intent is not None:
            self.record_intent(intent, checkout_ref=session.id, retryable=session.status == "open")

    def record_intent(self, intent, *, payment_id: int | None = None, checkout_ref: str | None = None,
                      retryable: bool = False) -> None:
        """Hand a PaymentIntent's current state to core: captured, declined, or nothing yet."""
        if not belongs_here(intent):
            return
        payment_id = payment_id or _int(metadata_of(intent).get("suprata_payment_id"))
        if intent.status == "succeeded":
            record_payment_captured(NAME, intent.id, amount=intent.amount, currency=intent.currency,
                                    checkout_ref=checkout_ref, payment_id=payment_id,
                                    saved_method=_kept_card(intent), card=_card_paid_with(intent),
                                    live=getattr(intent, "livemode", None))
        elif intent.status in ("requires_payment_method", "canceled") and intent.last_payment_error:
            error = intent.last_payment_error.to_dict()
            record_payment_failed(NAME, intent.id, code=error.get("decline_code") or error.get("code"),
                                  message=error.get("message") or "The card was declined.",
                                  checkout_ref=checkout_ref, payment_id=payment_id, retryable=retryable)

    def record_setup(self, setup_intent) -> SavedPaymentMethod | None:
        """Keep a card saved without a payment (a SetupIntent), if it carries the customer's consent.

        Card setups started for Suprata carry in their metadata the business, the customer and the consent
        (``suprata_consent_at``, ``suprata_consent_text``, ``suprata_consent_ip``,
        ``suprata_consent_user_agent``); anything else is not ours to keep.
        """
        metadata = metadata_of(setup_intent)
        card = setup_intent.payment_method
        if (setup_intent.status != "succeeded" or not belongs_here(setup_intent) or card is None
                or isinstance(card, str) or not card.customer or not metadata.get("suprata_consent_at")):
            return None
        consent = Consent(at=datetime.fromisoformat(metadata["suprata_consent_at"]),
                          text=metadata.get("suprata_consent_text", ""),
                          ip=metadata.get("suprata_consent_ip") or None,
                          user_agent=metadata.get("suprata_consent_user_agent") or None)
        customer_id = _int(metadata.get("suprata_customer_id"))
        return record_card_saved(NAME, customer_id, _card_details(card), consent,
                                 surface=metadata.get("suprata_surface") or "system")

    # -- internals ------------------------------------------------------------------------------------------

    def _stripe_customer(self, customer: Customer) -> str:
        """The Stripe customer for ``customer`` in the current mode, created once."""
        livemode = self.config.livemode
        query = select(StripeCustomer.stripe_customer_id).where(StripeCustomer.customer_id == customer.id,
                                                                StripeCustomer.livemode.is_(livemode))
        existing = db.session.scalar(query)
        if existing:
            return existing
        created = self._call(
            self.client.v1.customers.create,
            params={"name": customer.name, "email": customer.primary_email or "",
                    "metadata": {"suprata_business_id": str(current_business_id()),
                                 "suprata_customer_id": str(customer.id)}},
            # Two checkouts started at once create one Stripe customer, not two.
            options={"idempotency_key": f"{_key_prefix()}-customer-{customer.id}-{self.config.mode}"},
        )
        try:
            with db.session.begin_nested():
                db.session.add(StripeCustomer(customer_id=customer.id, livemode=livemode,
                                              stripe_customer_id=created.id))
        except IntegrityError:
            return db.session.scalar(query)
        return created.id

    @staticmethod
    def _call(method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except stripe.StripeError as exc:
            raise ProcessorError(_message(exc)) from exc


def payment_metadata(payment: Payment) -> dict:
    """What we tell Stripe about a payment, so its objects and events lead back to ours."""
    return {
        "suprata_business_id": str(payment.business_id),
        "suprata_invoice_id": str(payment.invoice_id),
        "suprata_payment_id": str(payment.id),
    }


def metadata_of(stripe_object) -> dict:
    return stripe_object.metadata.to_dict() if stripe_object.metadata else {}


def belongs_here(stripe_object) -> bool:
    """True for Stripe objects we created for the current business (an account may serve other systems)."""
    return metadata_of(stripe_object).get("suprata_business_id") == str(current_business_id())


def _kept_card(intent) -> CardDetails | None:
    """The card Stripe kept on a customer for later use through this payment, if any."""
    card = intent.payment_method
    if not intent.setup_future_usage or card is None or isinstance(card, str) or not card.customer:
        return None
    return _card_details(card)


def _card_paid_with(intent) -> CardDetails | None:
    """The card the intent was paid with (brand and last four for the receipt), when Stripe says."""
    card = intent.payment_method
    if card is None or isinstance(card, str) or getattr(card, "card", None) is None:
        return None
    return _card_details(card)


def _card_details(card) -> CardDetails:
    details = card.card
    return CardDetails(ref=card.id, brand=details.brand, last4=details.last4, exp_month=details.exp_month,
                       exp_year=details.exp_year)


def _message(exc: stripe.StripeError) -> str:
    return exc.user_message or str(exc) or type(exc).__name__


def _key_prefix() -> str:
    return f"suprata-{current_business_id()}"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
