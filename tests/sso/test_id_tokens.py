"""The help site accepts an ID token only from its provider, for itself and this sign-in: wrong audience,
issuer or nonce, a tampered payload, a token signed by another key or with another algorithm, and an
expired one are all refused; after a key rotation tokens signed with either key pass until the old one's
tokens have expired."""

from __future__ import annotations

import base64
import json
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from core.extensions import db
from core.identity.oidc import keys
from core.tenancy import business_context
from core.testing.helpers import run_cli
from plugins.helpdesk import sso


@pytest.fixture
def on_help_site(app, sites):
    """Run code as the help site's server does, inside a request to it."""

    @contextmanager
    def enter():
        with app.test_request_context("/help/sso/callback", base_url=sites.help), \
                business_context(sites.business.id):
            yield

    return enter


@pytest.fixture
def token_for(app, sites, on_help_site):
    """``token_for(**changes)``: an ID token as the provider would sign it for the help site, with changes."""
    with on_help_site():
        client_id, _ = sso._client()
        issuer = sso.sso_issuer()

    def make(*, key=None, kid=None, alg="ES256", **changes):
        now = int(time.time())
        claims = {"iss": issuer, "aud": client_id, "sub": "7", "nonce": "the-nonce", "iat": now,
                  "exp": now + 300, **changes}
        with on_help_site():
            row = keys.signing_key()
            signer = key or keys.private_key(row)
            return jwt.encode({"alg": alg, "kid": kid or row.kid}, claims, signer)

    make.client_id = client_id
    return make


def check(on_help_site, token_for, raw, nonce="the-nonce"):
    with on_help_site():
        return sso.check_id_token(raw, client_id=token_for.client_id, nonce=nonce)


def test_a_token_from_the_provider_for_this_sign_in_passes(on_help_site, token_for):
    assert check(on_help_site, token_for, token_for())["sub"] == "7"


@pytest.mark.parametrize("changes", [
    {"aud": "someone-else"},
    {"aud": ["someone-else", "also-not-us"]},
    {"iss": "http://127.0.0.1:1/b/globex"},
    {"nonce": "another-nonce"},
    {"exp": int(time.time()) - 200, "iat": int(time.time()) - 100},
])
def test_wrong_audience_issuer_nonce_or_expiry_is_refused(on_help_site, token_for, changes):
    with pytest.raises(sso.SignInFailed):
        check(on_help_site, token_for, token_for(**changes))


def test_a_tampered_payload_is_refused(on_help_site, token_for):
    header, payload, signature = token_for().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "1"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(sso.SignInFailed, match="not signed by the provider"):
        check(on_help_site, token_for, f"{header}.{forged}.{signature}")


def test_a_token_signed_by_another_key_or_algorithm_is_refused(on_help_site, token_for):
    stranger = ECKey.generate_key("P-256", private=True)
    with pytest.raises(sso.SignInFailed, match="not signed by the provider"):
        check(on_help_site, token_for, token_for(key=stranger))
    with pytest.raises(sso.SignInFailed, match="not signed by the provider"):
        check(on_help_site, token_for, token_for(key=stranger, kid=stranger.thumbprint()))
    secret = OctKey.import_key("a-shared-secret-that-is-long-enough-for-hs256")
    with pytest.raises(sso.SignInFailed, match="not signed by the provider"):
        check(on_help_site, token_for, token_for(key=secret, alg="HS256"))
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
    payload = token_for().split(".")[1]
    with pytest.raises(sso.SignInFailed, match="not signed by the provider"):
        check(on_help_site, token_for, f"{header}.{payload}.")


def test_key_rotation_keeps_the_old_key_published_until_its_tokens_expire(app, sites, on_help_site, token_for,
                                                                          monkeypatch):
    old_token = token_for()
    check(on_help_site, token_for, old_token)  # the help site now holds the key set with the old key
    result = run_cli(app, "suprata", "rotate-oidc-key", "--business", "acme")
    assert result.exit_code == 0 and "stays published for 7 minutes" in result.output
    new_token = token_for()
    assert json.loads(base64.urlsafe_b64decode(new_token.split(".")[0] + "==="))["kid"] != \
        json.loads(base64.urlsafe_b64decode(old_token.split(".")[0] + "==="))["kid"]
    assert check(on_help_site, token_for, new_token)  # an unknown key id: the key set is fetched again
    assert check(on_help_site, token_for, old_token)
    with on_help_site():
        assert len(keys.published_keys()) == 2
        retired = db.session.scalar(db.select(keys.OidcSigningKey).where(
            keys.OidcSigningKey.retired_at.is_not(None)))
        later = retired.retired_at + keys.published_for() + timedelta(seconds=1)
        monkeypatch.setattr(keys, "utcnow", lambda: later)
        assert [k["kid"] for k in keys.published_keys()] == [json.loads(
            base64.urlsafe_b64decode(new_token.split(".")[0] + "==="))["kid"]]
