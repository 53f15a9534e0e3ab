"""Fixtures of the plugin's own, on top of those core ships (``app``, ``client``, ``db``, ``make_business``,
``in_business``, ``mailbox``, ...: see ``examples/conftest.py``). The app finds the plugin through its entry
point, so install it first: ``pip install -e examples/suprata-loyalty``."""

import pytest

from core.extensions import db
from core.identity.sessions import COOKIE_NAMES
from core.identity.tokens import new_token
from core.models import AuthSession
from core.tenancy import business_context


@pytest.fixture
def sign_in(app):
    """``sign_in(client, business, user)``: the client is logged in as ``user`` (staff or customer) the way
    a login page leaves it: a server-side session of the user's realm and that realm's cookie."""

    def sign_in_(client, business, user):
        token, token_hash = new_token()
        with app.app_context(), business_context(business.id):
            db.session.add(AuthSession(token_hash=token_hash, realm=user.realm, user_id=user.id))
            db.session.commit()
        client.set_cookie(COOKIE_NAMES[user.realm], token, path=f"/b/{business.slug}/")

    return sign_in_
