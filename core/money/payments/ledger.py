"""The ledger: what a processor reports about money (captured, failed, expired, refunded), applied once.

Processors report from a verified webhook or a server-side re-fetch, never from a browser redirect. Each
``record_*`` function is idempotent and safe when the same fact arrives twice at the same time (duplicate
webhooks, a webhook racing the return page): it locks the invoice row first, then the payment, and re-reads
both under the lock. Captured money is never lost: when it cannot be applied to its invoice (amount or
currency differ from what we asked for, the invoice is void or already paid) the payment is kept as
``unapplied``, the billing inbox is told, and money paid twice (for an invoice already paid or voided) is
refunded automatically unless the business holds it for staff. Money applied to an invoice changes what is
due, so every other checkout page of that invoice is closed (:mod:`.tasks`).

Every function works in the caller's transaction; hooks fire after the commit.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.activity import audit, record
from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment, Refund, SavedPaymentMethod
from core.money.amounts import format_money
from core.money.follow_up import stop_reminders
from core.money.payments import emails
from core.money.payments.saved_methods import save_payment_method
from core.money.payments.tasks import REFUND, close_checkouts, schedule
from core.money.payments.types import CAPTURED_STATUSES, CardDetails, Consent
from core.money.payments.wording import PROBLEMS, actor_of, card_label, surface_of
from core.money.reservations import apply_to_reservation
from core.observability.metrics import count_failed_charge
from core.plugins.events import after_commit, emit_after_commit
from core.tenancy import utcnow
from core.tenancy.state import current_business

log = logging.getLogger("suprata.payments")


def record_payment_captured(processor_name: str, processor_ref: str, *, amount: int, currency: str,
                            checkout_ref: str | None = None, payment_id: int | None = None,
                            saved_method: CardDetails | None = None,
                            card: CardDetails | None = None, live: bool | None = None) -> Payment | None:
    """The processor confirmed ``amount`` in ``currency`` for one of our payments; apply it exactly once.

    The payment is found by ``processor_ref`` (e.g. a PaymentIntent), ``checkout_ref`` or ``payment_id``
    (which the processor echoes back from the metadata we gave it). ``saved_method`` is the card the
    processor kept for later; it is stored only if the customer consented on this payment. ``card`` is the
    card it was paid with (brand and last four shown on the receipt), kept or not. ``live`` says whether it
    was real money (False: the processor's test mode), when the processor tells.

    Returns the payment, or None when it is not one of ours. A repeated report changes nothing. On the first
    report the invoice is marked paid (``on_payment_captured`` fires after commit, the receipt and maybe a
    portal invitation are queued), or, if the money cannot be applied, the payment is left ``unapplied``
    for staff to refund.
    """
    found = find_payment(processor_name, processor_ref, checkout_ref, payment_id)
    if found is None:
        log.warning("%s reported a capture for %s that matches no payment", processor_name, processor_ref)
        return None
    invoice = lock_row(Invoice, found.invoice_id)
    payment = lock_row(Payment, found.id)
    if payment.processor_ref and payment.processor_ref != processor_ref:
        payment = _second_capture_of(payment, processor_ref)
    if payment.status in CAPTURED_STATUSES:
        return payment
    now = utcnow()
    payment.processor_ref = processor_ref
    payment.checkout_ref = payment.checkout_ref or checkout_ref
    payment.captured_at = now
    paid_with = card or saved_method
    if paid_with is not None:
        payment.card_brand, payment.card_last4 = paid_with.brand, paid_with.last4
    payment.live = live
    problem = _why_not_applicable(payment, invoice, amount, currency)
    if problem:
        _set_aside(payment, invoice, problem, amount=amount, currency=currency)
        return payment

    payment.status = "succeeded"
    apply_payment(invoice, payment, now)
    kept = _keep_consented_card(payment, invoice, saved_method)
    money = format_money(amount, currency)
    record(invoice.customer_id, surface=surface_of(payment), kind="payment.captured",
           summary=f"Paid {money} for invoice {invoice.number}", invoice_id=invoice.id, payment_id=payment.id)
    audit("payment.captured", f"invoice {invoice.number}", actor=actor_of(payment), amount=amount,
          currency=currency, processor=processor_name, processor_ref=processor_ref)
    emails.queue_receipt(payment, invoice, card_saved=card_label(kept) if kept else None)
    if payment.source == "pay_link":
        emails.invite_to_portal(invoice)
    emit_after_commit("on_payment_captured", payment=payment, invoice=invoice)
    return payment


def apply_payment(invoice: Invoice, payment: Payment, when) -> None:
    """Count ``payment`` towards ``invoice`` (both locked by the caller): paid once nothing is left. What is
    due changed, so every other checkout page of the invoice is closed."""
    invoice.amount_paid += payment.amount
    apply_to_reservation(invoice, payment.amount)
    if invoice.balance == 0:
        invoice.status = "paid"
        invoice.paid_at = when
        if invoice.autopay_state is not None:
            invoice.autopay_state = "paid" if payment.source == "autopay" else None
        stop_reminders(invoice)
    close_checkouts(invoice, keep=payment)


def record_payment_failed(processor_name: str, processor_ref: str | None, *, code: str, message: str,
                          checkout_ref: str | None = None, payment_id: int | None = None,
                          retryable: bool = False) -> Payment | None:
    """The processor declined a charge for one of our payments.

    ``retryable`` means the customer is still on the processor's page and may try another card: the decline
    is noted on the payment and the timeline, and the payment stays pending. Otherwise the payment fails and
    ``on_payment_failed`` fires after commit. A failure reported after the payment succeeded (out-of-order
    events) changes nothing.
    """
    found = find_payment(processor_name, processor_ref, checkout_ref, payment_id)
    if found is None:
        return None
    invoice = lock_row(Invoice, found.invoice_id)
    payment = lock_row(Payment, found.id)
    if payment.status != "pending" or (processor_ref and payment.processor_ref not in (None, processor_ref)):
        return payment
    payment.processor_ref = processor_ref or payment.processor_ref
    payment.checkout_ref = payment.checkout_ref or checkout_ref
    reason = code or "declined"
    money = format_money(payment.amount, payment.currency)
    record(invoice.customer_id, surface=surface_of(payment), kind="payment.declined",
           summary=f"Payment of {money} for invoice {invoice.number} declined ({reason.replace('_', ' ')})",
           invoice_id=invoice.id, payment_id=payment.id)
    if retryable:
        payment.details = {**payment.details, "last_decline": {"code": reason, "message": message,
                                                               "at": utcnow().isoformat()}}
        return payment
    payment.status = "failed"
    payment.failure_code = reason[:64]
    payment.failure_message = message
    audit("payment.failed", f"invoice {invoice.number}", actor=actor_of(payment), code=reason,
          processor=processor_name)
    # Autopay sends its own, once it knows whether and when it tries again (core.money.autopay.runner).
    if payment.saved_method_id is not None and payment.source != "autopay":
        emails.queue_failure_notices(payment, invoice, reason)
    emit_after_commit("on_payment_failed", payment=payment, invoice=invoice, reason=reason)
    after_commit(lambda: count_failed_charge(processor_name))
    return payment


def record_checkout_expired(processor_name: str, checkout_ref: str) -> Payment | None:
    """The hosted page for a payment closed unpaid: the payment, open or being closed, is canceled."""
    found = find_payment(processor_name, None, checkout_ref, None)
    if found is None:
        return None
    lock_row(Invoice, found.invoice_id)
    payment = lock_row(Payment, found.id)
    if payment.status in ("pending", "expiring"):
        payment.status = "canceled"
    return payment


def record_refund(processor_name: str, processor_ref: str, *, refund_ref: str, amount: int,
                  refund_id: int | None = None) -> Refund | None:
    """The processor confirmed a refund of ``amount`` on the payment ``processor_ref``; applied once.

    A refund staff asked for (``refund_id``, or a pending one of the same amount) is completed; a refund
    made at the processor directly is added. Reporting the same ``refund_ref`` again changes nothing.
    """
    found = find_payment(processor_name, processor_ref, None, None)
    if found is None:
        return None
    invoice = lock_row(Invoice, found.invoice_id)
    payment = lock_row(Payment, found.id)
    existing = db.session.scalar(select(Refund).where(Refund.processor_ref == refund_ref))
    if existing is not None:
        return existing
    pending = [r for r in refunds_of(payment) if r.status == "pending" and r.processor_ref is None]
    refund = next((r for r in pending if r.id == refund_id), None) or next(
        (r for r in pending if r.amount == amount), None)
    if refund is None:
        refund = Refund(payment_id=payment.id, amount=amount, reason="Refunded at the processor")
        db.session.add(refund)
    refund.amount = amount
    refund.processor_ref = refund_ref
    refund.status = "succeeded"
    payment.amount_refunded += amount
    money = format_money(amount, payment.currency)
    record(payment.customer_id, surface="console", kind="payment.refunded",
           summary=f"Refunded {money} of the payment for invoice {invoice.number}", invoice_id=invoice.id,
           payment_id=payment.id)
    audit("payment.refunded", f"invoice {invoice.number}", actor=_actor_for_refund(refund), amount=amount,
          currency=payment.currency, processor_ref=refund_ref)
    if payment.status == "succeeded":
        # Money that was counted towards the invoice: the customer gets a receipt of the refund.
        invoice.amount_refunded += amount
        emails.queue_refund_receipt(refund, payment, invoice)
    return refund


def find_payment(processor_name: str, processor_ref: str | None, checkout_ref: str | None,
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


def refunds_of(payment: Payment) -> list[Refund]:
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
    if invoice.status == "paid" or amount > invoice.balance:
        return "invoice_already_paid"
    return None


# Money paid twice: the business may have it refunded automatically (its "duplicate_payments" policy).
PAID_TWICE = ("invoice_already_paid", "invoice_void")


def _set_aside(payment: Payment, invoice: Invoice, problem: str, *, amount: int, currency: str) -> None:
    """Money we received but cannot apply: kept visible to staff, the billing inbox told, and money paid twice
    refunded automatically unless the business holds it for staff. Never dropped, never kept silently."""
    refund = problem in PAID_TWICE and current_business().policy("duplicate_payments") == "refund"
    handling = "refunding" if refund else "held"
    payment.status = "unapplied"
    payment.details = {**payment.details, "problem": problem, "handling": handling,
                       "expected": {"amount": payment.amount, "currency": payment.currency}}
    # From here the payment says what was received: refunds are bounded by it.
    payment.amount, payment.currency = amount, currency.upper()
    money = format_money(amount, currency.upper())
    outcome = "it is being refunded" if handling == "refunding" else "it needs a refund"
    record(invoice.customer_id, surface="system", kind="payment.unapplied",
           summary=f"A payment of {money} {PROBLEMS[problem]} {invoice.number}; {outcome}",
           invoice_id=invoice.id, payment_id=payment.id)
    audit("payment.unapplied", f"invoice {invoice.number}", actor=actor_of(payment), problem=problem,
          handling=handling, amount=amount, currency=currency.upper(), processor_ref=payment.processor_ref)
    if refund:
        schedule(payment, REFUND)
    emails.queue_unapplied_notice(payment, invoice, handling=handling)
    log.warning("payment %s for invoice %s set aside (%s): %s", payment.id, invoice.number, handling, problem)


def _keep_consented_card(payment: Payment, invoice: Invoice, card: CardDetails | None
                         ) -> SavedPaymentMethod | None:
    consent = payment.details.get("consent")
    if card is None or consent is None:
        if card is not None:
            log.warning("%s kept a card without consent (payment %s)", payment.processor, payment.id)
        return None
    method = save_payment_method(invoice.customer, payment.processor, card.ref, card.brand, card.last4,
                                 card.exp_month, card.exp_year, Consent.from_dict(consent),
                                 surface=surface_of(payment))
    payment.saved_method_id = method.id
    return method


def _actor_for_refund(refund: Refund) -> str | None:
    return None if refund.staff_user_id else "payment processor"
