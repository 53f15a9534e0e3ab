"""Staff register an external help desk (secret shown once), revoke it, and see an alert when a client
measured the servers' clocks apart; ``suprata doctor`` reports the measured offsets."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from core.identity.oidc.clients import report_clock_offset
from core.identity.tokens import hash_token
from core.models import OidcClient
from core.testing.helpers import run_cli, sign_in_staff, submit_form


def test_an_admin_registers_an_external_help_desk_and_sees_the_secret_once(app, client, acme, in_business):
    sign_in_staff(app, client, acme, "admin")
    response = submit_form(client, "/b/acme/console/sign-in-apps", {
        "name": "Example Desk", "redirect_uris": "https://desk.example.com/cb\n",
        "post_logout_redirect_uris": "", "backchannel_logout_uri": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="client-secret">([^<]+)<', page).group(1)
    with in_business(acme):
        row = db.session.scalar(select(OidcClient))
        assert row.secret_hash == hash_token(secret) and row.redirect_uris == ["https://desk.example.com/cb"]
    again = client.get("/b/acme/console/sign-in-apps").get_data(as_text=True)
    assert secret not in again and row.client_id in again
    assert "http://suprata.test/b/acme/.well-known/openid-configuration" in again
    page = client.get("/b/acme/console/sign-in-apps").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(f"/b/acme/console/sign-in-apps/{row.id}/revoke", data={"csrf_token": token})
    with in_business(acme):
        assert db.session.get(OidcClient, row.id).revoked_at is not None


def test_a_redirect_address_with_a_fragment_or_no_scheme_is_refused(app, client, acme):
    sign_in_staff(app, client, acme, "admin")
    response = submit_form(client, "/b/acme/console/sign-in-apps", {
        "name": "Desk", "redirect_uris": "desk.example.com/cb\nhttps://desk.example.com/cb#x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not a full web address" in page and "cannot have a # part" in page


def test_billing_and_support_staff_cannot_open_it(app, acme):
    for role in ("billing", "support"):
        staff = app.test_client()
        sign_in_staff(app, staff, acme, role)
        assert staff.get("/b/acme/console/sign-in-apps").status_code == 403


def test_a_clock_offset_beyond_the_leeway_is_an_alert_for_staff_and_in_doctor(app, client, acme, desk,
                                                                                in_business):
    sign_in_staff(app, client, acme, "support")
    assert "Single sign-on is failing" not in client.get("/b/acme/console/").get_data(as_text=True)
    with in_business(acme):
        report_clock_offset(desk.client_id, 121.4)
        db.session.commit()
    page = client.get("/b/acme/console/").get_data(as_text=True)
    assert "Single sign-on is failing" in page and "121 seconds behind" in page
    result = run_cli(app, "suprata", "doctor")
    assert "sign-in clock: acme: Example Desk measured +121 s against the login server" in result.output
    with in_business(acme):
        report_clock_offset(desk.client_id, -3)
        db.session.commit()
    assert "Single sign-on is failing" not in client.get("/b/acme/console/").get_data(as_text=True)
