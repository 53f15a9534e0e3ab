"""The invoices tab runs a fixed, small number of SQL statements, whatever the number of invoices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from core.extensions import db
from core.models import Invoice
from core.tenancy import utcnow
from core.testing.helpers import sql_statements

QUERY_BUDGET = 5


def add_invoices(in_business, business, customer_id: int, count: int) -> None:
    now = utcnow()
    with in_business(business):
        db.session.execute(insert(Invoice), [
            {"business_id": business.id, "customer_id": customer_id, "number": f"BULK-{n:05d}",
             "kind": ("one_off", "subscription")[n % 2], "status": ("open", "paid", "void")[n % 3],
             "currency": "USD", "issue_date": date(2024, 1, 1) + timedelta(days=n), "subtotal": 1000 + n,
             "tax_total": 0, "total": 1000 + n, "amount_paid": 0, "created_at": now}
            for n in range(count)])
        db.session.commit()


@pytest.mark.parametrize("invoices", [1, 1000])
@pytest.mark.parametrize("query", ["", "?status=open&kind=subscription&from=2024-02-01&page=3"])
def test_the_invoices_tab_stays_within_its_budget(app, portal, acme, maria, in_business, cached_businesses,
                                                  invoices, query):
    add_invoices(in_business, acme, maria, invoices)
    portal.get("/b/acme/portal/invoices")  # warm: the business snapshot, the compiled templates
    with sql_statements(app) as statements:
        response = portal.get(f"/b/acme/portal/invoices{query}")
    assert response.status_code == 200
    assert len(statements) <= QUERY_BUDGET, statements
    if invoices == 1000 and not query:
        page = response.get_data(as_text=True)
        assert "BULK-00999" in page and "1000 in all" in page
