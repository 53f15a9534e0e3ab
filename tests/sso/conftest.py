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
