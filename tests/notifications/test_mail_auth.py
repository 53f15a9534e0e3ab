"""Email authentication: a DKIM key per business made in the console and stored encrypted, the records to
publish with the reasons in words, and mail signed so dkimpy verifies what the SMTP server received."""

from __future__ import annotations

import dkim
import pytest
from sqlalchemy import select, text

from core.models import DkimKey
from core.tenancy import business_context
from core.testing.background import run_background_work
from core.testing.helpers import csrf_token_from, sign_in_staff
from core.testing.records import create_customer, issue_invoice

PAGE = "/b/acme/console/settings/email-authentication"


@pytest.fixture
def acme(make_business):
    return make_business("acme", name="Acme Plumbing", mail_from="Acme Plumbing <billing@acme-plumbing.test>")


def generate(app, client, acme):
    sign_in_staff(app, client, acme, role="owner")
    token = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    answer = client.post(f"{PAGE}/key", data={"csrf_token": token}, follow_redirects=True)
    return answer.get_data(as_text=True)


def the_key(app, db, acme) -> DkimKey:
    with app.app_context(), business_context(acme.id):
        key = db.session.scalar(select(DkimKey))
        db.session.expunge(key)
        return key


def test_the_page_explains_why_mail_lands_in_spam_and_what_to_publish(app, client, acme):
    sign_in_staff(app, client, acme, role="owner")
    page = client.get(PAGE).get_data(as_text=True)
    assert "spam filters treat it as a likely forgery" in page
    assert "Your emails are not signed yet" in page
    assert "<code>acme-plumbing.test</code>" in page and "v=spf1 ip4:127.0.0.1 ~all" in page
    assert "_dmarc.acme-plumbing.test" in page and "v=DMARC1; p=none; rua=mailto:office@acme.test" in page


def test_a_generated_key_is_stored_encrypted_and_its_record_shown(app, client, db, acme):
    page = generate(app, client, acme)
    key = the_key(app, db, acme)
    assert key.domain == "acme-plumbing.test"
    assert key.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    with app.app_context():
        stored = db.session.execute(text("SELECT private_key FROM dkim_key")).scalar_one()
    assert stored.startswith("enc:") and "PRIVATE KEY" not in stored
    assert f"{key.selector}._domainkey.acme-plumbing.test" in page
    assert f"v=DKIM1; k=rsa; p={key.public_key}" in page


def test_a_receipt_is_signed_and_verifies_with_dkimpy(app, client, db, acme, mailbox, pay_invoice):
    generate(app, client, acme)
    key = the_key(app, db, acme)
    customer = create_customer(app, acme, "Pat Jones", email="pat@example.com")
    invoice = issue_invoice(app, acme, customer_id=customer.id)
    pay_invoice(acme, invoice.id)
    run_background_work(app)
    receipt = next(m for m in mailbox.wait_for(2) if str(m["Subject"]).startswith("Receipt"))
    raw = mailbox.raw_of(receipt)
    assert raw.startswith(b"DKIM-Signature: ")

    def dns(name, timeout=5):
        assert name == f"{key.selector}._domainkey.acme-plumbing.test.".encode()
        return f"v=DKIM1; k=rsa; p={key.public_key}".encode()

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"Thank you for your payment", b"Thank you for your pavment")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_mail_from_another_domain_is_not_signed_with_this_key(app, client, db, acme, mailbox):
    generate(app, client, acme)
    with app.app_context(), business_context(acme.id):
        db.session.scalar(select(DkimKey)).domain = "elsewhere.test"
        db.session.commit()
    issue_invoice(app, acme)
    run_background_work(app)
    assert not mailbox.raw_of(mailbox.wait_for(1)[0]).startswith(b"DKIM-Signature")
