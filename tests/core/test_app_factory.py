"""App factory, configuration safety and business resolution."""

import pytest

from core import create_app
from core.config import DEMO_SECRET_KEY, ConfigurationError
from core.extensions import db
from core.tenancy.urls import public_url_for
from core.testing.fixtures import base_test_config


def test_production_refuses_the_demo_secret_key(app_config):
    config = dict(app_config, SUPRATA_ENV="production", SECRET_KEY=DEMO_SECRET_KEY)
    with pytest.raises(ConfigurationError, match="SUPRATA_SECRET_KEY"):
        create_app(config)


def test_production_refuses_to_start_without_a_public_url(app_config):
    config = dict(app_config, SUPRATA_ENV="production", SECRET_KEY="x" * 40, SUPRATA_PUBLIC_URL="")
    with pytest.raises(ConfigurationError, match="SUPRATA_PUBLIC_URL"):
        create_app(config)


def test_production_starts_with_real_settings(app_config):
    config = dict(app_config, SUPRATA_ENV="production", SECRET_KEY="x" * 40,
                  SUPRATA_PUBLIC_URL="https://pay.example.com")
    assert create_app(config).config["SUPRATA_ENV"] == "production"


def test_secrets_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPRATA_SECRET_KEY", "from-the-environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_business_by_path_prefix_and_by_host(app, client, make_business, db):
    make_business("acme", name="Acme Plumbing")
    make_business("bolt", name="Bolt Electric", hosts=["pay.bolt.test"])
    assert "Acme Plumbing" in client.get("/b/acme/").get_data(as_text=True)
    page = client.get("/", headers={"Host": "pay.bolt.test"})
    assert "Bolt Electric" in page.get_data(as_text=True)


def test_unknown_business_is_a_themed_404(client, db):
    response = client.get("/b/nobody/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_page_of_a_business_is_a_themed_404(client, make_business):
    make_business("acme", name="Acme Plumbing", phone="555-0100")
    response = client.get("/b/acme/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Acme Plumbing" in body and "555-0100" in body


def test_links_use_the_configured_public_url_not_the_host_header(app, make_business, in_business):
    acme = make_business("acme")
    own_host = make_business("bolt", hosts=["pay.bolt.example", "bolt.example"])
    with app.test_request_context("/", headers={"Host": "evil.example"}), in_business(acme):
        assert public_url_for("site.installation_home") == "http://suprata.test/b/acme/"
    with app.test_request_context("/", headers={"Host": "bolt.example"}), in_business(own_host):
        assert public_url_for("site.installation_home") == "http://pay.bolt.example/"  # the primary host


def test_security_headers_on_every_page(client, make_business):
    make_business("acme")
    response = client.get("/b/acme/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_second_app_instance_shares_the_database(app_config, make_business, tmp_path):
    make_business("acme", name="Acme Plumbing")
    database_url, mail_port = app_config["SQLALCHEMY_DATABASE_URI"], app_config["MAIL_PORT"]
    other = create_app(base_test_config(database_url, tmp_path, mail_port))
    assert "Acme Plumbing" in other.test_client().get("/b/acme/").get_data(as_text=True)
    with other.app_context():
        db.engine.dispose()  # its pooled connection would otherwise be left open for the garbage collector
