"""Fixtures for the help site: Acme (and Globex, to check nothing crosses) with the help desk and the portal
on, customers with logins, staff of each role, and helpers that read what the app emailed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db as _db
from core.models import Customer, CustomerEmail, OutboxMessage
from core.testing.helpers import csrf_token_from, sign_in, sign_in_staff
from plugins.helpdesk import articles
from plugins.helpdesk.models import Ticket
from plugins.helpdesk.testing import sign_in_on_help_site

PLUGINS = ["helpdesk", "portal"]
CONFIRM_LINK = re.compile(r"/help/tickets/confirm/[A-Za-z0-9_\-]+")


@pytest.fixture
def acme(make_business):
    return make_business("acme", plugins=PLUGINS, name="Acme Plumbing", timezone="America/New_York")


@pytest.fixture
def globex(make_business):
    return make_business("globex", plugins=PLUGINS, name="Globex Heating")


def add_customer(in_business, business, name: str, email: str) -> int:
    with in_business(business):
        customer = Customer(name=name, emails=[CustomerEmail(email=email, is_primary=True)])
        _db.session.add(customer)
        _db.session.commit()
        return customer.id


@pytest.fixture
def maria(in_business, acme) -> int:
    return add_customer(in_business, acme, "Maria Garcia", "maria@example.com")


@pytest.fixture
def maria_login(app, acme, maria):
    from core.testing.helpers import create_customer_login

    return create_customer_login(app, acme, maria, email="maria@example.com")


@pytest.fixture
def as_maria(app, client, acme, maria_login):
    """The test client, signed in as Maria: to the portal, and on the help site as single sign-on does."""
    sign_in(app, client, acme, maria_login)
    sign_in_on_help_site(app, client, acme, maria_login)
    return client


@pytest.fixture
def as_support(app, acme):
    """A second client, signed in to Acme's console as a support member."""
    staff_client = app.test_client()
    sign_in_staff(app, staff_client, acme, "support", name="Pat Support")
    return staff_client


def post_form(client, form_url: str, data: dict, *, post_url: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST ``data`` (may hold files) to ``post_url`` or the page."""
    page = client.get(form_url)
    assert page.status_code == 200, f"{form_url} answered {page.status_code}"
    return client.post(post_url or form_url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                                   **data}, **kwargs)


def public_ticket(client, slug: str = "acme", **fields):
    data = {"name": "Jo Visitor", "email": "jo@example.com", "subject": "Boiler noise",
            "message": "It knocks at night.", "website": ""} | fields
    return post_form(client, f"/b/{slug}/help/tickets/new", data, content_type="multipart/form-data")


def send_signed_in(client, subject="Leaking tap", message="Drips all night.", **extra):
    """A ticket from the signed-in ``client``'s help site form."""
    return post_form(client, "/b/acme/help/tickets/new", {"subject": subject, "message": message, **extra},
                     content_type="multipart/form-data")


def staff_post(client, ticket_id: int, action: str, data: dict):
    """Staff ``action`` (reply, note, assign, status) on Acme's ticket, from its console page."""
    page = client.get(f"/b/acme/console/help/tickets/{ticket_id}")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"/b/acme/console/help/tickets/{ticket_id}/{action}",
                       data={"csrf_token": token, **data})


@pytest.fixture
def emailed(in_business, acme):
    """``emailed(template_key)``: (recipient, context) of that template's outbox messages, oldest first."""

    def read(template_key: str, business=None):
        with in_business(business or acme):
            rows = _db.session.scalars(select(OutboxMessage).where(OutboxMessage.template_key == template_key)
                                       .order_by(OutboxMessage.id)).all()
            return [(row.recipient, dict(row.context)) for row in rows]

    return read


def confirm_path(context: dict) -> str:
    """The path of the confirmation link an email context holds, under its business."""
    url = context["confirm_url"].removeprefix("http://suprata.test")
    assert CONFIRM_LINK.search(url), url
    return url


def tickets_of(in_business, business) -> list[Ticket]:
    with in_business(business):
        rows = _db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
        _db.session.expunge_all()
        return rows


def publish(in_business, business, title: str, body: str, *, category: str | None = None,
            status: str = "published") -> int:
    """An article written as staff would, through the knowledge base's own save."""
    with in_business(business):
        category_id = None
        if category:
            category_id = articles.save_category(None, name=category, description=None, position=0).id
        article = articles.save_article(None, title=title, body_markdown=body, category_id=category_id,
                                        status=status)
        _db.session.commit()
        return article.id
