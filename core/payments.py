"""Money state: the one module that starts, captures, fails and refunds payments and keeps saved cards.

Views and payment processors never change an invoice's or a payment's money columns themselves: processors
report what their processor says (a verified webhook, or a server-side re-fetch) through the ``record_*``
functions here. Those functions are idempotent and safe when the same fact arrives twice at the same time
(duplicate webhooks, a webhook racing the return page): they lock the invoice row first, then the payment,
and re-read both under the lock (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a first write takes the
database's single write lock). Captured money is never lost: when it cannot be applied to its invoice (amount
or currency differ from what we asked for, the invoice is void or already paid) the payment is kept as
``unapplied`` and flagged for a refund by staff.

All functions work in the caller's transaction unless their docstring says they commit; hooks fire after
the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from core import payment_emails
from core.activity import audit, record
from core.events import emit_after_commit
from core.extensions import db
from core.jinja_helpers import format_money
from core.models import Customer, Invoice, Payment, Refund, SavedPaymentMethod
from core.tenancy import utcnow

log = logging.getLogger("suprata.payments")

# Payments that moved money to us; only these can be refunded.
CAPTURED_STATUSES = ("succeeded", "unapplied")


class PaymentError(ValueError):
    """A payment action is not possible; the message is shown to the customer or staff member."""


class ProcessorError(RuntimeError):
    """The payment processor refused or could not be reached; the message is shown to staff."""


@dataclass(frozen=True)
class Consent:
    """A customer's explicit yes to keeping their card: when, the exact wording shown, from where."""

    at: datetime
    text: str
    ip: str | None
    user_agent: str | None

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "text": self.text, "ip": self.ip, "user_agent": self.user_agent}

    @classmethod
    def from_dict(cls, data: dict) -> Consent:
        return cls(at=datetime.fromisoformat(data["at"]), text=data["text"], ip=data.get("ip"),
                   user_agent=data.get("user_agent"))


@dataclass(frozen=True)
class CardDetails:
    """What a processor tells us about a card it kept: its reference and what staff may see."""

    ref: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


def save_card_wording(business_name: str) -> str:
    """The exact consent wording shown next to the "save this card" box (and recorded with the consent)."""
    return (f"Save this card for future payments. I allow {business_name} to charge this card for my "
            "future invoices. I can remove the card at any time.")


# -- processors ----------------------------------------------------------------------------------------------


def processors() -> list:
    """The payment processors of the current business's enabled plugins."""
    return current_app.extensions["suprata"].plugins.call("payment_processors")


def connected_processor():
    """The first enabled processor that is set up to take payments, or None."""
    return next((p for p in processors() if p.is_connected()), None)


def processor_named(name: str):
    """The enabled processor called ``name``; PaymentError when its plugin is off or not set up."""
    for processor in processors():
        if processor.name == name and processor.is_connected():
            return processor
    raise PaymentError("The payment processor for this payment is not connected.")


# -- starting payments ---------------------------------------------------------------------------------------


def check_payable(invoice: Invoice) -> None:
    """Raise PaymentError, with a message for the customer, unless the invoice can take a payment now."""
    if invoice.status == "void":
        raise PaymentError("This invoice was cancelled and can't be paid.")
    if invoice.status == "paid":
        raise PaymentError("This invoice is already paid.")
    if invoice.status != "open":
        raise PaymentError("This invoice hasn't been issued yet.")
    if invoice.amount_due <= 0:
        raise PaymentError("There is nothing left to pay on this invoice.")


def start_payment(invoice: Invoice, processor, *, source: str, save_card: Consent | None) -> Payment:
    """A pending payment of the invoice's amount due, computed here on the server.

    ``save_card`` is the customer's consent to keep the card, or None when the box was not ticked; it is
    stored on the payment so the card is kept only if this payment succeeds.
    """
    invoice = _locked(Invoice, invoice.id)
    return _new_payment(invoice, processor.name, source=source,
                        details={"consent": save_card.as_dict()} if save_card else {})


def _new_payment(invoice: Invoice, processor_name: str, *, source: str, **columns) -> Payment:
    """A pending payment of the amount due on ``invoice`` (locked by the caller), flushed to get its id."""
    check_payable(invoice)
    payment = Payment(invoice_id=invoice.id, customer_id=invoice.customer_id, processor=processor_name,
                      amount=invoice.amount_due, currency=invoice.currency, source=source, **columns)
    db.session.add(payment)
    db.session.flush()
    return payment


