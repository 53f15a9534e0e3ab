"""Security headers on every route of the route table (core's and the plugins'): a Content-Security-Policy
whose nonce every inline script and style carries, no framing, no-store on private pages, and HSTS when
production serves https."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from core.testing.helpers import create_staff, csrf_token_from, login_staff

PASSWORD = "correct horse battery"
_TAG = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)


def _requests(app, prefix: str = ""):
    """(endpoint, method, path) for every rule, with made-up values for its variables."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        values = {name: 1 if isinstance(converter, IntegerConverter) else "x"
                  for name, converter in rule._converters.items()}
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule.endpoint, method, prefix + adapter.build(rule.endpoint, values, method=method)


def _realm(app, endpoint: str) -> str | None:
    return app.extensions["suprata"].blueprint_realms.get(endpoint.rpartition(".")[0])


@pytest.fixture
def owner(app, make_business):
    every_plugin = app.extensions["suprata"].plugins.plugin_names()
    acme = make_business("acme", name="Acme Plumbing", plugins=every_plugin)
    create_staff(app, acme, password=PASSWORD)
    client = app.test_client()
    assert login_staff(client, acme, password=PASSWORD).status_code == 302
    return client


def test_every_route_sends_the_policy_and_private_pages_are_not_stored(app, owner):
    pages = 0
    for endpoint, method, path in _requests(app, "/b/acme"):
        response = owner.open(path, method=method)
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, (endpoint, policy)
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
        assert f"style-src 'self' 'nonce-{nonce}'" in policy, endpoint
        assert headers["X-Frame-Options"] == "DENY"
        if _realm(app, endpoint) in ("staff", "customer"):
            assert headers["Cache-Control"] == "no-store", endpoint
        if response.status_code == 200 and response.mimetype == "text/html":
            pages += 1
            html = response.get_data(as_text=True)
            for tag, attributes in _TAG.findall(html):
                assert f'nonce="{nonce}"' in attributes, (endpoint, tag, attributes)
            assert not re.search(r"<[^>]+\sstyle=", html), endpoint  # inline style attributes are refused
    assert pages >= 15


def test_the_console_login_page_is_not_stored_either(client, make_business):
    make_business("acme")
    assert client.get("/b/acme/console/login").headers["Cache-Control"] == "no-store"


def test_a_template_preview_may_use_inline_styles_in_its_sandboxed_frame(app, owner):
    url = "/b/acme/console/settings/notifications/invoice_sent"
    page = owner.get(url).get_data(as_text=True)
    response = owner.post(url, data={"csrf_token": csrf_token_from(page), "subject": "Hi", "text": "Hello",
                                     "html": "<p style='color: red'>Hello</p>", "preview": "y"})
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self' 'nonce-" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_production_over_https_sends_hsts_on_every_route(production_app, make_business):
    every_plugin = production_app.extensions["suprata"].plugins.plugin_names()
    make_business("acme", hosts=["pay.acme.test"], plugins=every_plugin)
    client = production_app.test_client()
    for endpoint, method, path in _requests(production_app):
        secure = client.open(path, method=method, base_url="https://pay.acme.test")
        assert secure.headers.get("Strict-Transport-Security") == "max-age=31536000", endpoint
        assert "frame-ancestors 'none'" in secure.headers["Content-Security-Policy"]
    plain = client.get("/", base_url="http://pay.acme.test")
    assert "Strict-Transport-Security" not in plain.headers


def test_development_sends_no_hsts(client, make_business):
    make_business("acme")
    assert "Strict-Transport-Security" not in client.get("/b/acme/", base_url="https://localhost").headers
