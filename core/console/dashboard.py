"""The console's first page: what came in this month, what is owed and for how long, and what needs a look.

"Needs a look" holds payments that may have stopped, and the few operational figures a business cares about
(the installation's operators read the same ones, for every business, from Prometheus): notifications still
waiting and how long the oldest has waited, notifications that failed, charges that failed recently, and
plugin errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import case, func, select

from core.console.blueprint import bp
from core.extensions import db
from core.identity.oidc.clients import clock_alerts
from core.identity.roles import can, requires_permission
from core.models import ActivityEvent, Customer, Invoice, OutboxMessage, Payment, PluginError, Refund
from core.money.payments.health import payment_problems
from core.tenancy import utcnow
from core.tenancy.state import current_business

RECENT_ROWS = 10
# Outstanding money by how many days past its due date (an invoice without one: its issue date).
AGE_BUCKETS = (("current", "Not yet due"), ("1-30", "1–30 days"), ("31-60", "31–60 days"),
               ("61-90", "61–90 days"), ("90+", "Over 90 days"))


@dataclass(frozen=True)
class Figures:
    collected: int
    refunded: int
    outstanding: dict[str, tuple[int, int]]  # bucket -> (invoices, amount)
    overdue: int

    @property
    def outstanding_total(self) -> int:
        return sum(amount for _, amount in self.outstanding.values())


def money_figures(now: datetime | None = None) -> Figures:
    """The business's money at a glance, in its time zone: collected and refunded since the first of the
    month, open balances by age, and how many invoices are past their due date."""
    zone = ZoneInfo(current_business().timezone)
    local_now = (now or utcnow()).astimezone(zone)
    today = local_now.date()
    month_start = datetime.combine(today.replace(day=1), time(), zone)
    collected = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(Payment.status == "succeeded", Payment.captured_at >= month_start))
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status == "succeeded", Refund.created_at >= month_start, Payment.status == "succeeded"))
    owed_since = func.coalesce(Invoice.due_date, Invoice.issue_date)
    bucket = case(
        (owed_since.is_(None), "current"),
        (owed_since >= today, "current"),
        (owed_since >= today - timedelta(days=30), "1-30"),
        (owed_since >= today - timedelta(days=60), "31-60"),
        (owed_since >= today - timedelta(days=90), "61-90"),
        else_="90+",
    ).label("bucket")
    rows = db.session.execute(
        select(bucket, func.count(Invoice.id),
               func.coalesce(func.sum(Invoice.total - Invoice.amount_paid), 0))
        .where(Invoice.status == "open").group_by(bucket)).all()
    outstanding = {name: (0, 0) for name, _ in AGE_BUCKETS} | {name: (count, amount)
                                                                for name, count, amount in rows}
    overdue = db.session.scalar(select(func.count(Invoice.id))
                                .where(Invoice.status == "open", Invoice.due_date < today))
    return Figures(collected, refunded, outstanding, overdue)
FAILED_CHARGES_WINDOW = timedelta(days=30)


@bp.get("/")
@requires_permission("console")
def dashboard():
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
        figures=money_figures() if can("invoices.view") else None,
        age_buckets=AGE_BUCKETS,
        payment_problems=payment_problems() if can("invoices.view") or can("plugins") else [],
        recent_payments=recent_payments,
        recent_activity=recent_activity,
        failed_notifications=failed_notifications,
        waiting_notifications=waiting_notifications,
        oldest_waiting=oldest_waiting,
        failed_charges=failed_charges,
        failed_charges_days=FAILED_CHARGES_WINDOW.days,
        plugin_errors=plugin_errors,
    )
