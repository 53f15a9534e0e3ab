"""The one checkout every surface opens: the pay link, the portal's "pay this invoice", staff by phone.

An invoice has at most one checkout page that can take its money. Pay Now gives back the page already open
for the same amount, the same return page and the same answer to "save my card" (a double click, a second
tab); anything else open for the invoice is closed at the processor first, and only then is a new page
opened. The decision is taken under the invoice's row lock; the processor is called outside it, so no lock
is held while it answers. Two requests at once get the same page: the second waits, briefly, for the page the
first is opening.

A new page starts as a pending payment of the amount due, committed before the processor is asked; if the
processor refuses, the payment is canceled, so a half-opened checkout never waits as pending.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from core.database import lock_row
from core.extensions import db
from core.models import Invoice, Payment
from core.money.payments.commands import cancel_payment, check_payable, record_checkout_started, start_payment
from core.money.payments.health import record_processor_status
from core.money.payments.processor import PaymentProcessor, connected_processor, processor_named
from core.money.payments.task_runner import OPENING_ABANDONED, close_checkout_now
from core.money.payments.tasks import close_checkouts, live_checkouts
from core.money.payments.types import Consent, PaymentError, ProcessorError
from core.tenancy import utcnow

log = logging.getLogger("suprata.payments")

NOT_AVAILABLE = "Online payment isn't available right now. Please contact us to pay."
COULD_NOT_OPEN = "We couldn't open the payment page. Please try again in a moment."

# How long a second Pay Now waits for the page another request is opening, and how often it looks.
OPENING_WAIT_SECONDS = 20
OPENING_POLL_SECONDS = 0.1
# A page that stops taking payments sooner than this is replaced rather than given out again.
REUSE_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class OpenedCheckout:
    """Where to send the customer (the processor's hosted page), and the payment it will complete."""

    url: str
    payment_id: int


@dataclass(frozen=True)
class _Wanted:
    """What makes an open page the right one to give out again."""

    processor: str
    source: str
    save_card: bool
    returns_to: str


BEING_CHARGED = ("This invoice is being paid automatically with your saved card: there is nothing to pay "
                 "here, and the receipt follows by email.")


def open_checkout(invoice: Invoice, *, source: str, consent: Consent | None, success_url,
                  cancel_url: str) -> OpenedCheckout:
    """The checkout page for paying ``invoice`` on the business's connected processor; commits.

    ``success_url(payment_id)`` gives the page the processor returns to. Raises :class:`PaymentError` with a
    message for the customer when no page can be given (no processor, nothing to pay, the processor refused
    or could not close the page it replaces).
    """
    processor = connected_processor()
    if processor is None:
        raise PaymentError(NOT_AVAILABLE)
    wanted = _Wanted(processor.name, source, consent is not None,
                     hashlib.sha256(cancel_url.encode()).hexdigest())
    give_up_at = time.monotonic() + OPENING_WAIT_SECONDS
    while True:
        try:
            step, found = _next_step(invoice.id, processor, wanted, consent)
        except PaymentError:
            db.session.rollback()
            raise
        db.session.commit()
        if step == "reuse":
            return OpenedCheckout(url=found.checkout_url, payment_id=found.id)
        if step == "open":
            return _open_page(found, processor, consent, success_url, cancel_url)
        if step == "close" and not all(close_checkout_now(payment) for payment in found):
            raise PaymentError(COULD_NOT_OPEN)
        if time.monotonic() > give_up_at:
            raise PaymentError(COULD_NOT_OPEN)
        if step == "wait":
            time.sleep(OPENING_POLL_SECONDS)


def _next_step(invoice_id: int, processor: PaymentProcessor, wanted: _Wanted, consent: Consent | None):
    """Under the invoice's lock: give out the open page ("reuse"), wait for the one being opened ("wait"),
    close the others first ("close"), or start a new one ("open"). The caller commits."""
    invoice = lock_row(Invoice, invoice_id)
    check_payable(invoice)
    if invoice.autopay_state in ("scheduled", "charging"):
        # The worker is about to charge the saved card: a second, manual payment would be money taken twice.
        raise PaymentError(BEING_CHARGED)
    now = utcnow()
    live = live_checkouts(invoice.id)
    if any(_being_opened(payment, now) for payment in live):
        return "wait", None
    reusable = next((payment for payment in live if _reusable(payment, invoice, wanted, now)), None)
    others = [payment for payment in live if payment is not reusable]
    if others:
        close_checkouts(invoice, keep=reusable)
        return "close", others
    if reusable is not None:
        return "reuse", reusable
    return "open", start_payment(invoice, processor, source=wanted.source, save_card=consent,
                                 returns_to=wanted.returns_to)


def _being_opened(payment: Payment, now) -> bool:
    return payment.status == "pending" and payment.checkout_ref is None and (
        now - payment.created_at < OPENING_ABANDONED)


def _reusable(payment: Payment, invoice: Invoice, wanted: _Wanted, now) -> bool:
    return (payment.status == "pending" and payment.checkout_url is not None
            and (payment.checkout_expires_at is None or payment.checkout_expires_at - now > REUSE_MARGIN)
            and payment.processor == wanted.processor and payment.source == wanted.source
            and (payment.amount, payment.currency) == (invoice.amount_due, invoice.currency)
            and ("consent" in payment.details) == wanted.save_card
            and payment.details.get("returns_to") == wanted.returns_to)


def _open_page(payment: Payment, processor: PaymentProcessor, consent: Consent | None, success_url,
               cancel_url: str) -> OpenedCheckout:
    try:
        hosted = processor.create_checkout(payment, save_card=consent is not None,
                                           success_url=success_url(payment.id), cancel_url=cancel_url)
    except ProcessorError as exc:
        log.exception("could not open the %s checkout for payment %s", processor.name, payment.id)
        cancel_payment(payment)
        record_processor_status(processor.name, f"a payment page could not be opened ({exc})")
        db.session.commit()
        raise PaymentError(COULD_NOT_OPEN) from None
    record_processor_status(processor.name, None)
    opened = record_checkout_started(payment, hosted)
    db.session.commit()
    if not opened:
        # The invoice was paid, voided or changed while the page opened: close it, and say why.
        close_checkout_now(payment)
        check_payable(db.session.get(Invoice, payment.invoice_id))
        raise PaymentError(COULD_NOT_OPEN)
    return OpenedCheckout(url=hosted.url, payment_id=payment.id)


def check_returning_payment(payment: Payment) -> Payment:
    """The customer is back from the processor's page: while the payment is pending, ask the processor what
    became of it (the browser's arrival proves nothing) and record that; commits. Returns the payment as
    now known. A processor that cannot be reached leaves it pending, to be asked again."""
    if payment.status in ("pending", "expiring"):
        try:
            processor_named(payment.processor).refresh_payment(payment)
            db.session.commit()
        except (PaymentError, ProcessorError):
            log.exception("could not check payment %s with its processor", payment.id)
            db.session.rollback()
    return db.session.get(Payment, payment.id)
