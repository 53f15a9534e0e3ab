"""Acting on Stripe webhook events, each exactly once, whatever order and however often they arrive.

An event only says that something changed. We re-fetch the object it names from Stripe and record the
object's current state, so a late or out-of-order event cannot move a payment backwards, and every
handler converges on what Stripe says now. The event id is stored in the transaction of its effect under
a unique constraint: a duplicate delivery, even a concurrent one, finds it and does nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.plugin_api import db, record_method_detached, record_refund
from plugins.payments_stripe.models import StripeEvent
from plugins.payments_stripe.processor import NAME, StripeProcessor


def process(event) -> str:
    """Act on a verified event; returns what happened ("done", "duplicate" or "ignored"). Commits.

    Raises ``ProcessorError`` when Stripe cannot be reached to re-fetch the object: nothing is recorded and
    the caller answers with an error, so Stripe delivers the event again later.
    """
    fetch = FETCHERS.get(event.type)
    if fetch is None:
        return "ignored"
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event.id)):
        return "duplicate"
    processor = StripeProcessor()
    # Fetched before our transaction writes anything, so no database lock is held while Stripe answers.
    apply = fetch(processor, event.data.object.id)
    try:
        db.session.add(StripeEvent(event_id=event.id, type=event.type))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    apply()
    db.session.commit()
    return "done"


def _checkout_session(processor: StripeProcessor, session_id: str):
    session, intent = processor.fetch_checkout_session(session_id)
    return lambda: processor.record_checkout_session(session, intent)


def _payment_intent(processor: StripeProcessor, intent_id: str):
    intent = processor.fetch_intent(intent_id)
    retryable = intent.status != "succeeded" and processor.checkout_still_open(intent)
    return lambda: processor.record_intent(intent, retryable=retryable)


def _charge_refunded(processor: StripeProcessor, charge_id: str):
    intent_id, refunds = processor.fetch_refunds_of_charge(charge_id)

    def apply():
        for refund in refunds:
            if refund.status == "succeeded":
                record_refund(NAME, intent_id, refund_ref=refund.id, amount=refund.amount)

    return apply


def _setup_intent(processor: StripeProcessor, setup_intent_id: str):
    setup_intent = processor.fetch_setup_intent(setup_intent_id)
    return lambda: processor.record_setup(setup_intent)


def _payment_method_detached(processor: StripeProcessor, method_id: str):
    card = processor.fetch_payment_method(method_id)
    return (lambda: None) if card.customer else (lambda: record_method_detached(NAME, card.id))


FETCHERS = {
    "checkout.session.completed": _checkout_session,
    "checkout.session.expired": _checkout_session,
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "charge.refunded": _charge_refunded,
    "setup_intent.succeeded": _setup_intent,
    "payment_method.detached": _payment_method_detached,
}
