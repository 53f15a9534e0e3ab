"""The pay-link page runs a fixed, small number of SQL statements, however much data the business has."""


import pytest

from core.extensions import db
from core.models import Invoice, InvoiceView
from core.testing.helpers import sql_statements
from core.testing.records import issue_invoice

QUERY_BUDGET = 4
# An invoice's first view also tells whoever the business chose (one read of its choice for that event).
FIRST_VIEW_BUDGET = QUERY_BUDGET + 1


def _page_statements(app, client, token):
    with sql_statements(app) as statements:
        response = client.get(f"/b/acme/pay/{token}")
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize(("invoices", "lines", "views"), [(1, 1, 0), (40, 30, 25)])
def test_the_page_stays_within_its_query_budget(app, client, shop, cached_businesses, in_business,
                                               invoices, lines, views):
    many_lines = [(f"Part {n}", "1", 1000 + n, 825) for n in range(lines)]
    issued = [issue_invoice(app, shop, email=f"customer{n}@example.com", lines=many_lines)
              for n in range(invoices)]
    invoice_id, token = issued[-1]
    with in_business(shop):
        for _ in range(views):
            db.session.add(InvoiceView(invoice_id=invoice_id, ip="10.0.0.1"))
        db.session.commit()
    client.get("/b/acme/pay/warm-the-business-cache")

    first = _page_statements(app, client, token)
    again = _page_statements(app, client, token)

    assert len(first) <= FIRST_VIEW_BUDGET, first
    assert len(again) <= QUERY_BUDGET, again
    with in_business(shop):
        assert db.session.get(Invoice, invoice_id).lines[-1].description == f"Part {lines - 1}"
