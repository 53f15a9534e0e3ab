"""Stripe settings: validated keys, the webhook address, and a "test connection" button that asks Stripe."""

from sqlalchemy import select

from core.extensions import db
from core.models import PluginState
from core.plugins.settings import save_settings
from core.tenancy import business_context
from core.testing.helpers import create_staff, csrf_token_from, login_staff


def test_keys_and_secrets_are_checked_and_stored_encrypted(app, shop):
    with app.app_context(), business_context(shop.id):
        errors = save_settings("payments_stripe", {"mode": "test", "test_secret_key": "pk_test_oops",
                                                   "live_secret_key": "sk_test_wrong_mode",
                                                   "webhook_secret": "secret"})
        db.session.rollback()
        stored = db.session.scalar(
            select(PluginState.settings).where(PluginState.plugin_name == "payments_stripe"))

    assert set(errors) == {"test_secret_key", "live_secret_key", "webhook_secret"}
    assert "sk_test_suprata_tests" not in str(stored) and "whsec_" not in str(stored)


def test_the_plugins_page_shows_the_webhook_address_and_tests_the_connection(app, client, shop):
    create_staff(app, shop)
    login_staff(client, shop)

    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    assert "Stripe payments" in page and "<code class=\"small muted\">payments_stripe</code>" in page
    assert "endpoint at <code>http://suprata.test/b/acme/stripe/webhook</code>" in page  # markup, not text
    assert '<button type="submit" class="secondary">Test connection</button>' in page
    response = client.post("/b/acme/console/stripe/test-connection",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)

    assert "Connected to Stripe in test mode." in response.get_data(as_text=True)


def test_without_a_key_the_button_says_what_to_do(app, client, make_business, stripe_api):
    business = make_business("acme", plugins=["payments_stripe"])
    create_staff(app, business)
    login_staff(client, business)

    page = client.get("/b/acme/console/plugins").get_data(as_text=True)
    response = client.post("/b/acme/console/stripe/test-connection",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)

    assert "Enter your Stripe test secret key first." in response.get_data(as_text=True)


def test_testing_the_connection_needs_a_staff_login(app, client, shop):
    login_page = client.get("/b/acme/console/login").get_data(as_text=True)

    response = client.post("/b/acme/console/stripe/test-connection",
                           data={"csrf_token": csrf_token_from(login_page)})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/b/acme/console/login")
