"""Stripe payments: hosted Checkout for pay links, saved cards with consent, refunds, signed webhooks."""

from flask import render_template, url_for

from core.plugin_api import PortalTab, hookimpl, public_url
from plugins.payments_stripe import models  # noqa: F401  (its tables join the metadata)
from plugins.payments_stripe.processor import StripeProcessor
from plugins.payments_stripe.settings import SETTINGS, settings_problems

TITLE = "Stripe payments"
API_VERSION = "2.8"


@hookimpl
def payment_processors():
    return StripeProcessor()


@hookimpl
def plugin_settings():
    return SETTINGS


@hookimpl
def plugin_settings_problems(settings):
    return settings_problems(settings)


@hookimpl
def register_blueprints(app):
    from plugins.payments_stripe.portal import portal
    from plugins.payments_stripe.views import public, staff

    app.register_blueprint(public)
    app.register_blueprint(staff)
    app.register_blueprint(portal)


@hookimpl
def render_portal_tab():
    return PortalTab(id="payment_methods", title="Payment methods",
                     url=url_for("payments_stripe_portal.methods"), order=50)


@hookimpl
def render_plugin_settings():
    return render_template("payments_stripe/connection.html",
                           webhook_url=public_url("payments_stripe_public.webhook"))