def record_checkout_started(payment: Payment, checkout_ref: str) -> None:
    """Remember the processor's id for the hosted page opened for ``payment``."""
    payment.checkout_ref = checkout_ref


def cancel_payment(payment: Payment) -> None:
    """Give up a payment that is still pending (its hosted page closed or never opened)."""
    payment = _locked(Payment, payment.id)
    if payment.status == "pending":
        payment.status = "canceled"


def charge_saved_method(invoice: Invoice, method: SavedPaymentMethod, *, source: str = "staff") -> Payment:
    """Charge a saved card off-session for the invoice's amount due; commits.

    The invoice row is locked while the payment is created, so a double click cannot create two payments:
    the second request finds the first one pending and charges that one again with the same idempotency key,
    which the processor answers with the first result instead of charging twice.
    """
    invoice = _locked(Invoice, invoice.id)
    method = db.session.get(SavedPaymentMethod, method.id)
    if method is None or method.detached_at is not None or method.customer_id != invoice.customer_id:
        raise PaymentError("That saved card is not available for this customer.")
    payment = db.session.scalar(
        select(Payment).where(
            Payment.invoice_id == invoice.id,
            Payment.status == "pending",
            Payment.saved_method_id.is_not(None),
        )
    )
    if payment is None:
        processor = processor_named(method.processor)
        payment = _new_payment(invoice, method.processor, source=source, saved_method_id=method.id)
        payment.idempotency_key = f"suprata-{payment.business_id}-payment-{payment.id}"
        audit("payment.charge_saved_method", f"invoice {invoice.number}",
              amount=payment.amount, currency=payment.currency, card=_card_label(method))
    else:
        processor = processor_named(payment.processor)
        method = db.session.get(SavedPaymentMethod, payment.saved_method_id)
    db.session.commit()
    try:
        processor.charge_saved_method(payment, method)
    except ProcessorError as exc:
        db.session.rollback()
        raise PaymentError(f"The charge did not go through: {exc}") from exc
    db.session.commit()
    return db.session.get(Payment, payment.id)


# -- what the processor reports ------------------------------------------------------------------------------


def record_payment_captured(processor_name: str, processor_ref: str, *, amount: int, currency: str,
                            checkout_ref: str | None = None, payment_id: int | None = None,
                            saved_method: CardDetails | None = None) -> Payment | None:
    """The processor confirmed ``amount`` in ``currency`` for one of our payments; apply it exactly once.

    The payment is found by ``processor_ref`` (e.g. a PaymentIntent), ``checkout_ref`` or ``payment_id``
    (which the processor echoes back from the metadata we gave it). ``saved_method`` is the card the
    processor kept for later; it is stored only if the customer consented on this payment.

    Returns the payment, or None when it is not one of ours. A repeated report changes nothing. On the first
    report the invoice is marked paid (``on_payment_captured`` fires after commit, the receipt and maybe a
    portal invitation are queued), or, if the money cannot be applied, the payment is left ``unapplied``
    for staff to refund.
    """
    found = _find_payment(processor_name, processor_ref, checkout_ref, payment_id)
    if found is None:
        log.warning("%s reported a capture for %s that matches no payment", processor_name, processor_ref)
        return None
    invoice = _locked(Invoice, found.invoice_id)
    payment = _locked(Payment, found.id)
    if payment.processor_ref and payment.processor_ref != processor_ref:
        payment = _second_capture_of(payment, processor_ref)
    if payment.status in CAPTURED_STATUSES:
        return payment
    now = utcnow()
    payment.processor_ref = processor_ref
    payment.checkout_ref = payment.checkout_ref or checkout_ref
    payment.captured_at = now
    problem = _why_not_applicable(payment, invoice, amount, currency)
    if problem:
        _set_aside(payment, invoice, problem, amount=amount, currency=currency)
        return payment

    payment.status = "succeeded"
    invoice.amount_paid += amount
    if invoice.amount_due == 0:
        invoice.status = "paid"
        invoice.paid_at = now
    kept = _keep_consented_card(payment, invoice, saved_method)
    money = format_money(amount, currency)
    record(invoice.customer_id, surface=_surface(payment), kind="payment.captured",
           summary=f"Paid {money} for invoice {invoice.number}", invoice_id=invoice.id, payment_id=payment.id)
    audit("payment.captured", f"invoice {invoice.number}", actor=_actor(payment), amount=amount,
          currency=currency, processor=processor_name, processor_ref=processor_ref)
    payment_emails.queue_receipt(payment, invoice, card_saved=_card_label(kept) if kept else None)
    if payment.source == "pay_link":
        payment_emails.invite_to_portal(invoice)
    emit_after_commit("on_payment_captured", payment=payment, invoice=invoice)
    return payment


