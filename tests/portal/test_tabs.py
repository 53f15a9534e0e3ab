"""The portal's tabs as a customer uses them: invoices (filters, pages, paying through the pay link's
checkout, receipts and PDF files), reservations paid by balance, agreements downloaded, appointment
requests answered by staff, and the customer's own activity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import ActivityEvent, AppointmentRequest, Invoice, Job, Payment, Reservation
from core.plugins.settings import set_enabled
from core.testing.helpers import login_staff, submit_form
from plugins.payments_stripe.testing import connect_stripe, local_path, pay_on_hosted_page
from tests.portal import records


@pytest.fixture
def mine(acme, maria, maria_login, in_business):
    with in_business(acme):
        return records.fill(maria, "maria")


def test_the_tabs_come_from_the_enabled_plugins_in_order(app, portal, acme, mine, in_business):
    page = portal.get("/b/acme/portal/invoices").get_data(as_text=True)
    tabs = ["Invoices", "Jobs", "Reservations", "Agreements", "Activity"]
    positions = [page.index(f">{tab}</a>") for tab in tabs]
    assert positions == sorted(positions)
    assert 'aria-current="page">Invoices' in page
    with in_business(acme):
        set_enabled("portal", False)
        db.session.commit()
    app.extensions["suprata"].businesses.forget()
    assert portal.get("/b/acme/portal/invoices").status_code == 404
    assert "Invoices</a>" not in portal.get("/b/acme/account/").get_data(as_text=True)


def test_invoices_filter_by_status_kind_and_date(portal, mine):
    listing = portal.get("/b/acme/portal/invoices").get_data(as_text=True)
    assert all(f"MARIA-000{n}" in listing for n in (1, 2, 3)) and "MARIA-0004" not in listing
    only_paid = portal.get("/b/acme/portal/invoices?status=paid").get_data(as_text=True)
    assert "MARIA-0002" in only_paid and "MARIA-0001" not in only_paid
    by_kind = portal.get("/b/acme/portal/invoices?kind=subscription").get_data(as_text=True)
    assert "MARIA-0003" in by_kind and "MARIA-0002" not in by_kind
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    later = portal.get(f"/b/acme/portal/invoices?from={tomorrow}").get_data(as_text=True)
    assert "MARIA-000" not in later and "match these filters" in later
    today = date.today().isoformat()
    one_day = portal.get(f"/b/acme/portal/invoices?from={today}&to={today}").get_data(as_text=True)
    assert "MARIA-0001" in one_day
    assert portal.get("/b/acme/portal/invoices?status=draft&from=nonsense").status_code == 200


def test_invoices_are_paginated_with_the_filters_kept(portal, acme, maria, in_business):
    with in_business(acme):
        for n in range(45):
            db.session.add(Invoice(customer_id=maria, number=f"PG-{n:03d}", status="paid", kind="one_off",
                                   currency="USD", issue_date=date(2026, 1, 1) + timedelta(days=n)))
        db.session.commit()
    first = portal.get("/b/acme/portal/invoices?status=paid").get_data(as_text=True)
    assert "PG-044" in first and "PG-024" not in first and "Page 1 of 3 · 45 in all" in first
    assert "/b/acme/portal/invoices?page=2&amp;status=paid" in first
    third = portal.get("/b/acme/portal/invoices?status=paid&page=3").get_data(as_text=True)
    assert "PG-000" in third and "PG-005" not in third


def test_a_customer_pays_an_open_invoice_through_the_pay_links_checkout(
        app, portal, acme, mine, stripe_api, in_business, emailed):
    connect_stripe(app, acme)
    invoice_page = f"/b/acme/portal/invoices/{mine.invoices['open']}"
    page = portal.get(invoice_page).get_data(as_text=True)
    assert "Pay $135.00 now" in page and 'id="save-card"' in page
    response = submit_form(portal, invoice_page, {}, post_url=f"{invoice_page}/pay")
    assert response.status_code == 303
    hosted = response.headers["Location"]
    # A second Pay Now opens the checkout again through core's open_checkout, never a copy of it.
    returned = pay_on_hosted_page(hosted)
    back = local_path(returned.headers["Location"])
    assert back.startswith(f"{invoice_page}/return?payment=")
    done = portal.get(back).get_data(as_text=True)
    assert "Paid" in done and f"{invoice_page}/receipt" in done
    with in_business(acme):
        payment = db.session.scalar(select(Payment).where(Payment.source == "portal"))
        assert payment.status == "succeeded"
        assert db.session.get(Invoice, mine.invoices["open"]).status == "paid"
    receipt = portal.get(f"{invoice_page}/receipt").get_data(as_text=True)
    assert "Receipt" in receipt and "$135.00" in receipt
    assert [to for to, _ in emailed("payment_receipt")][-1] == "maria@example.com"
    assert emailed("portal_invitation") == []  # she has a login: no invitation after a portal payment
    activity = portal.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Paid $135.00 for invoice MARIA-0001" in activity


def test_nothing_to_pay_says_so(app, portal, acme, mine, stripe_api):
    connect_stripe(app, acme)
    paid_page = f"/b/acme/portal/invoices/{mine.invoices['paid']}"
    response = submit_form(portal, paid_page, {}, post_url=f"{paid_page}/pay")
    assert response.headers["Location"] == paid_page
    assert "already paid" in portal.get(paid_page).get_data(as_text=True)


def test_invoice_and_receipt_pdfs_are_real_private_downloads_on_the_timeline(portal, mine):
    base = "/b/acme/portal/invoices"
    for path, name in ((f"{base}/{mine.invoices['open']}/invoice.pdf", "invoice-MARIA-0001.pdf"),
                       (f"{base}/{mine.invoices['paid']}/receipt.pdf", "receipt-MARIA-0002.pdf")):
        response = portal.get(path)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.get_data().startswith(b"%PDF-")
        assert response.headers["Content-Disposition"] == f"attachment; filename={name}"
        assert response.headers["Cache-Control"] == "no-store"
    assert portal.get(f"/b/acme/portal/invoices/{mine.invoices['open']}/receipt.pdf").status_code == 404
    activity = portal.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Downloaded invoice MARIA-0001 (PDF)" in activity
    assert "Downloaded the receipt of invoice MARIA-0002 (PDF)" in activity


def test_viewing_an_invoice_is_on_the_timeline_once(portal, acme, mine, in_business):
    for _ in range(2):
        portal.get(f"/b/acme/portal/invoices/{mine.invoices['open']}")
    with in_business(acme):
        views = db.session.scalars(select(ActivityEvent.summary).where(ActivityEvent.kind == "invoice.viewed")
                                   ).all()
    assert views == ["Viewed invoice MARIA-0001 in the portal"]


def test_a_reservation_balance_is_paid_and_counts_towards_the_reservation(
        app, portal, acme, mine, stripe_api, in_business):
    connect_stripe(app, acme)
    page = portal.get("/b/acme/portal/reservations").get_data(as_text=True)
    assert "Heater rental maria" in page and "$250.00" in page and "Pay balance" in page
    response = submit_form(portal, "/b/acme/portal/reservations", {},
                           post_url=f"/b/acme/portal/reservations/{mine.reservation_id}/pay")
    invoice_page = response.headers["Location"]
    again = submit_form(portal, "/b/acme/portal/reservations", {},
                        post_url=f"/b/acme/portal/reservations/{mine.reservation_id}/pay")
    assert again.headers["Location"] == invoice_page  # the same invoice while it is unpaid
    assert "Balance for Heater rental maria" in portal.get(invoice_page).get_data(as_text=True)
    hosted = submit_form(portal, invoice_page, {}, post_url=f"{invoice_page}/pay").headers["Location"]
    portal.get(local_path(pay_on_hosted_page(hosted).headers["Location"]))
    with in_business(acme):
        reservation = db.session.get(Reservation, mine.reservation_id)
        assert (reservation.amount_paid, reservation.balance) == (40000, 0)
    assert "Pay balance" not in portal.get("/b/acme/portal/reservations").get_data(as_text=True)


def test_an_agreement_downloads_as_an_attachment_for_its_owner(portal, mine):
    listing = portal.get("/b/acme/portal/agreements").get_data(as_text=True)
    assert "Service plan maria" in listing and "Download plan-maria.pdf" in listing
    response = portal.get(f"/b/acme/portal/agreements/{mine.agreement_id}/document")
    assert response.headers["Content-Disposition"] == "attachment; filename=plan-maria.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data().startswith(b"%PDF-")
    assert "Downloaded the agreement “Service plan maria”" in portal.get("/b/acme/portal/activity").get_data(
        as_text=True)


def test_activity_shows_what_the_customer_did_not_what_staff_wrote(portal, mine):
    page = portal.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Logged in to the portal" in page
    assert records.STAFF_ONLY not in page and "Invoice MARIA-0001 sent" not in page


# -- appointments -----------------------------------------------------------------------------------------


def request_form(days: int = 3, window: str = "morning") -> dict:
    return {"service": "Leaking shower valve", "notes": "The buzzer is broken.",
            "preferences-0-day": (date.today() + timedelta(days=days)).isoformat(),
            "preferences-0-window": window,
            "preferences-1-day": (date.today() + timedelta(days=days + 1)).isoformat(),
            "preferences-1-window": "any time", "preferences-2-day": "", "preferences-2-window": "any time"}


@pytest.fixture
def console(app, acme, staff_member):
    client = app.test_client()
    login_staff(client, acme)
    return client


def test_a_request_reaches_staff_who_confirm_it_and_the_customer_is_told(
        portal, acme, maria, console, emailed, in_business):
    response = submit_form(portal, "/b/acme/portal/jobs/request", request_form())
    assert response.headers["Location"] == "/b/acme/portal/jobs"
    assert "Waiting for us" in portal.get("/b/acme/portal/jobs").get_data(as_text=True)
    [(to, context)] = emailed("appointment_requested")
    assert to == "office@acme.test" and "Morning" in context["preferences"]
    page = console.get("/b/acme/console/portal/appointments").get_data(as_text=True)
    assert "Leaking shower valve" in page and "The buzzer is broken." in page
    with in_business(acme):
        request_id = db.session.scalar(select(AppointmentRequest.id))
    day = (date.today() + timedelta(days=3)).isoformat()
    prefix = f"request-{request_id}"
    answer = submit_form(console, "/b/acme/console/portal/appointments", {
        f"{prefix}-outcome": "scheduled", f"{prefix}-day": day, f"{prefix}-start": "09:30",
        f"{prefix}-hours": "2", f"{prefix}-reply": "Our plumber Sam will come."},
        post_url=f"/b/acme/console/portal/appointments/{request_id}")
    assert answer.status_code == 302
    with in_business(acme):
        job = db.session.scalar(select(Job))
        assert (job.title, job.status) == ("Leaking shower valve", "scheduled")
        assert job.scheduled_start.astimezone().hour is not None
    [(to, context)] = emailed("appointment_answered")
    assert to == "maria@example.com" and context["outcome"] == "scheduled" and "9:30" in context["when"]
    jobs = portal.get("/b/acme/portal/jobs").get_data(as_text=True)
    assert "Booked" in jobs and "Our plumber Sam will come." in jobs
    activity = portal.get("/b/acme/portal/activity").get_data(as_text=True)
    assert "Requested an appointment: Leaking shower valve" in activity


def test_staff_propose_another_time_and_the_customer_accepts_it(portal, acme, maria, console, emailed,
                                                                in_business):
    submit_form(portal, "/b/acme/portal/jobs/request", request_form())
    with in_business(acme):
        request_id = db.session.scalar(select(AppointmentRequest.id))
    prefix = f"request-{request_id}"
    day = (date.today() + timedelta(days=6)).isoformat()
    submit_form(console, "/b/acme/console/portal/appointments", {
        f"{prefix}-outcome": "proposed", f"{prefix}-day": day, f"{prefix}-start": "14:00",
        f"{prefix}-hours": "1"},
        post_url=f"/b/acme/console/portal/appointments/{request_id}")
    assert emailed("appointment_answered")[0][1]["outcome"] == "proposed"
    jobs = portal.get("/b/acme/portal/jobs").get_data(as_text=True)
    assert "New time proposed" in jobs and "Accept this time" in jobs
    submit_form(portal, "/b/acme/portal/jobs", {},
                post_url=f"/b/acme/portal/appointments/{request_id}/accept")
    with in_business(acme):
        assert db.session.get(AppointmentRequest, request_id).status == "scheduled"
        assert db.session.scalar(select(Job.status)) == "scheduled"
    assert [to for to, _ in emailed("appointment_answered")] == ["maria@example.com", "office@acme.test"]


def test_an_appointment_request_needs_a_date_from_today_on(portal):
    empty = request_form()
    empty["preferences-0-day"] = ""
    empty["preferences-1-day"] = ""
    response = submit_form(portal, "/b/acme/portal/jobs/request", empty)
    assert response.status_code == 400 and "Choose at least one date." in response.get_data(as_text=True)
    past = request_form(days=-2)
    response = submit_form(portal, "/b/acme/portal/jobs/request", past)
    assert response.status_code == 400 and "from today on" in response.get_data(as_text=True)
