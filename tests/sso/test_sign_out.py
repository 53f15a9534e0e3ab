"""Signing out of one signs out of both: the portal tells the help site by back-channel logout, and the help
site's sign-out goes through the provider's logout (RP-initiated), which ends the portal session."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from core.extensions import db
from core.tenancy import business_context
from core.testing.background import run_background_work
from core.testing.helpers import csrf_token_from
from plugins.helpdesk import sso

GET_HELP = "/help/sso/start?silent=1&next=/help/"
HELP_HOME = "/b/acme/help/"


def help_sessions(app, sites) -> list:
    with app.app_context(), business_context(sites.business.id):
        return [(row.ended_at is None) for row in db.session.scalars(select(sso.HelpSignIn))]


def test_logging_out_of_the_portal_signs_the_help_site_out(app, sites, maria_browser):
    maria_browser.walk(sites.help + GET_HELP, until_path=HELP_HOME)
    assert help_sessions(app, sites) == [True]
    page = maria_browser.http.get(sites.portal + "/account/", timeout=10)
    response = maria_browser.http.post(sites.portal + "/account/logout", allow_redirects=False, timeout=10,
                                       data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    assert run_background_work(app).tasks == 1  # the logout notice, posted to the help site over HTTP
    assert help_sessions(app, sites) == [False]


def test_a_forged_logout_notice_is_refused(app, sites, maria_browser):
    import requests

    maria_browser.walk(sites.help + GET_HELP, until_path=HELP_HOME)
    response = requests.post(sites.help + "/help/sso/backchannel-logout", data={"logout_token": "x.y.z"},
                             timeout=10)
    assert response.status_code == 400 and response.json() == {"error": "invalid_request"}
    assert help_sessions(app, sites) == [True]


def test_signing_out_of_the_help_site_signs_out_of_the_portal(app, sites, maria_browser):
    maria_browser.walk(sites.help + GET_HELP, until_path=HELP_HOME)
    form = maria_browser.http.get(sites.help + "/account/login", timeout=10)  # any page of the help host
    response = maria_browser.http.post(sites.help + "/help/sso/sign-out", allow_redirects=False, timeout=10,
                                       data={"csrf_token": csrf_token_from(form.text)})
    page, visited = maria_browser.walk(response.headers["Location"])
    assert [urlsplit(url).hostname for url in visited] == ["127.0.0.1", "localhost"]
    assert "You are signed out" in page.text
    assert help_sessions(app, sites) == [False]
    account = maria_browser.http.get(sites.portal + "/account/", allow_redirects=False, timeout=10)
    assert account.status_code == 302 and "/account/login" in account.headers["Location"]


def test_a_logout_request_without_a_valid_id_token_asks_first_and_never_redirects_elsewhere(client, sites):
    response = client.get("/b/acme/oidc/logout", query_string={
        "post_logout_redirect_uri": "https://evil.example.com/", "client_id": "helpdesk-1"})
    assert response.status_code == 200 and "Log out of Acme Plumbing?" in response.get_data(as_text=True)
    response = client.get("/b/acme/oidc/logout", query_string={"id_token_hint": "not-a-token"})
    assert response.status_code == 400 and "Location" not in response.headers
