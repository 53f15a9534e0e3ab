"""The audit trail: who did what, and when, to which record; every money action is here."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import or_, select

from core.console.blueprint import bp
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import AuditEntry
from core.money.amounts import format_money

PER_PAGE = 50
# What staff can narrow the trail to, each the action-name prefixes it covers.
ACTION_GROUPS = {
    "money": ("Money", ("payment.", "payment_method.", "autopay.")),
    "invoices": ("Invoices", ("invoice.",)),
    "customers": ("Customers", ("customer.",)),
    "setup": ("Settings, plugins and staff",
              ("business.", "plugin.", "template.", "staff.", "notification.")),
}
ACTION_LABELS = {
    "payment.captured": "Payment received",
    "payment.failed": "Payment failed",
    "payment.unapplied": "Payment not applied: refunded or held",
    "payment.charge_saved_method": "Saved card charged",
    "payment.refund_requested": "Refund requested",
    "payment.refunded": "Refunded",
    "payment.refund_failed": "Refund failed",
    "payment.automatic_refund_failed": "Automatic refund given up: refund by hand",
    "payment.checkout_not_closed": "Payment page could not be closed",
    "payment.checkout_opened": "Checkout opened",
    "payment.recorded": "Payment recorded by staff",
    "payment.reversed": "Payment reversed",
    "payment_method.saved": "Card saved",
    "payment_method.removed": "Card removed",
    "autopay.switched_on": "Autopay switched on, with consent",
    "autopay.switched_off": "Autopay switched off",
    "autopay.card_chosen": "Autopay card chosen",
    "autopay.card_removed": "Autopay card removed",
    "autopay.charge": "Automatic charge",
    "autopay.declined": "Automatic charge declined",
    "autopay.not_charged": "Automatic charge given up: the processor could not be reached",
    "invoice.created": "Invoice created",
    "invoice.updated": "Invoice changed",
    "invoice.corrected": "Sent invoice corrected",
    "invoice.duplicated": "Invoice copied from another",
    "invoice.reminded": "Payment reminder sent",
    "invoice.item_saved": "Saved item added",
    "invoice.item_archived": "Saved item archived",
    "invoice.sent": "Invoice sent",
    "invoice.resent": "Invoice sent again",
    "invoice.voided": "Invoice voided",
    "invoice.link_issued": "New pay link",
    "invoice.links_revoked": "Pay links revoked",
    "customer.created": "Customer added",
    "customer.updated": "Customer changed",
    "customer.invited": "Customer invited to the portal",
    "business.settings_changed": "Settings changed",
    "business.hosts_changed": "Web addresses changed",
    "business.sign_in_app_added": "Sign-in application registered",
    "business.sign_in_app_revoked": "Sign-in application revoked",
    "business.tax_rate_added": "Tax rate added",
    "business.tax_rate_default": "Default tax rate changed",
    "business.tax_rate_archived": "Tax rate archived",
    "plugin.enabled": "Plugin turned on",
    "plugin.disabled": "Plugin turned off",
    "plugin.settings_changed": "Plugin settings changed",
    "plugin.task_retried": "Plugin task retried",
    "template.changed": "Message template changed",
    "template.reset": "Message template reset",
    "notifications.changed": "Notification settings changed",
    "dkim.key_generated": "Email signing key generated",
    "staff.password_changed": "Password changed",
    "staff.password_set": "Password set from an emailed link",
    "staff.invited": "Staff member invited",
    "staff.role_changed": "Staff role changed",
    "staff.login_locked": "Login locked after failed attempts",
    "staff.deactivated": "Staff member deactivated",
    "staff.reactivated": "Staff member reactivated",
    "notification.retried": "Message sent again",
}


@bp.app_template_filter("audit_action")
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@bp.app_template_filter("audit_details")
def describe_details(details: dict | None) -> str:
    """The entry's details in words: amounts as money, the rest as "name: value"."""
    details = dict(details or {})
    currency = details.pop("currency", None)
    parts = []
    for key, value in details.items():
        if key == "amount" and isinstance(value, int):
            value = format_money(value, currency)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return " · ".join(parts)


def entries_about(target: str, limit: int) -> list[AuditEntry]:
    """The newest entries about one record (``"invoice ACME-0001"``)."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.target == target)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    ).all()


@bp.get("/audit")
@requires_permission("audit")
def audit_trail():
    """Newest first; narrowed by a group of actions and by the record's name (an invoice number, an email)."""
    group = request.args.get("group", "")
    record = request.args.get("record", "").strip()
    statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if group in ACTION_GROUPS:
        prefixes = ACTION_GROUPS[group][1]
        statement = statement.where(
            or_(*(AuditEntry.action.startswith(prefix, autoescape=True) for prefix in prefixes))
        )
    else:
        group = ""
    if record:
        statement = statement.where(AuditEntry.target.icontains(record, autoescape=True))
    page = db.paginate(statement, per_page=PER_PAGE, error_out=False)
    return render_template("console/audit.html", page=page, groups=ACTION_GROUPS, group=group, record=record)

