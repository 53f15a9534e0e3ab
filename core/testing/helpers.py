"""Helpers for tests that drive pages the way a browser does: fetch the form, post it with its CSRF token."""

from __future__ import annotations

import re

from core.extensions import db
from core.identity.passwords import hash_password
from core.identity.roles import declared_permission
from core.identity.staff import add_staff_member
from core.models import StaffUser
from core.tenancy import business_context

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
                 name: str = "Dana Ortiz", role: str | None = None) -> StaffUser:
    """A staff member with a password; the business's first is its owner, later ones get ``role``."""
    with app.app_context(), business_context(business.id):
        user = add_staff_member(email=email, name=name, password_hash=hash_password(password), role=role)
        db.session.commit()
        db.session.refresh(user)  # loaded before detaching: the commit expired it
        db.session.expunge(user)
        return user


def login_staff(client, business, *, email: str = "dana@acme.test", password: str = "correct horse battery"):
    """Log in through the console's real login form; returns the response of the POST."""
    url = f"/b/{business.slug}/console/login"
    return submit_form(client, url, {"email": email, "password": password})


def run_queued_jobs(app) -> int:
    """Run the jobs requests handed to the worker (``core.background.jobs``) on the in-memory queue, as a
    worker would; other queued tasks stay queued. Returns how many ran."""
    huey = app.extensions["suprata"].queue.huey
    ran, others = 0, []
    while (task := huey.dequeue()) is not None:
        if task.name == "run_job":
            huey.execute(task)
            ran += 1
        else:
            others.append(task)
    for task in others:
        huey.enqueue(task)
    return ran


def staff_routes_without_a_role_decision(app) -> list[str]:
    """Every staff-realm route (core's and every plugin's) that neither declares a permission nor is open to
    visitors (``login_exempt``): each is a route no role decision was made for. A plugin's tests call this
    with an app that loads the plugin and assert the list is empty."""
    realms = app.extensions["suprata"].blueprint_realms
    undecided = []
    for rule in app.url_map.iter_rules():
        if realms.get(rule.endpoint.rpartition(".")[0]) != "staff":
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "login_exempt", False) and declared_permission(app, rule.endpoint) is None:
            undecided.append(f"{rule.endpoint} ({rule.rule})")
    return sorted(undecided)


def without_nonces(html: str) -> str:
    """A page with its Content-Security-Policy nonces blanked: each response has its own, so two answers
    meant to be the same are compared without them."""
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)
