"""Helpers for tests that drive pages the way a browser does: fetch the form, post it with its CSRF token."""

from __future__ import annotations

import re

from core.extensions import db
from core.identity.passwords import hash_password
from core.models import CustomerUser, StaffUser
from core.tenancy import business_context, utcnow

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit_form(client, form_url: str, data: dict, *, post_url: str | None = None, **kwargs):
    """GET ``form_url``, then POST ``data`` plus its CSRF token to ``post_url`` (default: the same URL)."""
    page = client.get(form_url)
    assert page.status_code == 200, f"{form_url} answered {page.status_code}"
    payload = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
    return client.post(post_url or form_url, data=payload, **kwargs)


def create_staff(app, business, *, email: str = "dana@acme.test", password: str = "correct horse battery",
                 name: str = "Dana Ortiz") -> StaffUser:
    with app.app_context(), business_context(business.id):
        user = StaffUser(email=email, name=name, password_hash=hash_password(password))
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)  # loaded before detaching: the commit expired it
        db.session.expunge(user)
        return user


def login_staff(client, business, *, email: str = "dana@acme.test", password: str = "correct horse battery"):
    """Log in through the console's real login form; returns the response of the POST."""
    url = f"/b/{business.slug}/console/login"
    return submit_form(client, url, {"email": email, "password": password})


def create_customer_login(app, business, customer_id: int, *, email: str,
                          password: str = "correct horse battery", confirmed: bool = True) -> CustomerUser:
    """A portal login for an existing customer record (email confirmed unless ``confirmed=False``)."""
    with app.app_context(), business_context(business.id):
        user = CustomerUser(customer_id=customer_id, email=email, password_hash=hash_password(password),
                            email_confirmed_at=utcnow() if confirmed else None)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def login_customer(client, business, *, email: str, password: str = "correct horse battery"):
    """Log in through the customer login form; returns the response of the POST."""
    return submit_form(client, f"/b/{business.slug}/account/login", {"email": email, "password": password})
