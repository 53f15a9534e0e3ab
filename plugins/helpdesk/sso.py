"""The help site's own sign-in: an OpenID Connect relying party of the business's provider (core).

The help site is served at an address of its own (the "Help site address" setting), so the browser keeps
its cookie apart from the portal's, and being signed in here is a session of the help site's own: one row of
:class:`HelpSignIn`, made only from an ID token that passed every check (signature with the provider's
published keys and ES256 only, issuer, audience, nonce, expiry and issue time within the clock leeway).
A customer is known by the token's issuer and subject. Everything goes over HTTP to the provider's
published endpoints with Authlib's client, exactly as an external help desk would do it.

Servers' clocks matter: an ID token's issue time that differs from this server's clock by more than the
leeway (``SUPRATA_SSO_LEEWAY_SECONDS``, 120 by default) is refused with a page that says the clocks
disagree, and the offset is reported for staff. Automatic round trips to the provider are counted, and
after :data:`MAX_AUTOMATIC_TRIPS` in a short while the visitor gets a page instead of another redirect, so
nobody is bounced between the portal and the help site.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app, g, redirect, request, session
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.plugin_api import (
    SSO_LOGOUT_EVENT,
    Customer,
    CustomerUser,
    Setting,
    TenantScoped,
    UTCDateTime,
    db,
    public_url,
    report_sso_clock_offset,
    settings_of,
    sso_client,
    sso_issuer,
    utcnow,
)

log = logging.getLogger("suprata.helpdesk.sso")

ALGORITHM = "ES256"
SCOPE = "openid profile email"
COOKIE = "suprata_help"
SESSION_TTL = timedelta(hours=12)
FLOW_KEY = "helpdesk_sso_flow"
TRIPS_KEY = "helpdesk_sso_trips"
MAX_AUTOMATIC_TRIPS = 2
TRIP_WINDOW_SECONDS = 120
HTTP_TIMEOUT_SECONDS = 5
METADATA_TTL_SECONDS = 300


def clock() -> float:
    """This server's time, in seconds (a function, so tests can set the clock)."""
    return time.time()


class HelpSignIn(TenantScoped, db.Model):
    """A customer signed in on the help site: the cookie holds a random token, we keep its hash."""

    __tablename__ = "helpdesk_sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    id_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _check_address(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("Enter the help site's address, like https://help.example.com (with /b/<name> in "
                         "development), without anything after it.")


SETTINGS = [
    Setting(
        name="site_address",
        label="Help site address",
        default="",
        help="Where customers reach the help site, on a host name of its own so its sign-in is its own "
             "(add the host name to Settings > Web addresses too). Blank: the business's own address.",
        validate=_check_address,
    ),
]


# -- addresses ---------------------------------------------------------------------------------------------


def site_address() -> str:
    """The help site's base address, without a trailing slash."""
    configured = (settings_of(__name__).get("site_address") or "").strip().rstrip("/")
    return configured or public_url("site.installation_home").rstrip("/")


def site_url(endpoint: str, **values) -> str:
    """An absolute link to a page of this app on the help site's address."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return site_address() + adapter.build(endpoint, values, force_external=False)


def is_on_site() -> bool:
    """Whether this request came to the help site's own address (always, when none is configured)."""
    if not (settings_of(__name__).get("site_address") or "").strip():
        return True
    return (request.host_url.rstrip("/") + request.script_root) == site_address()


def is_help_site_page() -> bool:
    """Whether this request is for a page of the help site (not the portal's Tickets tab or the console)."""
    return request.blueprint in ("helpdesk", "helpdesk_sso")


def stay_on_site():
    """before_request of the help site: a page asked for at another address is served at its own, where
    its sign-in cookie lives."""
    if request.method in ("GET", "HEAD") and not is_on_site():
        query = request.query_string.decode("utf-8", "replace")
        return redirect(site_address() + request.path + (f"?{query}" if query else ""))
    return None


