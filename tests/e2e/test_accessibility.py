"""Every customer-facing page, in both demo themes, passes an axe-core scan in Chromium with no serious or
critical violation, and breaks no rule of its Content-Security-Policy.

The pages: each business's home, the pay link of an open, a paid and a void invoice, its receipt and print
view, the page for a link that does not work, and a page that is not there; the help site's home, search,
a category, an article, the ticket form and its link that does not work; and the installation's list.
Plugins that add customer pages (portal, help site) add their paths to ``customer_pages`` below.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Business, Invoice
from core.money.invoicing import issue_pay_link
from core.tenancy import business_context
from core.testing.browser import accessibility_problems, policy_breaches


@pytest.fixture
def customer_pages(app, db) -> list[str]:
    """Paths of every customer page of the two demo businesses (seeded as `suprata seed-demo` does)."""
    result = app.test_cli_runner().invoke(args=["suprata", "seed-demo"])
    assert result.exit_code == 0, result.output
    paths = ["/"]
    with app.app_context():
        businesses = db.session.scalars(select(Business).order_by(Business.slug)).all()
        for business in businesses:
            base = f"/b/{business.slug}"
            paths += [f"{base}/", f"{base}/pay/not-a-real-link", f"{base}/no/such/page"]
            paths += [f"{base}/help/", f"{base}/help/search?q=water+heater", f"{base}/help/tickets/new",
                      f"{base}/help/categories/heating-and-hot-water",
                      f"{base}/help/articles/resetting-your-thermostat",
                      f"{base}/help/tickets/confirm/not-a-real-link"]
            with business_context(business.id):
                for status in ("open", "paid", "void"):
                    invoice = db.session.scalar(select(Invoice).where(Invoice.status == status).limit(1))
                    token = issue_pay_link(invoice)
                    paths += [f"{base}/pay/{token}", f"{base}/pay/{token}/print"]
                    if status == "paid":
                        paths.append(f"{base}/pay/{token}/receipt")
                db.session.commit()
    return paths


def test_every_customer_page_passes_axe_and_its_policy(served_app, browser, customer_pages):
    context = browser.new_context()
    page = context.new_page()
    breaches = policy_breaches(page)
    problems = []
    for path in customer_pages:
        page.goto(served_app.url + path)
        problems += [f"{path}: {problem}" for problem in accessibility_problems(page)]
    context.close()
    assert problems == [], "\n".join(problems)
    assert breaches == []
    assert len(customer_pages) >= 31
