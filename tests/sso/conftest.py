"""Fixtures for single sign-on: Acme with the portal on, a client registered as staff would register an
external help desk, and a customer signed in to the portal."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from core.extensions import db as _db
from core.identity.oidc.clients import register_client
from core.testing.helpers import sign_in_customer

REDIRECT_URI = "https://desk.example.com/oidc/callback"


@dataclass
class Client:
    client_id: str
    secret: str


@pytest.fixture
def acme(make_business):
    return make_business("acme", plugins=["portal"], name="Acme Plumbing")


@pytest.fixture
def desk(in_business, acme) -> Client:
    """An external help desk registered for Acme."""
    with in_business(acme):
        row, secret = register_client("Example Desk", [REDIRECT_URI],
                                      post_logout_redirect_uris=["https://desk.example.com/bye"])
        _db.session.commit()
        return Client(row.client_id, secret)


@pytest.fixture
def maria(app, client, acme):
    """Maria, signed in to Acme's portal on the test client."""
    return sign_in_customer(app, client, acme, email="maria@example.com", name="Maria Garcia")


@dataclass
class Authorization:
    verifier: str
    nonce: str
    state: str
    response: object

    @property
    def code(self) -> str:
        return parse_qs(urlsplit(self.response.headers["Location"]).query)["code"][0]


def authorize(client, desk: Client, **overrides) -> Authorization:
    """Ask Acme's authorization endpoint for a code, as the help desk sends the browser there."""
    verifier = secrets.token_urlsafe(48)
    nonce, state = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    params = {"response_type": "code", "client_id": desk.client_id, "redirect_uri": REDIRECT_URI,
              "scope": "openid profile email", "state": state, "nonce": nonce,
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    response = client.get("/b/acme/oidc/authorize", query_string=params)
    return Authorization(verifier, nonce, state, response)


def exchange(client, desk: Client, code: str, verifier: str | None, **overrides):
    """The help desk's server trades the code for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier}
    form.update(overrides)
    form = {k: v for k, v in form.items() if v is not None}
    return client.post("/b/acme/oidc/token", data=form, auth=(desk.client_id, desk.secret))


@dataclass
class Sites:
    """The portal on 127.0.0.1 and the help site on localhost: one app served by two servers on two ports,
    so the browser keeps two sets of cookies, as it would for two host names."""

    portal: str
    help: str
    business: object


@pytest.fixture
def sites(app, make_business, monkeypatch):
    from core.testing.browser import ServedApp
    from core.testing.records import save_plugin_settings

    portal_server, help_server = ServedApp(app).start(), ServedApp(app).start()
    monkeypatch.setitem(app.config, "SUPRATA_PUBLIC_URL", portal_server.url)
    business = make_business("acme", plugins=["portal", "helpdesk"], name="Acme Plumbing")
    help_base = help_server.url.replace("127.0.0.1", "localhost") + "/b/acme"
    save_plugin_settings(app, business, "helpdesk", {"site_address": help_base})
    yield Sites(portal=portal_server.url + "/b/acme", help=help_base, business=business)
    portal_server.stop()
    help_server.stop()


class Browser:
    """A browser over real HTTP: cookies kept per host name, each redirect followed by hand so a test sees
    every hop (and a loop cannot hide)."""

    MAX_HOPS = 12

    def __init__(self):
        import requests

        self.http = requests.Session()

    def walk(self, url: str, *, until_path: str | None = None):
        """GET ``url`` and follow redirects until a page (or until ``until_path`` is the next hop): the last
        response and every address visited."""
        from urllib.parse import urljoin

        visited = []
        for _ in range(self.MAX_HOPS):
            response = self.http.get(url, allow_redirects=False, timeout=10)
            visited.append(url)
            if response.status_code not in (301, 302, 303):
                return response, visited
            url = urljoin(url, response.headers["Location"])
            if until_path is not None and urlsplit(url).path == until_path:
                visited.append(url)
                return response, visited
        raise AssertionError("redirect loop: " + " -> ".join(visited))

    def log_in_to_portal(self, sites, email: str, password: str) -> None:
        from core.testing.helpers import csrf_token_from

        page = self.http.get(sites.portal + "/account/login", timeout=10)
        response = self.http.post(sites.portal + "/account/login", allow_redirects=False, timeout=10,
                                  data={"csrf_token": csrf_token_from(page.text), "email": email,
                                        "password": password})
        assert response.status_code == 302, response.text


PASSWORD = "correct horse battery"


@pytest.fixture
def maria_browser(app, sites) -> Browser:
    """A browser signed in to Acme's portal as Maria Garcia."""
    from core.testing.helpers import create_customer_login
    from core.testing.records import create_customer

    customer = create_customer(app, sites.business, "Maria Garcia", email="maria@example.com")
    create_customer_login(app, sites.business, customer.id, email="maria@example.com", password=PASSWORD)
    maria = Browser()
    maria.log_in_to_portal(sites, "maria@example.com", PASSWORD)
    return maria
