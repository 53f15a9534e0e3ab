"""Autopay in the staff console: manual payment first, consent by phone, the past-due list, payments by phone,
the confirmation before a saved card is charged."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AutopayConsent, Customer, Invoice, Payment, SavedPaymentMethod, StaffUser
from core.money.payments.wording import save_card_wording
from core.tenancy import business_context
from core.testing.helpers import create_staff, csrf_token_from, login_staff
from core.testing.records import create_customer, issue_invoice
from plugins.payments_stripe.testing import deliver, pay_on_hosted_page
from tests.autopay.support import issue_subscription, pay_first_invoice, run_worker


@pytest.fixture
def staff(app, client, shop):
    create_staff(app, shop)
    assert login_staff(client, shop).status_code == 302
    return client


def customer_page(staff, customer_id):
    return staff.get(f"/b/acme/console/customers/{customer_id}").get_data(as_text=True)


def post_autopay(staff, customer_id, **fields):
    token = csrf_token_from(customer_page(staff, customer_id))
    return staff.post(f"/b/acme/console/customers/{customer_id}/autopay",
                      data={"csrf_token": token, **fields}, follow_redirects=True)


def test_autopay_waits_for_a_first_payment_through_the_processor(app, shop, staff):
    customer = create_customer(app, shop)

    page = customer_page(staff, customer.id)
    assert "Autopay can be switched on once Pat Jones has paid an invoice online once themselves" in page
    response = post_autopay(staff, customer.id, action="on", method_id="1", consent_note="yes")
    assert "Choose one of the customer&#39;s saved cards." in response.get_data(as_text=True)
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Customer, customer.id).autopay_enabled is False


def test_staff_switch_autopay_on_with_consent_given_by_phone_then_off(app, client, shop, inbox, staff,
                                                                     stripe_api):
    customer_id = pay_first_invoice(app, client, shop, inbox)
    with app.app_context(), business_context(shop.id):
        method_id = db.session.scalar(select(SavedPaymentMethod.id))

    refused = post_autopay(staff, customer_id, action="on", method_id=str(method_id), consent_note=" ")
    assert "Note what the customer said when they agreed to autopay." in refused.get_data(as_text=True)
    done = post_autopay(staff, customer_id, action="on", method_id=str(method_id),
                        consent_note="Yes, put the monthly plan on my Visa.")

    text = done.get_data(as_text=True)
    assert "Autopay is on for Pat Jones, charging Visa ending 4242." in text
    assert "By phone to Dana Ortiz" in text and "Yes, put the monthly plan on my Visa." in text
    with app.app_context(), business_context(shop.id):
        consent = db.session.scalar(select(AutopayConsent))
        dana = db.session.scalar(select(StaffUser))
        assert (consent.channel, consent.staff_user_id, consent.withdrawn_at) == ("phone", dana.id, None)
        assert db.session.get(SavedPaymentMethod, method_id).used_for_autopay

    off = post_autopay(staff, customer_id, action="off")
    assert "Autopay is off for Pat Jones" in off.get_data(as_text=True)
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Customer, customer_id).autopay_enabled is False
        assert db.session.scalar(select(AutopayConsent.withdrawn_at)) is not None


def test_the_past_due_list_shows_declined_autopay_beside_never_paid(app, shop, enrolled, stripe_server,
                                                                   staff):
    stripe_server.change_card(enrolled.card_ref, behaves_as="4000000000009995")
    declined_id = issue_subscription(app, shop, enrolled.customer_id)
    run_worker(app)
    never_paid_id, _ = issue_invoice(app, shop, email="kim@example.com")
    with app.app_context(), business_context(shop.id):
        invoice = db.session.get(Invoice, never_paid_id)
        invoice.due_date = invoice.issue_date.replace(year=invoice.issue_date.year - 1)
        numbers = {db.session.get(Invoice, i).number for i in (declined_id, never_paid_id)}
        db.session.commit()

    page = staff.get("/b/acme/console/past-due").get_data(as_text=True)

    assert all(number in page for number in numbers)
    assert "autopay declined" in page and "insufficient funds" in page and "never paid" in page


def test_a_saved_card_charge_asks_for_confirmation_with_amount_and_card(app, shop, enrolled, staff):
    invoice_id, _ = issue_invoice(app, shop, customer_id=enrolled.customer_id)
    page = staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    confirm_url = f"/b/acme/console/invoices/{invoice_id}/charge-saved-method/{enrolled.method_id}"
    assert confirm_url in page

    confirm = staff.get(confirm_url).get_data(as_text=True)

    assert "Charge <strong>$208.92</strong>" in confirm and "Visa ending 4242" in confirm
    staff.post(f"/b/acme/console/invoices/{invoice_id}/charge-saved-method",
               data={"csrf_token": csrf_token_from(confirm), "method_id": str(enrolled.method_id)})
    with app.app_context(), business_context(shop.id):
        assert db.session.get(Invoice, invoice_id).status == "paid"
    assert staff.get(f"/b/acme/console/invoices/{invoice_id}/charge-saved-method/999").status_code == 404


def test_a_payment_by_phone_saves_the_card_with_consent_given_to_the_staff_member(
        app, client, shop, staff, inbox, stripe_api):
    invoice_id, _ = issue_invoice(app, shop)
    page = staff.get(f"/b/acme/console/invoices/{invoice_id}").get_data(as_text=True)
    assert save_card_wording("Acme Plumbing") in page

    response = staff.post(f"/b/acme/console/invoices/{invoice_id}/phone-payment",
                          data={"csrf_token": csrf_token_from(page), "save_card": "yes"})

    hosted_url = response.headers["Location"]
    assert response.status_code == 303 and "/_test/checkout/" in hosted_url
    assert pay_on_hosted_page(hosted_url).status_code == 303
    deliver(client, shop, inbox.wait_for("checkout.session.completed", hosted_url.rsplit("/", 1)[1]))
    with app.app_context(), business_context(shop.id):
        payment = db.session.scalar(select(Payment))
        method = db.session.scalar(select(SavedPaymentMethod))
        dana = db.session.scalar(select(StaffUser))
        assert (payment.status, payment.source, payment.saved_method_id) == ("succeeded", "phone", method.id)
        assert method.consent_staff_user_id == dana.id
        assert method.consent_text.endswith("(Said yes by phone to Dana Ortiz.)")
        assert method.consent_ip is None
        assert db.session.get(Invoice, invoice_id).status == "paid"
    # The customer paid through the processor once: autopay may go on now.
    assert "Switch autopay on" in customer_page(staff, payment.customer_id)
