"""Helpers for tests that act as a person would: post forms with their CSRF token, sign in as staff (with a
role) or as a customer, run a command line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from core.extensions import db
from core.identity.passwords import hash_password
from core.identity.roles import declared_permission
from core.identity.sessions import COOKIE_NAMES
from core.identity.tokens import new_token
from core.models import AuthSession, Customer, CustomerEmail, CustomerUser, StaffUser
from core.tenancy import business_context, utcnow

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DEFAULT_PASSWORD = "correct horse battery"


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


def create_staff(app, business, *, email: str = "dana@acme.test", password: str = DEFAULT_PASSWORD,
                 name: str = "Dana Ortiz", role: str = "owner") -> StaffUser:
    """A staff member of ``business`` with ``role`` (owner, admin, billing or support); returned detached.

    Any role, even for the business's first member, so a test can be a lone support member; the tools people
    use (``suprata create-staff``, the Staff page) make the first member the owner instead.
    """
    with app.app_context(), business_context(business.id):
        user = StaffUser(email=email, name=name, password_hash=hash_password(password), role=role)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)  # loaded before detaching: the commit expired it
        db.session.expunge(user)
        return user


def login_staff(client, business, *, email: str = "dana@acme.test", password: str = DEFAULT_PASSWORD):
    """Log in through the console's real login form; returns the response of the POST."""
    url = f"/b/{business.slug}/console/login"
    return submit_form(client, url, {"email": email, "password": password})


def sign_in(app, client, business, user) -> None:
    """Leave ``client`` signed in as ``user`` (staff or customer) of ``business``, the way a login page
    leaves a browser: a server-side session of the user's realm and that realm's cookie."""
    token, token_hash = new_token()
    with app.app_context(), business_context(business.id):
        db.session.add(AuthSession(token_hash=token_hash, realm=user.realm, user_id=user.id))
        db.session.commit()
    client.set_cookie(COOKIE_NAMES[user.realm], token, path=f"/b/{business.slug}/")


def sign_in_staff(app, client, business, role: str = "owner", *, email: str | None = None,
                  name: str = "Dana Ortiz") -> StaffUser:
    """A new staff member of ``business`` with ``role``, and ``client`` signed in as them."""
    user = create_staff(app, business, email=email or f"{role}@{business.slug}.test", name=name, role=role)
    sign_in(app, client, business, user)
    return user


def sign_in_customer(app, client, business, customer_id: int | None = None, *,
                     email: str = "pat@example.com", name: str = "Pat Jones") -> CustomerUser:
    """A customer login of ``business`` (its email confirmed), and ``client`` signed in with it.

    The login belongs to customer ``customer_id``, or to a new customer ``name`` with ``email`` on file.
    """
    with app.app_context(), business_context(business.id):
        if customer_id is None:
            customer = Customer(name=name, emails=[CustomerEmail(email=email, is_primary=True)])
            db.session.add(customer)
            db.session.flush()
            customer_id = customer.id
        user = CustomerUser(customer_id=customer_id, email=email, email_confirmed_at=utcnow())
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
    sign_in(app, client, business, user)
    return user


def run_cli(app, *args: str, input: str | None = None):  # noqa: A002 - click's own name for it
    """Run a command line of the app (``run_cli(app, "suprata", "doctor")``, or a command a plugin added in
    ``register_cli``) as ``flask --app core ...`` would; returns click's ``Result`` (``exit_code``,
    ``output``)."""
    return app.test_cli_runner().invoke(args=list(args), input=input)


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


def create_customer_login(app, business, customer_id: int, *, email: str, password: str = DEFAULT_PASSWORD,
                          confirmed: bool = True) -> CustomerUser:
    """A portal login with a password for an existing customer record (its email confirmed unless
    ``confirmed=False``), for tests that sign in through the login form."""
    with app.app_context(), business_context(business.id):
        user = CustomerUser(customer_id=customer_id, email=email, password_hash=hash_password(password),
                            email_confirmed_at=utcnow() if confirmed else None)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def login_customer(client, business, *, email: str, password: str = DEFAULT_PASSWORD):
    """Log in through the customer login form; returns the response of the POST."""
    return submit_form(client, f"/b/{business.slug}/account/login", {"email": email, "password": password})


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL of every statement the app runs inside the block, for tests that hold a page to a budget of
    statements whatever the size of the data."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
