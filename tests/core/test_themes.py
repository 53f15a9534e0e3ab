"""Themes: a business's theme overrides templates, can extend the default's, and never leaks to another
business through Jinja's template cache."""

import pytest

HARBOR_STYLE = '<style id="theme-harbor" nonce="'
DEFAULT_FOOTER = '<footer class="site-footer">'


@pytest.fixture
def two_themes(make_business):
    return (make_business("acme", name="Acme Plumbing"),
            make_business("harbor", name="Harbor Electric", theme="harbor"))


def home(client, slug: str) -> str:
    page = client.get(f"/b/{slug}/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_theme_overrides_base_html_and_extends_the_default(two_themes, client):
    html = home(client, "harbor")
    assert HARBOR_STYLE in html
    assert DEFAULT_FOOTER in html  # the rest of the layout is the default theme's base.html
    assert "<h1>Harbor Electric</h1>" in html  # the page itself is the default theme's business_home.html


def test_businesses_rendered_alternately_each_get_their_own_theme(two_themes, client):
    for _ in range(2):
        assert HARBOR_STYLE not in home(client, "acme")
        assert HARBOR_STYLE in home(client, "harbor")


def test_an_unknown_theme_falls_back_to_the_default(make_business, client):
    make_business("gone", theme="no-such-theme")
    html = home(client, "gone")
    assert DEFAULT_FOOTER in html
    assert HARBOR_STYLE not in html


def test_error_pages_wear_the_business_theme(two_themes, client):
    page = client.get("/b/harbor/no-such-page")
    assert page.status_code == 404
    assert HARBOR_STYLE in page.get_data(as_text=True)
