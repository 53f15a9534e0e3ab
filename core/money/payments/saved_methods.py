"""Saved cards: kept only with the customer's recorded consent; only the processor's reference is stored."""

from __future__ import annotations

from sqlalchemy import select

from core.activity import audit, record
from core.extensions import db
from core.models import Customer, SavedPaymentMethod
from core.money.autopay.enrolment import card_removed
from core.money.payments.processor import processor_named
from core.money.payments.types import CardDetails, Consent
from core.money.payments.wording import card_label
from core.tenancy import utcnow


def save_payment_method(customer, processor: str, ref: str, brand: str | None, last4: str | None,
                        exp_month: int | None, exp_year: int | None, consent: Consent, *,
                        surface: str = "system") -> SavedPaymentMethod:
    """Keep a card the processor holds for the customer, with the consent that allowed it.

    Call only with the customer's explicit consent. Saving a card we already have refreshes its details
    and consent (and brings back a card that was removed).
    """
    method = db.session.scalar(
        select(SavedPaymentMethod).where(SavedPaymentMethod.processor == processor,
                                         SavedPaymentMethod.processor_ref == ref)
    )
    if method is None:
        has_default = db.session.scalar(
            select(SavedPaymentMethod.id).where(SavedPaymentMethod.customer_id == customer.id,
                                                SavedPaymentMethod.is_default.is_(True),
                                                SavedPaymentMethod.detached_at.is_(None)).limit(1)
        )
        method = SavedPaymentMethod(customer_id=customer.id, processor=processor, processor_ref=ref,
                                    is_default=has_default is None)
        db.session.add(method)
    if (method.exp_month, method.exp_year) != (exp_month, exp_year):
        method.expiry_notified_at = None  # a new expiry date deserves its own notice
    method.brand, method.last4, method.exp_month, method.exp_year = brand, last4, exp_month, exp_year
    method.consent_at, method.consent_text = consent.at, consent.text
    method.consent_ip, method.consent_user_agent = consent.ip, (consent.user_agent or "")[:300] or None
    method.consent_staff_user_id = consent.staff_user_id
    method.detached_at = None
    db.session.flush()
    record(customer.id, surface=surface, kind="payment_method.saved",
           summary=f"{card_label(method)} saved for future payments", payment_method_id=method.id)
    audit("payment_method.saved", f"customer {customer.name}", actor="customer", card=card_label(method),
          consent_ip=consent.ip)
    return method


def record_card_saved(processor_name: str, customer_id: int | None, card: CardDetails, consent: Consent, *,
                      surface: str = "system") -> SavedPaymentMethod | None:
    """The processor kept a card for a customer outside a payment (a card setup) with recorded consent;
    ``surface`` is where the customer gave it (``"portal"``), for their timeline."""
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return None
    return save_payment_method(customer, processor_name, card.ref, card.brand, card.last4, card.exp_month,
                               card.exp_year, consent, surface=surface)


def detach_payment_method(method: SavedPaymentMethod) -> None:
    """Remove a saved card at its processor and here."""
    processor_named(method.processor).detach_saved_method(method)
    record_method_detached(method.processor, method.processor_ref)


def record_method_detached(processor_name: str, ref: str) -> SavedPaymentMethod | None:
    """The processor no longer keeps this card: it can't be charged any more. If autopay charged it, autopay
    moves to another card or goes off, and the customer is told
    (:func:`core.money.autopay.enrolment.card_removed`)."""
    method = db.session.scalar(
        select(SavedPaymentMethod).where(SavedPaymentMethod.processor == processor_name,
                                         SavedPaymentMethod.processor_ref == ref)
    )
    if method is None or method.detached_at is not None:
        return method
    method.detached_at = utcnow()
    method.is_default = False
    record(method.customer_id, surface="system", kind="payment_method.removed",
           summary=f"{card_label(method)} removed", payment_method_id=method.id)
    audit("payment_method.removed", f"card {card_label(method)}")
    card_removed(method)
    return method


def saved_methods_of(customer_id: int) -> list[SavedPaymentMethod]:
    """The customer's cards that can still be charged: the default first, then the newest."""
    return list(db.session.scalars(
        select(SavedPaymentMethod)
        .where(SavedPaymentMethod.customer_id == customer_id, SavedPaymentMethod.detached_at.is_(None))
        .order_by(SavedPaymentMethod.is_default.desc(), SavedPaymentMethod.created_at.desc(),
                  SavedPaymentMethod.id.desc())
    ))


def make_default(method: SavedPaymentMethod) -> None:
    """Use ``method`` first from now on; the customer's other cards stop being the default."""
    for other in saved_methods_of(method.customer_id):
        other.is_default = other.id == method.id
    record(method.customer_id, surface="portal", kind="payment_method.default",
           summary=f"{card_label(method)} is now the card used first", payment_method_id=method.id)