def record_payment_failed(processor_name: str, processor_ref: str | None, *, code: str, message: str,
                          checkout_ref: str | None = None, payment_id: int | None = None,
                          retryable: bool = False) -> Payment | None:
    """The processor declined a charge for one of our payments.

    ``retryable`` means the customer is still on the processor's page and may try another card: the decline
    is noted on the payment and the timeline, and the payment stays pending. Otherwise the payment fails and
    ``on_payment_failed`` fires after commit. A failure reported after the payment succeeded (out-of-order
    events) changes nothing.
    """
    found = _find_payment(processor_name, processor_ref, checkout_ref, payment_id)
    if found is None:
        return None
    invoice = _locked(Invoice, found.invoice_id)
    payment = _locked(Payment, found.id)
    if payment.status != "pending" or (processor_ref and payment.processor_ref not in (None, processor_ref)):
        return payment
    payment.processor_ref = processor_ref or payment.processor_ref
    payment.checkout_ref = payment.checkout_ref or checkout_ref
    reason = code or "declined"
    money = format_money(payment.amount, payment.currency)
    record(invoice.customer_id, surface=_surface(payment), kind="payment.declined",
           summary=f"Payment of {money} for invoice {invoice.number} declined ({reason.replace('_', ' ')})",
           invoice_id=invoice.id, payment_id=payment.id)
    if retryable:
        payment.details = {**payment.details, "last_decline": {"code": reason, "message": message,
                                                               "at": utcnow().isoformat()}}
        return payment
    payment.status = "failed"
    payment.failure_code = reason[:64]
    payment.failure_message = message
    audit("payment.failed", f"invoice {invoice.number}", actor=_actor(payment), code=reason,
          processor=processor_name)
    if payment.saved_method_id is not None:
        payment_emails.queue_failure_notices(payment, invoice, reason)
    emit_after_commit("on_payment_failed", payment=payment, invoice=invoice, reason=reason)
    return payment


def record_checkout_expired(processor_name: str, checkout_ref: str) -> Payment | None:
    """The hosted page for a payment closed unpaid: the pending payment is canceled."""
    payment = _find_payment(processor_name, None, checkout_ref, None)
    if payment is not None:
        cancel_payment(payment)
    return payment


def record_refund(processor_name: str, processor_ref: str, *, refund_ref: str, amount: int,
                  refund_id: int | None = None) -> Refund | None:
    """The processor confirmed a refund of ``amount`` on the payment ``processor_ref``; applied once.

    A refund staff asked for (``refund_id``, or a pending one of the same amount) is completed; a refund
    made at the processor directly is added. Reporting the same ``refund_ref`` again changes nothing.
    """
    found = _find_payment(processor_name, processor_ref, None, None)
    if found is None:
        return None
    payment = _locked(Payment, found.id)
    existing = db.session.scalar(select(Refund).where(Refund.processor_ref == refund_ref))
    if existing is not None:
        return existing
    pending = [r for r in _refunds_of(payment) if r.status == "pending" and r.processor_ref is None]
    refund = next((r for r in pending if r.id == refund_id), None) or next(
        (r for r in pending if r.amount == amount), None)
    if refund is None:
        refund = Refund(payment_id=payment.id, amount=amount, reason="Refunded at the processor")
        db.session.add(refund)
    refund.amount = amount
    refund.processor_ref = refund_ref
    refund.status = "succeeded"
    payment.amount_refunded += amount
    invoice = db.session.get(Invoice, payment.invoice_id)
    money = format_money(amount, payment.currency)
    record(payment.customer_id, surface="console", kind="payment.refunded",
           summary=f"Refunded {money} of the payment for invoice {invoice.number}", invoice_id=invoice.id,
           payment_id=payment.id)
    audit("payment.refunded", f"invoice {invoice.number}", actor=_actor_for_refund(refund), amount=amount,
          currency=payment.currency, processor_ref=refund_ref)
    return refund


