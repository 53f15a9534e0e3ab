"""The one checkout every surface opens: the pay link, the portal's "pay this invoice", staff by phone.

A pending payment of the amount due is written and committed first, then the processor's hosted page is
opened for it; if that fails, the payment is canceled, so a half-opened checkout never waits as pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.extensions import db
from core.models import Invoice, Payment
from core.money.payments.commands import cancel_payment, record_checkout_started, start_payment
from core.money.payments.processor import connected_processor, processor_named
from core.money.payments.types import Consent, PaymentError, ProcessorError

log = logging.getLogger("suprata.payments")

NOT_AVAILABLE = "Online payment isn't available right now. Please contact us to pay."
COULD_NOT_OPEN = "We couldn't open the payment page. Please try again in a moment."


@dataclass(frozen=True)
class OpenedCheckout:
    """Where to send the customer (the processor's hosted page), and the payment it will complete."""

    url: str
    payment_id: int


def open_checkout(invoice: Invoice, *, source: str, consent: Consent | None, success_url,
                  cancel_url: str) -> OpenedCheckout:
    """Start paying ``invoice`` on the business's connected processor; commits.

    ``success_url(payment_id)`` gives the page the processor returns to. Raises :class:`PaymentError` with a
    message for the customer when nothing can be opened (no processor, nothing to pay, the processor
    refused).
    """
    processor = connected_processor()
    if processor is None:
        raise PaymentError(NOT_AVAILABLE)
    payment = start_payment(invoice, processor, source=source, save_card=consent)
    db.session.commit()
    try:
        hosted = processor.create_checkout(payment, save_card=consent is not None,
                                           success_url=success_url(payment.id), cancel_url=cancel_url)
    except ProcessorError:
        log.exception("could not open the %s checkout for payment %s", processor.name, payment.id)
        cancel_payment(payment)
        db.session.commit()
        raise PaymentError(COULD_NOT_OPEN) from None
    record_checkout_started(payment, hosted.checkout_ref)
    db.session.commit()
    return OpenedCheckout(url=hosted.url, payment_id=payment.id)


def check_returning_payment(payment: Payment) -> Payment:
    """The customer is back from the processor's page: while the payment is pending, ask the processor what
    became of it (the browser's arrival proves nothing) and record that; commits. Returns the payment as
    now known. A processor that cannot be reached leaves it pending, to be asked again."""
    if payment.status == "pending":
        try:
            processor_named(payment.processor).refresh_payment(payment)
            db.session.commit()
        except (PaymentError, ProcessorError):
            log.exception("could not check payment %s with its processor", payment.id)
            db.session.rollback()
    return db.session.get(Payment, payment.id)
