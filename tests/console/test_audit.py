"""The audit trail page and each invoice's history: who did what, in words, for this business only."""

from __future__ import annotations

import pathlib
import re

import pytest

from core.activity import audit
from core.console.audit import ACTION_LABELS, describe_details
from core.testing.helpers import create_staff, login_staff


@pytest.fixture
def recorded(app, db, acme, in_business):
    """A few entries of every kind, as the app writes them."""
    with in_business(acme):
        audit("invoice.sent", "invoice INV-0001", actor="Dana Ortiz")
        audit("payment.captured", "invoice INV-0001", actor="customer via pay link", amount=15892,
              currency="USD")
        audit("payment.refunded", "invoice INV-0001", actor="Dana Ortiz", amount=5000, currency="USD",
              reason="goodwill")
        audit("payment_method.saved", "customer Pat Jones", actor="customer", card="Visa •••• 4242")
        audit("plugin.disabled", "plugin payments_stripe", actor="Dana Ortiz")
        audit("invoice.voided", "invoice INV-0002", actor="Dana Ortiz", reason="duplicate")
        db.session.commit()


def rows(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def test_the_trail_says_who_did_what_newest_first(console, recorded):
    page = console.get("/b/acme/console/audit").get_data(as_text=True)
    table = rows(page)
    assert table.index("Invoice voided") < table.index("Refunded") < table.index("Invoice sent")
    assert "amount: $50.00 · reason: goodwill" in table
    assert "customer via pay link" in table and "amount: $158.92" in table


def test_money_shows_payments_and_cards_only(console, recorded):
    table = rows(console.get("/b/acme/console/audit?group=money").get_data(as_text=True))
    assert "Payment received" in table and "Refunded" in table and "Card saved" in table
    assert "Invoice sent" not in table and "Plugin turned off" not in table


def test_searching_by_record_finds_what_happened_to_it(console, recorded):
    table = rows(console.get("/b/acme/console/audit?record=inv-0002").get_data(as_text=True))
    assert "Invoice voided" in table and "INV-0001" not in table
    # A LIKE wildcard typed by staff is taken literally.
    page = console.get("/b/acme/console/audit?record=%25").get_data(as_text=True)
    assert "Nothing recorded that matches" in page


def test_an_unknown_group_shows_everything(console, recorded):
    table = rows(console.get("/b/acme/console/audit?group=nonsense").get_data(as_text=True))
    assert "Invoice voided" in table and "Card saved" in table


def test_another_business_never_sees_the_trail(app, client, make_business, recorded):
    harbor = make_business("harbor")
    create_staff(app, harbor, email="sam@harbor.test", password="correct horse battery", name="Sam Rivera")
    login = login_staff(client, harbor, email="sam@harbor.test", password="correct horse battery")
    assert login.status_code == 302
    page = client.get("/b/harbor/console/audit").get_data(as_text=True)
    assert "INV-0001" not in page and "Nothing recorded" in page


def test_the_trail_is_for_staff_only(client, acme, recorded):
    response = client.get("/b/acme/console/audit")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_the_invoice_page_shows_its_own_history(console, draft_id):
    page = console.get(f"/b/acme/console/invoices/{draft_id}").get_data(as_text=True)
    history = page.split('id="history"', 1)[1]
    assert "Invoice created" in history and "Dana Ortiz" in history


def test_every_action_the_app_records_has_words():
    """Each action name written by an ``audit(...)`` call in core or a bundled plugin has a label."""
    root = pathlib.Path(__file__).resolve().parents[2]
    first_argument = re.compile(r'audit\(\s*("[a-z_.]+"(?:\s+if\s+\w+\s+else\s+"[a-z_.]+")?)')
    actions = set()
    for path in [*root.joinpath("core").rglob("*.py"), *root.joinpath("plugins").rglob("*.py")]:
        for argument in first_argument.findall(path.read_text()):
            actions.update(re.findall(r'"([a-z_.]+)"', argument))
    assert {"payment.captured", "payment.refunded", "invoice.sent", "plugin.enabled"} <= actions
    assert actions - set(ACTION_LABELS) == set()


def test_details_read_as_words():
    described = describe_details({"amount": 1234, "currency": "EUR", "reason": "late"})
    assert described == "amount: €12.34 · reason: late"
    assert describe_details({}) == ""