def refund_payment(payment: Payment, amount: int, *, reason: str = "", staff_user_id: int | None = None
                   ) -> Refund:
    """Refund ``amount`` (minor units) of a captured payment through its processor; commits.

    The refund is written (pending) and committed before the processor is asked, under a lock on the
    payment, so two clicks can never refund more than was paid; the processor call carries an idempotency
    key derived from the refund's id.
    """
    payment = _locked(Payment, payment.id)
    if payment.status not in CAPTURED_STATUSES:
        raise PaymentError("Only a completed payment can be refunded.")
    in_flight = sum(r.amount for r in _refunds_of(payment) if r.status == "pending")
    refundable = payment.amount - payment.amount_refunded - in_flight
    if amount <= 0 or amount > refundable:
        raise PaymentError(f"You can refund at most {format_money(max(refundable, 0), payment.currency)}.")
    processor = processor_named(payment.processor)
    refund = Refund(payment_id=payment.id, amount=amount, reason=reason or None, staff_user_id=staff_user_id)
    db.session.add(refund)
    db.session.flush()
    invoice = db.session.get(Invoice, payment.invoice_id)
    audit("payment.refund_requested", f"invoice {invoice.number}", amount=amount, currency=payment.currency,
          reason=reason)
    db.session.commit()
    try:
        refund_ref = processor.refund(payment, amount, f"suprata-{payment.business_id}-refund-{refund.id}")
    except ProcessorError as exc:
        refund = db.session.get(Refund, refund.id)
        refund.status = "failed"
        audit("payment.refund_failed", f"invoice {invoice.number}", amount=amount, error=str(exc))
        db.session.commit()
        raise PaymentError(f"The refund did not go through: {exc}") from exc
    refund = record_refund(payment.processor, payment.processor_ref, refund_ref=refund_ref, amount=amount,
                           refund_id=refund.id)
    db.session.commit()
    return refund


# -- saved cards --------------------------------------------------------------------------------------------


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
    method.brand, method.last4, method.exp_month, method.exp_year = brand, last4, exp_month, exp_year
    method.consent_at, method.consent_text = consent.at, consent.text
    method.consent_ip, method.consent_user_agent = consent.ip, (consent.user_agent or "")[:300] or None
    method.detached_at = None
    db.session.flush()
    record(customer.id, surface=surface, kind="payment_method.saved",
           summary=f"{_card_label(method)} saved for future payments", payment_method_id=method.id)
    audit("payment_method.saved", f"customer {customer.name}", actor="customer", card=_card_label(method),
          consent_ip=consent.ip)
    return method


def record_card_saved(processor_name: str, customer_id: int | None, card: CardDetails, consent: Consent
                      ) -> SavedPaymentMethod | None:
    """The processor kept a card for a customer outside a payment (a card setup) with recorded consent."""
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None:
        return None
    return save_payment_method(customer, processor_name, card.ref, card.brand, card.last4, card.exp_month,
                               card.exp_year, consent)


def detach_payment_method(method: SavedPaymentMethod) -> None:
    """Remove a saved card at its processor and here."""
    processor_named(method.processor).detach_saved_method(method)
    record_method_detached(method.processor, method.processor_ref)


def record_method_detached(processor_name: str, ref: str) -> SavedPaymentMethod | None:
    """The processor no longer keeps this card: it can't be charged any more."""
    method = db.session.scalar(
        select(SavedPaymentMethod).where(SavedPaymentMethod.processor == processor_name,
                                         SavedPaymentMethod.processor_ref == ref)
    )
    if method is None or method.detached_at is not None:
        return method
    method.detached_at = utcnow()
    method.is_default = False
    record(method.customer_id, surface="system", kind="payment_method.removed",
           summary=f"{_card_label(method)} removed", payment_method_id=method.id)
    audit("payment_method.removed", f"card {_card_label(method)}")
    return method


# -- internals ----------------------------------------------------------------------------------------------


