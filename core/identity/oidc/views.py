"""The provider's endpoints: discovery, the published keys, authorization, token and logout.

They belong to the customer realm, so the authorization endpoint sees the portal's login, but guard
themselves (``login_exempt``): an OpenID Connect error goes back to the client only at a redirect URI
registered for it (as the standard says), and otherwise is a page here, never a redirect elsewhere.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from core.account import logins
from core.extensions import csrf
from core.identity.oidc import keys
from core.identity.oidc.clients import SCOPES, TOKEN_AUTH_METHODS
from core.identity.oidc.server import authorization, issuer
from core.plugins.blueprints import customer_blueprint, login_exempt

bp = customer_blueprint("oidc", __name__)

CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "name", "email", "email_verified")


def _endpoint(name: str) -> str:
    return issuer() + url_for(name, _external=False).removeprefix(request.script_root)


@bp.get("/.well-known/openid-configuration")
@login_exempt
def discovery():
    """The provider's metadata (OpenID Connect Discovery 1.0), for this business as issuer."""
    return jsonify({
        "issuer": issuer(),
        "authorization_endpoint": _endpoint("oidc.authorize"),
        "token_endpoint": _endpoint("oidc.token"),
        "jwks_uri": _endpoint("oidc.jwks"),
        "end_session_endpoint": _endpoint("oidc.logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "scopes_supported": list(SCOPES),
        "claims_supported": list(CLAIMS),
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "request_parameter_supported": False,
    })


@bp.get("/oidc/jwks")
@login_exempt
def jwks():
    """The public keys ID tokens are signed with: the current one and those retired too recently to drop."""
    return jsonify({"keys": keys.published_keys()})


def _signed_in_customer():
    """The customer signed in to the portal with a confirmed address, else None."""
    if current_user.is_authenticated and current_user.realm == "customer" and current_user.email_confirmed_at:
        return current_user._get_current_object()
    return None


@bp.get("/oidc/authorize")
@login_exempt
def authorize():
    """Sign the customer in to a client: straight back with a code while the portal session lives, through
    the login page otherwise (or ``login_required`` for ``prompt=none``)."""
    user = _signed_in_customer()
    try:
        grant = authorization.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error(error)
    if user is None:
        if current_user.is_authenticated:  # signed in, but the email address is not confirmed yet
            return redirect(url_for("account.unconfirmed"))
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    return authorization.create_authorization_response(grant_user=user, grant=grant)


@bp.post("/oidc/token")
@csrf.exempt
@login_exempt
def token():
    """Exchange a code for an ID token (client authenticated by its secret, PKCE verifier checked)."""
    return authorization.create_token_response()


@bp.route("/oidc/logout", methods=["GET", "POST"])
@login_exempt
def logout():
    """RP-initiated logout: sign out of the portal (and so of every client), then back to the client's
    registered address. Without a valid ID token naming us, the customer confirms first."""
    try:
        end = authorization.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return _error(error)
    if end.needs_confirmation and request.method == "GET":
        return render_template("oidc/logout_confirm.html", client=end.client,
                               fields={k: v for k, v in request.args.items() if k != "id_token_hint"})
    response = authorization.create_endpoint_response("end_session", end)
    if g.pop("oidc_end_session", False) and current_user.is_authenticated:
        logins.sign_out()
    return response or render_template("oidc/signed_out.html")


def _error(error: OAuth2Error):
    if error.redirect_uri:  # validated against the client's registered URIs by Authlib
        return authorization.handle_error_response(None, error)
    return render_template("oidc/error.html", error=error), error.status_code or 400
