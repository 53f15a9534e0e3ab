"""Business settings: name, contact details, email sender, region, branding, numbering and policies."""

from __future__ import annotations

import hashlib
from datetime import date
from email.utils import formataddr, parseaddr

from flask import flash, redirect, render_template, request, url_for

from core.activity import audit, describe_changes
from core.console.blueprint import bp
from core.console.forms import SettingsForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.models import Business
from core.money.amounts import format_money
from core.money.autopay.rules import first_live_payment_at
from core.tenancy.state import business_cache, current_business
from core.web.helpers import format_date

POLICY_FIELDS = (
    "autopay_kinds",
    "card_expiry_notice_days",
    "duplicate_payments",
    "tax_rounding",
    "invite_after_payment",
    "self_registration",
    "unknown_signup_policy",
    "login_to_pay",
    "verify_public_tickets",
)
# Policies written as "1, 3, 7" in the form.
DAY_LIST_FIELDS = ("autopay_retry_days", "reminder_days")
PLAIN_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "billing_email",
    "reply_to",
    "timezone",
    "currency",
    "locale",
    "brand_color",
    "accent_color",
    "theme",
    "invoice_prefix",
)


@bp.route("/settings", methods=["GET", "POST"])
@requires_permission("settings")
def settings():
    business = db.session.get(Business, current_business().id)
    form = SettingsForm(data=_form_data(business)) if request.method == "GET" else SettingsForm()
    if form.validate_on_submit():
        before = _form_data(business) | {"logo": business.logo_hash}
        _save(business, form)
        changes = describe_changes(before, _form_data(business) | {"logo": business.logo_hash})
        audit("business.settings_changed", f"business {business.slug}", **changes)
        db.session.commit()
        business_cache().forget(business.id)
        flash("Settings are saved.", "success")
        return redirect(url_for("console.settings"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "console/settings.html", form=form, has_logo=business.logo_mime is not None,
        locale_example=_written_in(business), first_live_payment_at=first_live_payment_at(),
    ), status


def _written_in(business: Business) -> str:
    """How the business's saved locale writes an amount and a date, to show beside the choice."""
    example = f"{format_money(123456, business.currency)} · {format_date(date(2026, 3, 14))}"
    return f"Amounts and dates are written like this: {example}."


def _form_data(business: Business) -> dict:
    sender_name, sender_address = parseaddr(business.mail_from or "")
    data = {name: getattr(business, name) for name in PLAIN_FIELDS}
    data.update({name: business.policy(name) for name in POLICY_FIELDS})
    data.update({name: ", ".join(str(day) for day in business.policy(name)) for name in DAY_LIST_FIELDS})
    data.update(mail_from_name=sender_name, mail_from_address=sender_address)
    return data


def _save(business: Business, form: SettingsForm) -> None:
    for name in PLAIN_FIELDS:
        setattr(business, name, (form[name].data or "").strip() or None)
    business.brand_color = form.brand_color.data.lower()
    business.accent_color = form.accent_color.data.lower()
    # One "Name <address>" value, the form mail libraries accept as a sender.
    address = (form.mail_from_address.data or "").strip()
    name = (form.mail_from_name.data or "").strip()
    business.mail_from = formataddr((name, address)) if address else None
    chosen = {name: form[name].data for name in POLICY_FIELDS if form[name].data is not None}
    business.policies = {**(business.policies or {}), **chosen,
                         **{name: form[name].days for name in DAY_LIST_FIELDS}}
    if form.logo_bytes is not None:
        business.logo, business.logo_mime = form.logo_bytes, form.logo_mime
        business.logo_hash = hashlib.sha256(form.logo_bytes).hexdigest()[:16]
    elif form.remove_logo.data:
        business.logo, business.logo_mime, business.logo_hash = None, None, None