def _locked(model, row_id: int):
    """``model`` row ``row_id``, locked until the transaction ends and read fresh under the lock."""
    stmt = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a write takes its one write lock, so what we read next is current.
        db.session.execute(update(model).where(model.id == row_id).values(id=model.id)
                           .execution_options(synchronize_session=False))
    else:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def _find_payment(processor_name: str, processor_ref: str | None, checkout_ref: str | None,
                  payment_id: int | None) -> Payment | None:
    candidates = []
    if processor_ref:
        candidates.append(Payment.processor_ref == processor_ref)
    if checkout_ref:
        candidates.append(Payment.checkout_ref == checkout_ref)
    if payment_id:
        candidates.append(Payment.id == payment_id)
    for condition in candidates:
        payment = db.session.scalar(select(Payment).where(Payment.processor == processor_name, condition))
        if payment is not None:
            return payment
    return None


def _refunds_of(payment: Payment) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)))


def _second_capture_of(payment: Payment, processor_ref: str) -> Payment:
    """A second, different charge was made for the same payment: keep it as a payment of its own."""
    second = db.session.scalar(
        select(Payment).where(Payment.processor == payment.processor, Payment.processor_ref == processor_ref)
    )
    if second is None:
        second = Payment(invoice_id=payment.invoice_id, customer_id=payment.customer_id,
                         processor=payment.processor, processor_ref=processor_ref, amount=payment.amount,
                         currency=payment.currency, source=payment.source,
                         details={"duplicate_of": payment.id})
        db.session.add(second)
        db.session.flush()
    return second


def _why_not_applicable(payment: Payment, invoice: Invoice, amount: int, currency: str) -> str | None:
    if currency.upper() != payment.currency.upper():
        return "currency_mismatch"
    if amount != payment.amount:
        return "amount_mismatch"
    if invoice.status == "void":
        return "invoice_void"
    if invoice.status == "paid" or amount > invoice.amount_due:
        return "invoice_already_paid"
    return None


PROBLEMS = {
    "currency_mismatch": "was in a different currency than the invoice",
    "amount_mismatch": "was not the amount we asked for",
    "invoice_void": "arrived for a cancelled invoice",
    "invoice_already_paid": "arrived for an invoice that was already paid",
}


def _set_aside(payment: Payment, invoice: Invoice, problem: str, *, amount: int, currency: str) -> None:
    """Money we received but cannot apply: keep it visible to staff for a refund, never drop it."""
    payment.status = "unapplied"
    payment.details = {**payment.details, "problem": problem,
                       "expected": {"amount": payment.amount, "currency": payment.currency}}
    # From here the payment says what was received: refunds are bounded by it.
    payment.amount, payment.currency = amount, currency.upper()
    money = format_money(amount, currency.upper())
    record(invoice.customer_id, surface="system", kind="payment.unapplied",
           summary=f"A payment of {money} {PROBLEMS[problem]} {invoice.number}; it needs a refund",
           invoice_id=invoice.id, payment_id=payment.id)
    audit("payment.unapplied", f"invoice {invoice.number}", actor=_actor(payment), problem=problem,
          amount=amount, currency=currency.upper(), processor_ref=payment.processor_ref)
    log.warning("payment %s for invoice %s set aside: %s", payment.id, invoice.number, problem)


def _keep_consented_card(payment: Payment, invoice: Invoice, card: CardDetails | None
                         ) -> SavedPaymentMethod | None:
    consent = payment.details.get("consent")
    if card is None or consent is None:
        if card is not None:
            log.warning("%s kept a card without consent (payment %s)", payment.processor, payment.id)
        return None
    method = save_payment_method(invoice.customer, payment.processor, card.ref, card.brand, card.last4,
                                 card.exp_month, card.exp_year, Consent.from_dict(consent),
                                 surface=_surface(payment))
    payment.saved_method_id = method.id
    return method


def _card_label(method: SavedPaymentMethod) -> str:
    return f"{(method.brand or 'Card').title()} ending {method.last4 or '????'}"


def _surface(payment: Payment) -> str:
    return {"pay_link": "pay_link", "portal": "portal"}.get(payment.source, "console")


def _actor(payment: Payment) -> str | None:
    # None lets the audit trail name the staff member of the current request (or "system").
    return {"pay_link": "customer via pay link", "portal": "customer via portal", "autopay": "autopay"}.get(
        payment.source)


def _actor_for_refund(refund: Refund) -> str | None:
    return None if refund.staff_user_id else "payment processor"
