"""Faults around an automatic charge: two workers at once, a worker killed between the processor's charge and
its commit, a processor that times out after charging, duplicate and out-of-order webhooks. Never charged
twice, no payment lost; and a property test over interleavings of all of them."""

import random
import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import AutopayAttempt, Business, Invoice
from core.money.autopay.runner import run_autopay_attempt
from core.money.payments.types import ProcessorError
from core.tenancy import business_context, utcnow
from plugins.payments_stripe.processor import StripeProcessor
from plugins.payments_stripe.testing import deliver
from tests.autopay.support import issue_subscription, payments_of, run_worker

# A worker is killed past its lease and the processor's backoff: the next sweep takes the attempt over.
LEASE_AND_BACKOFF = timedelta(hours=2)


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point of the charge runs, nothing is committed."""


def intents_for(stripe_api, invoice_id: int, status: str = "succeeded") -> list:
    return [intent for intent in stripe_api.v1.payment_intents.list(params={"limit": 100}).data
            if intent.metadata.to_dict().get("suprata_invoice_id") == str(invoice_id)
            and intent.status == status]


def attempt_id_of(app, shop, invoice_id: int, number: int = 1) -> int:
    with app.app_context(), business_context(shop.id):
        return db.session.scalar(select(AutopayAttempt.id).where(AutopayAttempt.invoice_id == invoice_id,
                                                                 AutopayAttempt.number == number))


def invoice_state(app, shop, invoice_id: int):
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, invoice_id)
        return invoice.status, invoice.amount_paid, invoice.autopay_state


def test_two_workers_racing_on_one_invoice_charge_it_once(app, shop, enrolled, stripe_api):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    attempt_id = attempt_id_of(app, shop, invoice_id)
    start = threading.Barrier(4)
    claimed = []

    def worker(sweep: bool):
        with app.app_context():
            start.wait()
            claimed.append(run_worker(app) if sweep else run_autopay_attempt(attempt_id))

    threads = [threading.Thread(target=worker, args=(sweep,)) for sweep in (True, False, True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(int(c) for c in claimed) == 1
    assert len(intents_for(stripe_api, invoice_id)) == 1
    assert [p.status for p in payments_of(app, shop, invoice_id)] == ["succeeded"]
    assert invoice_state(app, shop, invoice_id) == ("paid", 4900, "paid")


def test_a_second_row_for_the_same_attempt_is_refused(app, shop, enrolled):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    with app.app_context(), business_context(shop.id), pytest.raises(IntegrityError):
        db.session.add(AutopayAttempt(invoice_id=invoice_id, number=1, status="pending", attempts=0,
                                      next_attempt_at=utcnow()))
        db.session.commit()


def fail_after_charging(monkeypatch, error: BaseException, times: int = 1):
    """The processor charges for real, then the worker dies or the answer is lost, ``times`` times."""
    real = StripeProcessor.charge_saved_method
    left = [times]

    def charge(self, payment, method):
        real(self, payment, method)
        if left[0] > 0:
            left[0] -= 1
            raise error

    monkeypatch.setattr(StripeProcessor, "charge_saved_method", charge)


def test_a_worker_killed_between_the_charge_and_the_commit_never_charges_twice(
        app, shop, enrolled, stripe_api, monkeypatch):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    fail_after_charging(monkeypatch, WorkerKilled())

    with pytest.raises(WorkerKilled):
        run_worker(app)
    assert len(intents_for(stripe_api, invoice_id)) == 1
    assert invoice_state(app, shop, invoice_id) == ("open", 0, "charging")
    assert run_worker(app) == 0  # its lease holds: nobody else charges it meanwhile

    assert run_worker(app, utcnow() + LEASE_AND_BACKOFF) == 1

    assert len(intents_for(stripe_api, invoice_id)) == 1
    [payment] = payments_of(app, shop, invoice_id)
    assert (payment.status, payment.processor_ref) == ("succeeded", intents_for(stripe_api, invoice_id)[0].id)
    assert invoice_state(app, shop, invoice_id) == ("paid", 4900, "paid")


def test_a_timeout_after_charging_is_retried_with_the_same_key(app, shop, enrolled, stripe_api, monkeypatch):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    fail_after_charging(monkeypatch, ProcessorError("Request timed out"), times=2)

    run_worker(app)
    run_worker(app, utcnow() + LEASE_AND_BACKOFF)
    with app.app_context(), business_context(shop.id):
        attempt = db.session.scalar(select(AutopayAttempt))
        assert (attempt.status, attempt.attempts, attempt.last_error) == ("pending", 2, "Request timed out")
    run_worker(app, utcnow() + 2 * LEASE_AND_BACKOFF)

    assert len(intents_for(stripe_api, invoice_id)) == 1
    assert [p.status for p in payments_of(app, shop, invoice_id)] == ["succeeded"]
    assert invoice_state(app, shop, invoice_id) == ("paid", 4900, "paid")


def test_the_webhook_records_a_charge_whose_answer_was_lost_and_duplicates_change_nothing(
        app, client, shop, enrolled, stripe_api, inbox, monkeypatch, hooks):
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    fail_after_charging(monkeypatch, ProcessorError("Request timed out"))
    run_worker(app)
    [intent] = intents_for(stripe_api, invoice_id)
    succeeded = inbox.wait_for("payment_intent.succeeded", intent.id)

    for _ in range(3):
        assert deliver(client, shop, succeeded).status_code == 200
    assert invoice_state(app, shop, invoice_id) == ("paid", 4900, "paid")
    run_worker(app, utcnow() + LEASE_AND_BACKOFF)  # the attempt settles on what the webhook recorded

    with app.app_context(), business_context(shop.id):
        assert db.session.scalar(select(AutopayAttempt.outcome)) == "succeeded"
    assert len(intents_for(stripe_api, invoice_id)) == 1
    assert len(hooks.named("on_payment_captured")) == 1


# -- the property --------------------------------------------------------------------------------------------

STEPS = st.lists(st.sampled_from(["run", "killed", "timeout", "webhooks", "webhooks_twice", "later"]),
                 min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, card=st.sampled_from(["4242424242424242", "4000000000009995"]))
def test_no_interleaving_charges_twice_or_loses_a_payment(
        app, client, shop, enrolled, stripe_server, stripe_api, inbox, monkeypatch, steps, card):
    # Hypothesis seeds the global random module the same way for every example, and the Stripe test server
    # draws its object ids from it: without fresh entropy, each example would make the same ids again.
    random.seed()
    with app.app_context():
        business = db.session.get(Business, shop.id)
        business.policies = {**business.policies, "autopay_retry_days": []}
        db.session.commit()
    stripe_server.change_card(enrolled.card_ref, behaves_as=card)
    invoice_id = issue_subscription(app, shop, enrolled.customer_id)
    clock = [utcnow()]
    real_charge = StripeProcessor.charge_saved_method

    def webhooks(times: int):
        for intent in intents_for(stripe_api, invoice_id, "succeeded") + intents_for(
                stripe_api, invoice_id, "requires_payment_method"):
            kind = ("payment_intent.succeeded" if intent.status == "succeeded"
                    else "payment_intent.payment_failed")
            for _ in range(times):
                assert deliver(client, shop, inbox.wait_for(kind, intent.id)).status_code == 200

    for step in steps:
        if step in ("killed", "timeout"):
            error = WorkerKilled() if step == "killed" else ProcessorError("timeout")
            fail_after_charging(monkeypatch, error)
            try:
                run_worker(app, clock[0])
            except WorkerKilled:
                pass
            monkeypatch.setattr(StripeProcessor, "charge_saved_method", real_charge)
        elif step == "run":
            run_worker(app, clock[0])
        elif step == "later":
            clock[0] += LEASE_AND_BACKOFF
        else:
            webhooks(2 if step == "webhooks_twice" else 1)
    # However it went, the worker and the webhooks catch up.
    for _ in range(3):
        clock[0] += LEASE_AND_BACKOFF
        run_worker(app, clock[0])
    webhooks(1)

    charged = intents_for(stripe_api, invoice_id)
    assert len(charged) <= 1, "charged twice"
    payments = payments_of(app, shop, invoice_id)
    captured = [p for p in payments if p.status in ("succeeded", "unapplied")]
    status, amount_paid, _ = invoice_state(app, shop, invoice_id)
    if card == "4242424242424242":
        assert [p.processor_ref for p in captured] == [charged[0].id], "payment lost"
        assert (status, amount_paid) == ("paid", 4900)
    else:
        assert (charged, captured, status) == ([], [], "open")
    assert len({p.idempotency_key for p in payments}) == len(payments)
    assert not [p for p in payments if p.status == "pending"]
