"""Online payment never stops silently: live mode is saved only with what it needs, and the dashboard's
"Needs a look" says when customers cannot pay online (no processor, keys failing, webhooks not arriving
while checkouts were opened) and counts the pay links that said so."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.models import AuditEntry, InvoiceView, Payment, PluginState, ProcessorHealth
from core.plugins.settings import save_settings
from core.tenancy import business_context, utcnow
from core.testing.helpers import create_staff, csrf_token_from, login_staff
from core.testing.records import issue_invoice, switch_plugin
from plugins.payments_stripe.testing import WEBHOOK_SECRET, deliver, pay_now

PLUGINS = "/b/acme/console/plugins"
DASHBOARD = "/b/acme/console/"


def _owner(app, client, business):
    create_staff(app, business)
    assert login_staff(client, business).status_code == 302
    return client


def _save_stripe(client, **fields):
    page = client.get(PLUGINS).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "payments_stripe-setting_mode": "test", **{
        f"payments_stripe-setting_{name}": value for name, value in fields.items()}}
    return client.post(f"{PLUGINS}/payments_stripe/settings", data=data)


def _stored_mode(app, db, business):
    with app.app_context(), business_context(business.id):
        return db.session.scalar(select(PluginState.settings)
                                 .where(PluginState.plugin_name == "payments_stripe"))["mode"]


def test_live_mode_without_a_live_key_is_refused_with_what_to_do(app, db, client, shop):
    owner = _owner(app, client, shop)
    response = _save_stripe(owner, mode="live")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Live mode needs your live secret key (sk_live_… from Stripe&#39;s dashboard" in page
    assert "keep the mode on Test" in page
    assert _stored_mode(app, db, shop) == "test"


def test_a_live_key_stripe_does_not_accept_is_refused(app, db, client, shop):
    # Live mode always talks to Stripe itself, never to a test server: here, with no way out, the check fails
    # (and Stripe would refuse this made-up key anyway), so live mode is not saved.
    owner = _owner(app, client, shop)
    response = _save_stripe(owner, mode="live", live_secret_key="sk_live_made_up",
                            webhook_secret=WEBHOOK_SECRET)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Stripe did not accept this live key:" in page
    assert _stored_mode(app, db, shop) == "test"


def test_live_mode_needs_the_webhook_signing_secret_too(app, db, client, shop):
    with app.app_context(), business_context(shop.id):
        db.session.execute(update(PluginState).values(settings={}))  # no webhook secret stored
        errors = save_settings("payments_stripe", {"mode": "live", "live_secret_key": "sk_live_made_up"})
        db.session.rollback()
    assert "without it no payment is marked paid" in errors["webhook_secret"]


def test_settings_changes_are_audited_with_secrets_hidden(app, db, client, shop, in_business):
    owner = _owner(app, client, shop)
    assert _save_stripe(owner, test_secret_key="sk_test_rotated").status_code == 302
    with in_business(shop):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plugin.settings_changed"))
    assert entry.details == {"test_secret_key": "changed (hidden)"}
    assert "sk_test_rotated" not in str(entry.details)


def test_no_processor_is_said_and_unavailable_pay_links_are_counted(app, db, client, shop, in_business):
    owner = _owner(app, client, shop)
    switch_plugin(app, shop, "payments_stripe", on=False)
    _, token = issue_invoice(app, shop)
    page = client.get(f"/b/acme/pay/{token}").get_data(as_text=True)
    assert "Online payment isn't available" in page and 'href="tel:+15550100"' in page
    client.get(f"/b/acme/pay/{token}")
    dashboard = owner.get(DASHBOARD).get_data(as_text=True)
    assert "Customers can&#39;t pay online: no payment processor is connected." in dashboard
    assert "Pay links told customers “Online payment isn&#39;t available” 2 times in the last 30 days." \
        in dashboard
    with in_business(shop):
        assert db.session.scalars(select(InvoiceView.payment_offered)).all() == [False, False]


def test_a_refused_key_shows_until_a_call_works_again(app, db, client, shop, stripe_api, in_business):
    owner = _owner(app, client, shop)
    assert "Online payment works" in owner.get(DASHBOARD).get_data(as_text=True)
    with in_business(shop):  # a restricted key the (test) server does not accept
        assert save_settings("payments_stripe", {"mode": "test", "test_secret_key": "rk_test_revoked",
                                                 "webhook_secret": WEBHOOK_SECRET}) == {}
        db.session.commit()
    app.extensions["suprata"].businesses.forget(shop.id)
    _, token = issue_invoice(app, shop)
    assert "couldn" in client.get(pay_now(client, shop, token).headers["Location"]).get_data(as_text=True)
    dashboard = owner.get(DASHBOARD).get_data(as_text=True)
    assert "Calls to Stripe are failing: a payment page could not be opened" in dashboard
    page = owner.get(PLUGINS).get_data(as_text=True)
    owner.post("/b/acme/console/stripe/test-connection", data={"csrf_token": csrf_token_from(page)})
    dashboard = owner.get(DASHBOARD).get_data(as_text=True)
    assert "Calls to Stripe are failing: the test key was refused" in dashboard

    _save_stripe(owner, test_secret_key="sk_test_suprata_tests")
    owner.post("/b/acme/console/stripe/test-connection", data={"csrf_token": csrf_token_from(page)})
    assert "Calls to Stripe are failing" not in owner.get(DASHBOARD).get_data(as_text=True)


def test_webhooks_not_arriving_for_a_day_while_checkouts_were_opened(app, db, client, shop, stripe_api, inbox,
                                                                     in_business):
    owner = _owner(app, client, shop)
    _, token = issue_invoice(app, shop)
    session_id = pay_now(client, shop, token).headers["Location"].rsplit("/", 1)[1]
    assert "webhook" not in owner.get(DASHBOARD).get_data(as_text=True)  # opened just now: nothing to say yet
    with in_business(shop):
        db.session.execute(update(Payment).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    dashboard = owner.get(DASHBOARD).get_data(as_text=True)
    assert "No webhook from Stripe has arrived for a day, though customers opened 1 payment page" in dashboard

    stripe_api.v1.checkout.sessions.expire(session_id)  # Stripe's news of it arrives now
    deliver(client, shop, inbox.wait_for("checkout.session.expired", session_id))
    with in_business(shop):
        assert db.session.scalar(select(ProcessorHealth.last_webhook_at)) is not None
    assert "No webhook from Stripe" not in owner.get(DASHBOARD).get_data(as_text=True)
