"""Core as an OpenID Connect provider: discovery, keys, and the authorization code flow with PKCE, with
every way a request can be wrong answered as the standard says."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.sso.conftest import REDIRECT_URI, authorize, exchange


def test_discovery_names_the_business_as_issuer_and_only_code_with_s256(client, acme):
    meta = client.get("/b/acme/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == "http://suprata.test/b/acme"
    assert meta["authorization_endpoint"] == "http://suprata.test/b/acme/oidc/authorize"
    assert meta["jwks_uri"] == "http://suprata.test/b/acme/oidc/jwks"
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    keys = client.get("/b/acme/oidc/jwks").get_json()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] and "d" not in keys[0]


def test_a_signed_in_customer_gets_a_code_and_an_id_token(client, acme, desk, maria):
    auth = authorize(client, desk)
    assert auth.response.status_code == 302
    assert auth.response.headers["Location"].startswith(REDIRECT_URI + "?")
    assert parse_qs(urlsplit(auth.response.headers["Location"]).query)["state"] == [auth.state]
    response = exchange(client, desk, auth.code, auth.verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    id_token = response.get_json()["id_token"]
    keys = KeySet.import_key_set(client.get("/b/acme/oidc/jwks").get_json())
    claims = jwt.decode(id_token, keys, algorithms=["ES256"]).claims
    assert claims["iss"] == "http://suprata.test/b/acme"
    assert claims["aud"] == desk.client_id
    assert claims["nonce"] == auth.nonce
    assert claims["sub"] == str(maria.id)
    assert claims["name"] == "Maria Garcia" and claims["email"] == "maria@example.com"
    assert claims["exp"] - claims["iat"] == 300 and claims["sid"]


def test_a_visitor_is_sent_to_the_login_page_and_prompt_none_gets_login_required(client, acme, desk):
    auth = authorize(client, desk)
    assert auth.response.status_code == 302
    assert "/b/acme/account/login?next=" in auth.response.headers["Location"]
    silent = authorize(client, desk, prompt="none")
    location = silent.response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    assert parse_qs(urlsplit(location).query)["error"] == ["login_required"]


def test_a_wrong_redirect_uri_is_a_page_here_never_a_redirect(client, acme, desk, maria):
    for uri in ("https://evil.example.com/cb", REDIRECT_URI + "/", REDIRECT_URI + "?x=1", None):
        auth = authorize(client, desk, redirect_uri=uri)
        assert auth.response.status_code == 400, uri
        assert "Location" not in auth.response.headers
        assert "This sign-in link doesn't work" in auth.response.get_data(as_text=True)
    unknown = authorize(client, desk, client_id="nobody")
    assert unknown.response.status_code in (400, 401) and "Location" not in unknown.response.headers


def test_pkce_missing_or_plain_is_refused(client, acme, desk, maria):
    for overrides in ({"code_challenge": None, "code_challenge_method": None},
                      {"code_challenge_method": None},
                      {"code_challenge_method": "plain"}):
        auth = authorize(client, desk, **overrides)
        query = parse_qs(urlsplit(auth.response.headers["Location"]).query)
        assert query["error"] == ["invalid_request"], overrides
        assert "code" not in query


def test_a_wrong_verifier_or_none_is_refused(client, acme, desk, maria):
    auth = authorize(client, desk)
    assert exchange(client, desk, auth.code, None).get_json()["error"] == "invalid_request"
    auth = authorize(client, desk)
    assert exchange(client, desk, auth.code, "x" * 50).get_json()["error"] == "invalid_grant"


def test_implicit_and_password_grants_are_unsupported(client, acme, desk, maria):
    auth = authorize(client, desk, response_type="id_token token")
    query = parse_qs(urlsplit(auth.response.headers["Location"]).query)
    assert query["error"] == ["unsupported_response_type"]
    form = {"grant_type": "password", "username": "maria@example.com", "password": "x"}
    response = client.post("/b/acme/oidc/token", data=form, auth=(desk.client_id, desk.secret))
    assert response.status_code == 400 and response.get_json()["error"] == "unsupported_grant_type"


def test_a_code_works_once(client, acme, desk, maria):
    auth = authorize(client, desk)
    assert exchange(client, desk, auth.code, auth.verifier).status_code == 200
    again = exchange(client, desk, auth.code, auth.verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(client, acme, desk, maria, monkeypatch):
    from core.identity.oidc import server

    auth = authorize(client, desk)
    later = server.utcnow() + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr(server, "utcnow", lambda: later)
    response = exchange(client, desk, auth.code, auth.verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_wrong_secret_or_another_clients_code_is_refused(client, acme, desk, maria, in_business):
    from core.extensions import db
    from core.identity.oidc.clients import register_client

    auth = authorize(client, desk)
    form = {"grant_type": "authorization_code", "code": auth.code, "redirect_uri": REDIRECT_URI,
            "code_verifier": auth.verifier}
    response = client.post("/b/acme/oidc/token", data=form, auth=(desk.client_id, "wrong"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    with in_business(acme):
        other, secret = register_client("Other", [REDIRECT_URI])
        db.session.commit()
        other_id = other.client_id
    response = client.post("/b/acme/oidc/token", data=form, auth=(other_id, secret))
    assert response.get_json()["error"] == "invalid_grant"


def test_a_nonce_is_required_and_never_reused(client, acme, desk, maria):
    auth = authorize(client, desk, nonce=None)
    assert parse_qs(urlsplit(auth.response.headers["Location"]).query)["error"] == ["invalid_request"]
    first = authorize(client, desk, nonce="same-nonce")
    assert "code=" in first.response.headers["Location"]
    second = authorize(client, desk, nonce="same-nonce")
    assert parse_qs(urlsplit(second.response.headers["Location"]).query)["error"] == ["invalid_request"]
