"""The Stripe plugin's routes: the webhook endpoint (public, per business) and "test connection" (staff)."""

from __future__ import annotations

import logging
import os

import stripe
from flask import current_app, flash, redirect, request, url_for

from core.plugin_api import (
    ProcessorError,
    csrf,
    db,
    observe_webhook_lag,
    public_blueprint,
    record_processor_status,
    record_webhook_received,
    staff_blueprint,
)
from plugins.payments_stripe import webhooks
from plugins.payments_stripe.processor import NAME
from plugins.payments_stripe.settings import connection_problem, current_config

log = logging.getLogger("suprata.payments_stripe")

public = public_blueprint("payments_stripe_public", __name__)
# Testing the saved keys belongs with switching plugins and their settings.
staff = staff_blueprint("payments_stripe", __name__, url_prefix="/console/stripe",
                        template_folder="templates", permission="plugins")

# Seconds a signed event stays acceptable; older deliveries are replays and are refused. From the app config
# or the environment (Stripe's default, 300, otherwise).
WEBHOOK_TOLERANCE_SETTING = "SUPRATA_STRIPE_WEBHOOK_TOLERANCE"


@public.post("/stripe/webhook")
@csrf.exempt
def webhook():
    """Stripe's events for this business: signature checked on the raw body, each acted on once."""
    config = current_config()
    if not config.webhook_secret:
        return {"error": "no webhook signing secret is configured"}, 400
    tolerance = int(current_app.config.get(WEBHOOK_TOLERANCE_SETTING)
                    or os.environ.get(WEBHOOK_TOLERANCE_SETTING) or stripe.Webhook.DEFAULT_TOLERANCE)
    try:
        event = stripe.Webhook.construct_event(request.get_data(), request.headers.get("Stripe-Signature"),
                                               config.webhook_secret, tolerance=tolerance)
    except (ValueError, stripe.SignatureVerificationError):
        return {"error": "invalid signature"}, 400
    record_webhook_received(NAME)
    db.session.commit()
    try:
        outcome = webhooks.process(event)
    except ProcessorError:
        log.exception("could not act on Stripe event %s", event.id)
        return {"error": "try again later"}, 503
    if outcome == "done":
        observe_webhook_lag(NAME, event.created)
    return {"received": outcome}


@staff.post("/test-connection")
def test_connection():
    """Ask Stripe for the account's balance with the saved key, and say how that went."""
    config = current_config()
    if not config.secret_key:
        flash(f"Enter your Stripe {config.mode} secret key first.", "error")
        return redirect(url_for("console.plugins"))
    problem = connection_problem(config)
    record_processor_status(NAME, f"the {config.mode} key was refused ({problem})" if problem else None)
    db.session.commit()
    if problem:
        flash(f"Stripe refused the {config.mode} key: {problem}", "error")
    else:
        flash(f"Connected to Stripe in {config.mode} mode.", "success")
    return redirect(url_for("console.plugins"))
