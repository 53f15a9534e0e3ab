"""The help site signs customers in with the portal's login, over real HTTP between two servers: the
portal on 127.0.0.1 and the help site on localhost, each on its own port with its own cookies."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from core.extensions import db
from core.models import OidcClient
from core.tenancy import business_context
from plugins.helpdesk import sso
from tests.sso.conftest import Browser

HELP_HOME = "/b/acme/help/"


def test_get_help_signs_a_portal_customer_in_and_view_my_invoices_brings_them_back(maria_browser, sites):
    portal = maria_browser.http.get(sites.portal + "/portal/invoices", timeout=10).text
    get_help = re.search(r'<a href="([^"]+)">Get Help</a>', portal).group(1).replace("&amp;", "&")
    page, visited = maria_browser.walk(get_help)
    hosts = [urlsplit(url).hostname for url in visited]
    assert hosts == ["localhost", "127.0.0.1", "localhost", "localhost"], visited
    assert "/oidc/authorize" in visited[1] and "prompt=none" in visited[1]
    assert not any("/account/login" in url for url in visited)
    assert urlsplit(visited[-1]).path == HELP_HOME
    assert re.search(r'id="signed-in-as">Maria Garcia<', page.text)
    invoices = re.search(r'<a href="([^"]+)">View my invoices</a>', page.text).group(1)
    page, visited = maria_browser.walk(invoices)
    assert urlsplit(visited[-1]).hostname == "127.0.0.1"
    assert urlsplit(visited[-1]).path == "/b/acme/portal/invoices"
    assert "Log in to your account" not in page.text and "Maria Garcia" in page.text


def test_a_help_page_asked_for_at_the_portals_address_moves_to_the_help_site(sites):
    page, visited = Browser().walk(sites.portal + "/help/?q=tap")
    assert visited[-1] == sites.help + "/help/?q=tap" and page.status_code == 200


def test_a_visitor_without_a_portal_session_comes_back_not_signed_in(app, sites):
    browser = Browser()
    start = sites.help + "/help/sso/start?silent=1&next=/help/"
    page, visited = browser.walk(start)
    assert len(visited) == 4 and "/account/login" not in " ".join(visited)
    assert 'id="signed-in-as"' not in page.text and ">Sign in</a>" in page.text


def test_sign_in_from_the_help_site_goes_through_the_portal_login_once(app, sites):
    from core.testing.helpers import create_customer_login, csrf_token_from
    from core.testing.records import create_customer

    customer = create_customer(app, sites.business, "Maria Garcia", email="maria@example.com")
    create_customer_login(app, sites.business, customer.id, email="maria@example.com")
    browser = Browser()
    login_page, visited = browser.walk(sites.help + "/help/sso/start?next=/help/")
    assert urlsplit(visited[-1]).path == "/b/acme/account/login"
    response = browser.http.post(visited[-1], allow_redirects=False, timeout=10, data={
        "csrf_token": csrf_token_from(login_page.text), "email": "maria@example.com",
        "password": "correct horse battery"})
    response, visited = browser.walk(urljoin(visited[-1], response.headers["Location"]), until_path=HELP_HOME)
    assert [urlsplit(url).hostname for url in visited] == ["127.0.0.1", "localhost", "localhost"]
    assert sso.COOKIE in response.headers["Set-Cookie"]


def skewed_clock(real, skew: float, *, beyond: bool):
    """The help site's clock ``skew`` seconds behind the provider's (ahead when negative). The round trip
    takes its own time, a second or more on a busy machine, which narrows a gap measured on a running clock
    in one direction and widens it in the other; so the clock is stopped at the start where that time would
    carry the gap across the leeway, and runs where it can only keep the gap on the tested side."""
    stopped = real() - skew
    if (skew > 0) == beyond:
        return lambda: stopped
    return lambda: real() - skew


@pytest.mark.parametrize("skew", [119, -119])
def test_clocks_within_the_leeway_sign_in(maria_browser, sites, monkeypatch, skew):
    monkeypatch.setattr(sso, "clock", skewed_clock(sso.clock, skew, beyond=False))
    response, visited = maria_browser.walk(sites.help + "/help/sso/start?silent=1&next=/help/",
                                           until_path=HELP_HOME)
    assert sso.COOKIE in response.headers["Set-Cookie"]
    assert len(visited) == 4


@pytest.mark.parametrize("skew", [121, -121])
def test_clocks_beyond_the_leeway_give_a_clear_page_and_no_loop(app, maria_browser, sites, monkeypatch, skew):
    monkeypatch.setattr(sso, "clock", skewed_clock(sso.clock, skew, beyond=True))
    response, visited = maria_browser.walk(sites.help + "/help/sso/start?silent=1&next=/help/")
    assert response.status_code == 503
    assert "clocks of Acme Plumbing's servers disagree" in response.text
    assert len(visited) == 3  # help site, provider, help site's callback: one round trip, then the page
    with app.app_context(), business_context(sites.business.id):
        [client] = db.session.query(OidcClient).filter_by(plugin_name="helpdesk").all()
        # The offset measured is the skew plus or minus the round trip's own time (see skewed_clock).
        assert client.clock_offset == pytest.approx(skew, abs=10)
    # Pressing Get Help again: one more automatic trip, then the loop breaker answers with a page.
    maria_browser.walk(sites.help + "/help/sso/start?silent=1&next=/help/")
    response, visited = maria_browser.walk(sites.help + "/help/sso/start?silent=1&next=/help/")
    assert response.status_code == 200 and len(visited) == 1
    assert "couldn't sign you in automatically" in response.text