def not_cached(response):
    """after_request of the help site's pages: they change with who is signed in, so nothing keeps them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _client() -> tuple[str, str]:
    return sso_client(__name__, name="Help site",
                      redirect_uris=[site_url("helpdesk_sso.callback")],
                      post_logout_redirect_uris=[site_url("helpdesk_sso.signed_out")],
                      backchannel_logout_uri=site_url("helpdesk_sso.backchannel_logout"))


# -- the provider, over HTTP -------------------------------------------------------------------------------

_metadata: dict[str, tuple[float, dict]] = {}
_key_sets: dict[str, KeySet] = {}


def provider() -> dict:
    """The provider's discovery document (cached a few minutes), checked to name our issuer."""
    issuer = sso_issuer()
    cached = _metadata.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
        return cached[1]
    response = requests.get(issuer + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    metadata = response.json()
    if metadata.get("issuer") != issuer:
        raise SignInFailed("the provider's discovery document names another issuer")
    _metadata[issuer] = (time.monotonic(), metadata)
    return metadata


def provider_keys(*, refresh: bool = False) -> KeySet:
    """The provider's published keys; fetched again when a token names a key we have not seen (rotation)."""
    jwks_uri = provider()["jwks_uri"]
    if refresh or jwks_uri not in _key_sets:
        response = requests.get(jwks_uri, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        _key_sets[jwks_uri] = KeySet.import_key_set(response.json())
    return _key_sets[jwks_uri]


# -- checking tokens ---------------------------------------------------------------------------------------


class SignInFailed(Exception):
    """Signing in did not work; ``retry`` when starting over may (a stale or replayed step)."""

    def __init__(self, reason: str, *, retry: bool = False):
        super().__init__(reason)
        self.retry = retry


class ClocksDisagree(SignInFailed):
    """The token's issue time is further from our clock than the leeway allows."""

    def __init__(self, offset: float):
        super().__init__(f"the provider's clock is {offset:+.0f} s from ours")
        self.offset = offset


def leeway() -> int:
    return int(current_app.config["SUPRATA_SSO_LEEWAY_SECONDS"])


def _decode(raw: str):
    """The token, its signature checked with the provider's keys, ES256 only."""
    try:
        keys = provider_keys()
        kid = jws.extract_compact(raw.encode()).headers().get("kid")
        if kid not in {key.kid for key in keys.keys}:
            keys = provider_keys(refresh=True)
        return jwt.decode(raw, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        raise SignInFailed(f"the token is not signed by the provider: {exc}") from None


def check_id_token(raw: str, *, client_id: str, nonce: str) -> dict:
    """The claims of an ID token from our provider for this client and sign-in, or SignInFailed."""
    claims = _decode(raw).claims
    now = clock()
    issued = claims.get("iat")
    if isinstance(issued, int | float):
        offset = issued - now
        if abs(offset) > leeway():
            raise ClocksDisagree(offset)
    registry = jwt.JWTClaimsRegistry(
        now=int(now), leeway=leeway(),
        iss={"essential": True, "value": sso_issuer()}, aud={"essential": True, "value": client_id},
        sub={"essential": True}, nonce={"essential": True, "value": nonce},
        exp={"essential": True}, iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignInFailed(f"the ID token does not hold: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInFailed("the ID token is meant for several clients, and not authorised for us")
    return claims


def check_logout_token(raw: str, *, client_id: str) -> dict:
    """The claims of a back-channel logout token from our provider for this client, or SignInFailed."""
    claims = _decode(raw).claims
    registry = jwt.JWTClaimsRegistry(
        now=int(clock()), leeway=leeway(),
        iss={"essential": True, "value": sso_issuer()}, aud={"essential": True, "value": client_id},
        iat={"essential": True}, exp={"essential": True}, jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignInFailed(f"the logout token does not hold: {exc}") from None
    if SSO_LOGOUT_EVENT not in (claims.get("events") or {}) or "nonce" in claims:
        raise SignInFailed("not a logout token")
    if not claims.get("sid") and not claims.get("sub"):
        raise SignInFailed("the logout token names no session and no customer")
    return claims


# -- the flow ----------------------------------------------------------------------------------------------


def _recent_trips() -> list[float]:
    now = clock()
    return [t for t in session.get(TRIPS_KEY, []) if now - t < TRIP_WINDOW_SECONDS]


def may_go_automatically() -> bool:
    """Whether another automatic round trip to the provider is allowed (the loop breaker)."""
    return len(_recent_trips()) < MAX_AUTOMATIC_TRIPS


def authorization_url(next_path: str, *, silent: bool) -> str:
    """Where to send the browser to sign in: the provider's authorization endpoint, with a fresh state,
    nonce and PKCE verifier kept in this browser's session. ``silent`` asks for no login page
    (``prompt=none``) and counts as an automatic round trip."""
    client_id, secret = _client()
    oauth = OAuth2Session(client_id, secret, scope=SCOPE, redirect_uri=site_url("helpdesk_sso.callback"),
                          code_challenge_method="S256")
    verifier, nonce = generate_token(64), generate_token(32)
    extra = {"prompt": "none"} if silent else {}
    url, state = oauth.create_authorization_url(provider()["authorization_endpoint"], code_verifier=verifier,
                                                nonce=nonce, **extra)
    session[FLOW_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path,
                         "silent": silent}
    if silent:
        session[TRIPS_KEY] = [*_recent_trips(), clock()]
    return url


@dataclass
class Finished:
    """What a callback came to: a new sign-in (its cookie token), or none (the visitor is not signed in at
    the portal), and where to go next."""

    next_path: str
    token: str | None


def finish(args) -> Finished:
    """Complete a sign-in from the provider's answer at the callback; SignInFailed or ClocksDisagree."""
    flow = session.pop(FLOW_KEY, None)
    if flow is None or not secrets.compare_digest(str(args.get("state", "")), flow["state"]):
        raise SignInFailed("the sign-in was started elsewhere or already finished", retry=True)
    error = args.get("error")
    if error:
        if flow["silent"] and error in ("login_required", "interaction_required", "consent_required"):
            return Finished(flow["next"], None)
        raise SignInFailed(f"the provider answered {error}")
    client_id, secret = _client()
    oauth = OAuth2Session(client_id, secret, redirect_uri=site_url("helpdesk_sso.callback"))
    try:
        tokens = oauth.fetch_token(provider()["token_endpoint"], grant_type="authorization_code",
                                   code=args.get("code", ""), code_verifier=flow["verifier"],
                                   timeout=HTTP_TIMEOUT_SECONDS)
    except (OAuthError, requests.RequestException) as exc:
        raise SignInFailed(f"the provider refused the code: {exc}", retry=True) from None
    try:
        claims = check_id_token(tokens.get("id_token", ""), client_id=client_id, nonce=flow["nonce"])
    except ClocksDisagree as skew:
        report_sso_clock_offset(client_id, skew.offset)
        db.session.commit()
        log.warning("help site sign-in refused: %s", skew)
        raise
    report_sso_clock_offset(client_id, claims["iat"] - clock())
    session.pop(TRIPS_KEY, None)
    return Finished(flow["next"], _start(claims, tokens["id_token"]))


def _start(claims: dict, id_token: str) -> str:
    """A help site session for the customer the token names (by issuer and subject); commits."""
    customer_id = db.session.scalar(select(CustomerUser.customer_id).where(
        CustomerUser.id == int(claims["sub"]), CustomerUser.active.is_(True)))
    if customer_id is None:
        raise SignInFailed("the token names no active login of this business")
    token = secrets.token_urlsafe(32)
    db.session.add(HelpSignIn(token_hash=token_hash(token), issuer=claims["iss"], subject=claims["sub"],
                              sid=claims.get("sid"), customer_id=customer_id, id_token=id_token,
                              expires_at=utcnow() + SESSION_TTL))
    db.session.commit()
    return token


def token_hash(token: str) -> str:
    """What is kept of a help site session's cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- who is signed in, and signing out ----------------------------------------------------------------------


def current_sign_in() -> tuple[HelpSignIn, Customer] | None:
    """This browser's live help site session and its customer (one query, once per request)."""
    if "helpdesk_sign_in" not in g:
        token = request.cookies.get(COOKIE)
        found = None
        if token:
            found = db.session.execute(
                select(HelpSignIn, Customer).join(Customer, Customer.id == HelpSignIn.customer_id)
                .where(HelpSignIn.token_hash == token_hash(token), HelpSignIn.ended_at.is_(None),
                       HelpSignIn.expires_at > utcnow(), HelpSignIn.issuer == sso_issuer())
            ).first()
        g.helpdesk_sign_in = tuple(found) if found else None
    return g.helpdesk_sign_in


def signed_in_customer() -> Customer | None:
    """The customer signed in on the help site, else None."""
    found = current_sign_in()
    return found[1] if found else None


def end_here() -> str | None:
    """End this browser's help site session; the provider's logout address to go on to (which signs out
    of the portal too and comes back), or None when nobody was signed in. Commits."""
    found = current_sign_in()
    if found is None:
        return None
    row = found[0]
    row.ended_at = utcnow()
    db.session.commit()
    g.helpdesk_sign_in = None
    client_id, _ = _client()
    query = urlencode({"id_token_hint": row.id_token, "client_id": client_id,
                       "post_logout_redirect_uri": site_url("helpdesk_sso.signed_out")})
    return provider()["end_session_endpoint"] + "?" + query


def end_for_logout_token(raw: str) -> int:
    """End the sessions a back-channel logout token names; how many. Commits."""
    client_id, _ = _client()
    claims = check_logout_token(raw, client_id=client_id)
    if claims.get("sid"):
        condition = HelpSignIn.sid == claims["sid"]
    else:
        condition = HelpSignIn.subject == claims["sub"]
    result = db.session.execute(
        update(HelpSignIn).where(condition, HelpSignIn.issuer == claims["iss"], HelpSignIn.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def set_cookie(response, token: str | None):
    """Write (or, with None, remove) the help site's cookie on ``response``."""
    path = (request.script_root or "") + "/"
    if token is None:
        response.delete_cookie(COOKIE, path=path)
    else:
        response.set_cookie(COOKIE, token, path=path, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"],
                            max_age=int(SESSION_TTL.total_seconds()))
    return response
