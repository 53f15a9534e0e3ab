"""The help site's pages run a fixed, small number of SQL statements, whatever the number of articles,
tickets or messages."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from core.extensions import db
from core.models import Customer
from core.tenancy import utcnow
from core.testing.helpers import sql_statements
from plugins.helpdesk import tickets
from plugins.helpdesk.models import HelpArticle, Ticket, TicketMessage
from tests.helpdesk.conftest import publish

# Visitors' pages: the business snapshot is cached, so each is its own queries only.
VISITOR_BUDGET = {"/b/acme/help/": 3, "/b/acme/help/search?q=boiler+pressure": 1,
                  "/b/acme/help/categories/heating": 2, "/b/acme/help/articles/boiler-pressure": 1}
# A signed-in customer's pages add their session (with the login and customer) and their own rows.
CUSTOMER_BUDGET = 4


def add_articles(in_business, business, count: int) -> None:
    now = utcnow()
    with in_business(business):
        db.session.execute(insert(HelpArticle), [
            {"business_id": business.id, "category_id": 1, "title": f"Boiler pressure note {n}",
             "slug": f"bulk-{n}", "body_markdown": "x", "body_html": "<p>x</p>",
             "body_text": f"Boiler pressure drops in winter {n}", "status": "published", "published_at": now,
             "updated_at": now, "helpful_yes": 0, "helpful_no": 0} for n in range(count)])
        db.session.commit()


def add_thread(in_business, business, ticket_id: int, count: int) -> None:
    with in_business(business):
        db.session.execute(insert(TicketMessage), [
            {"business_id": business.id, "ticket_id": ticket_id, "author": ("staff", "customer")[n % 2],
             "author_name": "Someone", "internal": n % 3 == 0, "body": f"message {n}", "created_at": utcnow()}
            for n in range(count)])
        db.session.commit()


def measure(app, client, path: str) -> list[str]:
    client.get(path)  # warm: the business snapshot, the compiled templates
    with sql_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements


@pytest.mark.usefixtures("cached_businesses")
@pytest.mark.parametrize("articles", [1, 500])
def test_knowledge_base_pages_stay_within_their_budget(app, client, acme, in_business, articles):
    publish(in_business, acme, "Boiler pressure", "Check the gauge.", category="Heating")
    add_articles(in_business, acme, articles)
    for path, budget in VISITOR_BUDGET.items():
        statements = measure(app, client, path)
        assert len(statements) <= budget, (path, statements)


@pytest.mark.usefixtures("cached_businesses")
@pytest.mark.parametrize(("count", "messages"), [(1, 1), (60, 300)])
def test_the_customers_ticket_pages_stay_within_their_budget(app, as_maria, acme, maria, in_business, count,
                                                             messages):
    publish(in_business, acme, "Boiler pressure", "Check the gauge.", category="Heating")
    with in_business(acme):
        customer = db.session.get(Customer, maria)
        for n in range(count):
            tickets.submit_signed_in(customer, subject=f"Request {n}", body="b", files=[])
        db.session.commit()
        first = min(t.id for t in db.session.query(Ticket))
    add_thread(in_business, acme, first, messages)
    for path in ("/b/acme/help/tickets", f"/b/acme/help/tickets/{first}", "/b/acme/portal/tickets/",
                 f"/b/acme/portal/tickets/{first}", "/b/acme/help/articles/boiler-pressure", "/b/acme/help/"):
        statements = measure(app, as_maria, path)
        assert len(statements) <= CUSTOMER_BUDGET, (path, statements)
