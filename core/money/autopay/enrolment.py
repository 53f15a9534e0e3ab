"""Switching autopay on and off for a customer, with their recorded consent, and the card it charges.

Autopay goes on only with the customer's yes, recorded (:class:`~core.models.AutopayConsent`): ticked in the
portal, or said on the phone to a staff member, who notes what was said. And only after the customer paid
once through the processor themselves: a failed automatic charge is much harder to untangle than a failed
manual one. Functions work in the caller's transaction; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import select, update

from core.activity import audit, record
from core.extensions import db
from core.models import INVOICE_KINDS, AutopayConsent, Customer, SavedPaymentMethod
from core.money.autopay.rules import autopay_kinds, has_paid_through_processor, retry_declined_now
from core.money.payments import emails
from core.money.payments.wording import card_label
from core.tenancy import utcnow


class AutopayError(ValueError):
    """Autopay cannot be switched on as asked; the message says what to do, for staff or the customer."""


def consent_wording(business_name: str) -> str:
    """The words a customer agrees to when switching autopay on in the portal (recorded with the consent)."""
    kinds = ", ".join(INVOICE_KINDS[kind].lower() for kind in autopay_kinds()) or "selected"
    return (f"I allow {business_name} to charge my saved card automatically for my {kinds} invoices when "
            "they are issued. I can switch autopay off at any time.")


def why_not_allowed(customer: Customer) -> str | None:
    """Why autopay cannot go on for ``customer`` yet, in words that say what to do; None when it can."""
    if not has_paid_through_processor(customer.id):
        return (f"Autopay can be switched on once {customer.name} has paid an invoice online once "
                "themselves. Send them an invoice to pay from its link, or take a payment by phone, with "
                "\u201csave this card\u201d ticked; then switch autopay on.")
    if not live_cards(customer.id):
        return (f"{customer.name} has no saved card. A card is saved when they pay with \u201csave this "
                "card\u201d ticked, or add one in the portal.")
    return None


def live_cards(customer_id: int) -> list[SavedPaymentMethod]:
    """The customer's saved cards that can be charged, newest first."""
    return list(db.session.scalars(
        select(SavedPaymentMethod).where(SavedPaymentMethod.customer_id == customer_id,
                                         SavedPaymentMethod.detached_at.is_(None))
        .order_by(SavedPaymentMethod.created_at.desc(), SavedPaymentMethod.id.desc())
    ))


def current_consent(customer_id: int) -> AutopayConsent | None:
    """The customer's latest consent to autopay that was not withdrawn."""
    return db.session.scalar(
        select(AutopayConsent).where(AutopayConsent.customer_id == customer_id,
                                     AutopayConsent.withdrawn_at.is_(None))
        .order_by(AutopayConsent.given_at.desc(), AutopayConsent.id.desc()).limit(1)
    )


def switch_on(customer: Customer, method: SavedPaymentMethod, *, channel: str, wording: str,
              staff_user_id: int | None = None, ip: str | None = None,
              user_agent: str | None = None) -> AutopayConsent:
    """Switch autopay on for ``customer``, charging ``method``, with their consent given through ``channel``
    ("portal": ``wording`` is what they agreed to; "phone": what staff noted they said, to ``staff_user_id``).

    Raises :class:`AutopayError` with what to do when it cannot go on yet.
    """
    problem = why_not_allowed(customer)
    if problem:
        raise AutopayError(problem)
    wording = (wording or "").strip()
    if not wording:
        raise AutopayError("Note what the customer said when they agreed to autopay.")
    consent = AutopayConsent(customer_id=customer.id, channel=channel, wording=wording[:2000],
                             staff_user_id=staff_user_id, ip=ip, user_agent=(user_agent or "")[:300] or None,
                             given_at=utcnow())
    db.session.add(consent)
    customer.autopay_enabled = True
    _charge_to(customer, method)
    heard = "by phone" if channel == "phone" else "in the portal"
    record(customer.id, surface="portal" if channel == "portal" else "console", kind="autopay.on",
           summary=f"Autopay switched on ({card_label(method)}), consent given {heard}")
    audit("autopay.switched_on", f"customer {customer.name}",
          actor="customer" if channel == "portal" else None, card=card_label(method), consent=channel,
          wording=consent.wording)
    return consent


def choose_card(customer: Customer, method: SavedPaymentMethod) -> None:
    """Charge ``method`` from now on; declined autopay invoices are tried again at once with it."""
    _charge_to(customer, method)
    record(customer.id, surface="console", kind="autopay.card",
           summary=f"Autopay now charges {card_label(method)}")
    audit("autopay.card_chosen", f"customer {customer.name}", card=card_label(method))
    retry_declined_now(customer.id)


def switch_off(customer: Customer, *, by_customer: bool = False) -> None:
    """Switch autopay off and withdraw the consent; invoices not yet charged go to the customer to pay."""
    if not customer.autopay_enabled:
        return
    customer.autopay_enabled = False
    db.session.execute(
        update(AutopayConsent)
        .where(AutopayConsent.customer_id == customer.id, AutopayConsent.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow()).execution_options(synchronize_session=False))
    record(customer.id, surface="portal" if by_customer else "console", kind="autopay.off",
           summary="Autopay switched off")
    audit("autopay.switched_off", f"customer {customer.name}", actor="customer" if by_customer else None)


def card_removed(method: SavedPaymentMethod) -> None:
    """``method`` can no longer be charged (removed, or detached at the processor). If autopay charged it,
    autopay moves to the customer's newest other card, or goes off when there is none; either way the
    customer is told, with a link to update their card."""
    if not method.used_for_autopay:
        return
    method.used_for_autopay = False
    customer = db.session.get(Customer, method.customer_id)
    if not customer.autopay_enabled:
        return
    replacement = next((card for card in live_cards(customer.id) if card.id != method.id), None)
    if replacement is not None:
        replacement.used_for_autopay = True
        retry_declined_now(customer.id)
    else:
        customer.autopay_enabled = False
    summary = (f"Autopay moved to {card_label(replacement)}" if replacement
               else "Autopay is off: its card was removed")
    record(customer.id, surface="system", kind="autopay.card_removed", summary=summary)
    audit("autopay.card_removed", f"customer {customer.name}", card=card_label(method),
          now_charges=card_label(replacement) if replacement else None)
    emails.queue_autopay_card_removed(customer, removed=method, replacement=replacement)


def _charge_to(customer: Customer, method: SavedPaymentMethod) -> None:
    if method.customer_id != customer.id or method.detached_at is not None:
        raise AutopayError("That card is not one of this customer's saved cards.")
    db.session.execute(
        update(SavedPaymentMethod)
        .where(SavedPaymentMethod.customer_id == customer.id, SavedPaymentMethod.id != method.id)
        .values(used_for_autopay=False).execution_options(synchronize_session=False))
    method.used_for_autopay = True
