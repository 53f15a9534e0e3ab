"""Appointment reminders at the lead time the business sets, and due-date reminders when it wants them: each
sent once, again when the appointment or the due date moves; by text through the real twilio SDK."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db as database
from core.models import Customer, CustomerEmail, CustomerPhone, Invoice, Job, OutboxMessage
from core.money.follow_up import send_due_reminders as send_invoice_reminders
from core.notifications.events import save_event_choice
from core.notifications.reminders import send_due_reminders, send_reminders_everywhere
from core.tenancy import business_context, current_business_id, utcnow
from core.testing.background import run_background_work
from core.testing.records import issue_invoice, save_plugin_settings
from core.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN, PHONE_NUMBER


@pytest.fixture
def acme(app, make_business, twilio_server, monkeypatch):
    twilio_server.reset()
    monkeypatch.setitem(app.config, "SUPRATA_TWILIO_API_BASE", twilio_server.base_url)
    business = make_business("acme", plugins=["sms_twilio"], name="Acme Plumbing",
                             timezone="America/New_York")
    save_plugin_settings(app, business, "sms_twilio", {"mode": "test", "account_sid": ACCOUNT_SID,
                                                       "auth_token": AUTH_TOKEN, "sender": PHONE_NUMBER})
    return business


@pytest.fixture
def job(app, db, acme):
    """A job of Ann's (verified mobile) that starts in three hours; returns its id."""
    with app.app_context(), business_context(acme.id):
        customer = Customer(name="Ann Lee", emails=[CustomerEmail(email="ann@example.test", is_primary=True)],
                            phones=[CustomerPhone(number="+12125550142", verified_at=utcnow())])
        job = Job(customer=customer, title="Boiler check", status="scheduled",
                  scheduled_start=utcnow() + timedelta(hours=3))
        db.session.add(job)
        db.session.commit()
        return job.id


def remind(app, business, now=None) -> int:
    with app.app_context(), business_context(business.id):
        count = send_due_reminders(now)
        database.session.commit()
        return count


def test_an_appointment_is_reminded_once_by_email_and_text(app, acme, job, twilio_server, mailbox):
    assert remind(app, acme) == 1
    assert remind(app, acme) == 0  # once
    run_background_work(app)
    [text] = twilio_server.messages
    assert text.to == "+12125550142" and "Boiler check" in text.body
    assert mailbox.wait_for(1)[0]["Subject"].startswith("Reminder: Boiler check on")


def test_the_lead_time_is_the_businesss(app, db, acme, job):
    with app.app_context(), business_context(acme.id):
        save_event_choice("appointment_reminder", customer=["sms"], business=[], option=2)
        db.session.commit()
    assert remind(app, acme) == 0  # three hours away, reminded two hours before
    assert remind(app, acme, utcnow() + timedelta(hours=1, minutes=5)) == 1


def test_a_rescheduled_appointment_is_reminded_again(app, db, acme, job):
    assert remind(app, acme) == 1
    with app.app_context(), business_context(acme.id):
        db.session.get(Job, job).scheduled_start += timedelta(hours=1)
        db.session.commit()
    assert remind(app, acme) == 1


def test_a_customer_who_texted_stop_gets_the_email_only(app, db, acme, job, twilio_server):
    with app.app_context(), business_context(acme.id):
        db.session.scalar(select(CustomerPhone)).sms_opted_out_at = utcnow()
        db.session.commit()
    remind(app, acme)
    run_background_work(app)
    assert twilio_server.messages == []


def test_an_unpaid_invoice_is_reminded_by_text_too_when_the_business_ticks_it(app, db, acme, job,
                                                                               twilio_server):
    with app.app_context(), business_context(acme.id):
        customer_id = database.session.get(Job, job).customer_id
    issued = issue_invoice(app, acme, customer_id=customer_id)
    due = date.today() + timedelta(days=10)
    with app.app_context(), business_context(acme.id):
        db.session.get(Invoice, issued.id).due_date = due
        db.session.commit()

    def follow_up_on(day) -> int:
        with app.app_context(), business_context(acme.id):
            sent = send_invoice_reminders(day)
            db.session.commit()
            return sent

    assert follow_up_on(due - timedelta(days=3)) == 1  # by email only, the default
    run_background_work(app)
    assert twilio_server.messages == []
    with app.app_context(), business_context(acme.id):
        save_event_choice("invoice_reminder", customer=["email", "sms"], business=[])
        db.session.commit()
    assert follow_up_on(due + timedelta(days=1)) == 1
    run_background_work(app)
    [text] = twilio_server.messages
    assert text.to == "+12125550142" and "is unpaid. Pay: http://suprata.test/b/acme/pay/" in text.body


def test_a_payment_holds_back_a_texted_invoice_reminder_still_waiting(app, db, acme, job, pay_invoice):
    with app.app_context(), business_context(acme.id):
        customer_id = database.session.get(Job, job).customer_id
        save_event_choice("invoice_reminder", customer=["sms"], business=[])
        db.session.commit()
    issued = issue_invoice(app, acme, customer_id=customer_id)
    with app.app_context(), business_context(acme.id):
        db.session.get(Invoice, issued.id).due_date = date.today()
        db.session.commit()
        assert send_invoice_reminders(date.today() + timedelta(days=1)) == 1
        db.session.commit()
    pay_invoice(acme, issued.id)
    with app.app_context(), business_context(acme.id):
        text = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.template_key == "invoice_reminder_sms"))
        assert text.status == "skipped"


def test_every_business_is_reminded_and_one_failing_stops_none(app, db, acme, make_business, monkeypatch):
    other = make_business("harbor")
    calls = []

    def send(now=None):
        calls.append(current_business_id())
        if current_business_id() == acme.id:
            raise RuntimeError("broken")
        return 0

    monkeypatch.setattr("core.notifications.reminders.send_due_reminders", send)
    with app.app_context():
        send_reminders_everywhere()
    assert sorted(calls) == sorted([acme.id, other.id])


def test_staff_send_a_reminder_now_from_the_customer_record(app, client, db, acme, job, twilio_server):
    from core.testing.helpers import csrf_token_from, sign_in_staff

    sign_in_staff(app, client, acme, role="support")
    with app.app_context(), business_context(acme.id):
        customer_id = db.session.get(Job, job).customer_id
    page = f"/b/acme/console/customers/{customer_id}"
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    answer = client.post(f"{page}/jobs/{job}/remind", data={"csrf_token": token}, follow_redirects=True)
    assert "Reminder of Boiler check sent by email and text message." in answer.get_data(as_text=True)
    run_background_work(app)
    assert [m.to for m in twilio_server.messages] == ["+12125550142"]
    assert client.post(f"{page}/jobs/{job + 1}/remind", data={"csrf_token": token}).status_code == 404
