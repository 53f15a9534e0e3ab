"""Test support for the help desk: a test client signed in on the help site, as single sign-on leaves a
browser (tests of the sign-in itself go through the provider over HTTP)."""

from __future__ import annotations

import secrets

from core.plugin_api import business_context, db, sso_issuer, utcnow
from plugins.helpdesk import sso


def sign_in_on_help_site(app, client, business, user) -> None:
    """Leave ``client`` signed in on ``business``'s help site as the customer login ``user``."""
    token = secrets.token_urlsafe(32)
    with app.app_context(), business_context(business.id):
        db.session.add(sso.HelpSignIn(token_hash=sso.token_hash(token), issuer=sso_issuer(),
                                      subject=str(user.id), customer_id=user.customer_id, id_token="",
                                      expires_at=utcnow() + sso.SESSION_TTL))
        db.session.commit()
    client.set_cookie(sso.COOKIE, token, path=f"/b/{business.slug}/")
