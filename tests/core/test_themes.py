"""Themes: a business's theme overrides templates, can extend the default's, and never leaks to another
business through Jinja's template cache."""

import pytest
from jinja2 import FileSystemLoader

from core.testing.helpers import sign_in_staff
from core.testing.records import issue_invoice
from core.web import themes

HARBOR_STYLE = '<style id="theme-harbor" nonce="'
DEFAULT_FOOTER = '<footer class="site-footer">'


@pytest.fixture
def two_themes(make_business):
    return (make_business("acme", name="Acme Plumbing"),
            make_business("harbor", name="Harbor Electric", theme="harbor"))


def home(client, slug: str) -> str:
    page = client.get(f"/b/{slug}/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_theme_overrides_base_html_and_extends_the_default(two_themes, client):
    html = home(client, "harbor")
    assert HARBOR_STYLE in html
    assert DEFAULT_FOOTER in html  # the rest of the layout is the default theme's base.html
    assert "<h1>Harbor Electric</h1>" in html  # the page itself is the default theme's business_home.html


def test_businesses_rendered_alternately_each_get_their_own_theme(two_themes, client):
    for _ in range(2):
        assert HARBOR_STYLE not in home(client, "acme")
        assert HARBOR_STYLE in home(client, "harbor")


def test_an_unknown_theme_falls_back_to_the_default(make_business, client):
    make_business("gone", theme="no-such-theme")
    html = home(client, "gone")
    assert DEFAULT_FOOTER in html
    assert HARBOR_STYLE not in html


def test_error_pages_wear_the_business_theme(two_themes, client):
    page = client.get("/b/harbor/no-such-page")
    assert page.status_code == 404
    assert HARBOR_STYLE in page.get_data(as_text=True)


def test_a_theme_restyles_invoice_totals_and_payments_once_for_every_surface(app, client, make_business,
                                                                             pay_invoice, tmp_path,
                                                                             monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "invoice_totals.html").write_text(
        '{% macro invoice_totals(invoice) %}<p class="pinstripe-totals">'
        '{{ invoice.total|money(invoice.currency) }}</p>{% endmacro %}')
    (shared / "payments_table.html").write_text(
        '{% macro payments_table(payments, staff=False) %}<p class="pinstripe-payments">'
        '{{ payments|length }} {{ "staff" if staff else "customer" }}</p>{% endmacro %}')
    themes._theme_loaders()  # the bundled themes first, then this one beside them
    monkeypatch.setitem(themes._loaders, "pinstripe", FileSystemLoader(tmp_path))
    acme = make_business("acme", theme="pinstripe")
    invoice = issue_invoice(app, acme)
    pay_invoice(acme, invoice.id)
    sign_in_staff(app, client, acme)

    console = client.get(f"/b/acme/console/invoices/{invoice.id}").get_data(as_text=True)
    pay_link = client.get(f"/b/acme/pay/{invoice.token}").get_data(as_text=True)
    receipt = client.get(f"/b/acme/pay/{invoice.token}/receipt").get_data(as_text=True)

    for page in (console, pay_link, receipt):
        assert '<p class="pinstripe-totals">$208.92</p>' in page
        assert '<div class="totals">' not in page
    assert '<p class="pinstripe-payments">1 staff</p>' in console
    assert '<p class="pinstripe-payments">1 customer</p>' in receipt
