"""The console's first page: what is owed, what came in, and what needs a look.

"Needs a look" holds the few operational figures a business cares about (the installation's operators read
the same ones, for every business, from Prometheus): notifications still waiting and how long the oldest
has waited, notifications that failed, charges that failed recently, and plugin errors.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from sqlalchemy import func, select

from core.console.blueprint import bp
from core.extensions import db
from core.identity.oidc.clients import clock_alerts
from core.identity.roles import requires_permission
from core.models import ActivityEvent, Customer, Invoice, OutboxMessage, Payment, PluginError
from core.tenancy import utcnow

RECENT_ROWS = 10
FAILED_CHARGES_WINDOW = timedelta(days=30)


@bp.get("/")
@requires_permission("console")
def dashboard():
    open_count, amount_due = db.session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.total - Invoice.amount_paid), 0)).where(
            Invoice.status == "open"
        )
    ).one()
    recent_payments = db.session.execute(
        select(Payment, Customer.name, Invoice.number)
        .join(Customer, Payment.customer_id == Customer.id)
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Payment.status == "succeeded")
        .order_by(Payment.captured_at.desc(), Payment.id.desc())
        .limit(RECENT_ROWS)
    ).all()
    recent_activity = db.session.execute(
        select(ActivityEvent, Customer.name)
        .join(Customer, ActivityEvent.customer_id == Customer.id)
        .order_by(ActivityEvent.at.desc(), ActivityEvent.id.desc())
        .limit(RECENT_ROWS)
    ).all()
    failed_notifications = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "failed")
    )
    waiting_notifications, oldest_waiting = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(("pending", "sending")))
    ).one()
    failed_charges = db.session.scalar(
        select(func.count(Payment.id))
        .where(Payment.status == "failed", Payment.created_at >= utcnow() - FAILED_CHARGES_WINDOW)
    )
    plugin_errors = db.session.scalar(
        select(func.count(PluginError.id)).where(PluginError.created_at >= utcnow() - timedelta(hours=24))
    )
    return render_template(
        "console/dashboard.html",
        clock_alerts=clock_alerts(),
        leeway=current_app.config["SUPRATA_SSO_LEEWAY_SECONDS"],
        open_count=open_count,
        amount_due=amount_due,
        recent_payments=recent_payments,
        recent_activity=recent_activity,
        failed_notifications=failed_notifications,
        waiting_notifications=waiting_notifications,
        oldest_waiting=oldest_waiting,
        failed_charges=failed_charges,
        failed_charges_days=FAILED_CHARGES_WINDOW.days,
        plugin_errors=plugin_errors,
    )
