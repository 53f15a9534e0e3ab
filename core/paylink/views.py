"""Pay-link pages: one invoice, its payment, the return from the processor's page, the receipt. No login.

Every response (the "not valid" page too) is marked ``no-store`` and ``no-referrer``: the token in the
address is the key to the invoice, so neither caches nor the processor's page may keep it. Unknown, mutated,
revoked and expired tokens all get the same page, so a guess learns nothing.
"""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.activity import record
from core.extensions import db, limiter
from core.models import Invoice, InvoiceView, PayLink, Payment
from core.money.invoicing import find_pay_link
from core.money.payments.checkout import open_checkout
from core.money.payments.processor import connected_processor, processor_named
from core.money.payments.types import Consent, PaymentError, ProcessorError
from core.money.payments.wording import save_card_wording
from core.paylink.blueprint import bp
from core.plugins.events import emit_after_commit
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

log = logging.getLogger("suprata.paylink")

# Per address: generous for a person, slow for a script trying tokens. An installation behind a shared
# address (a load test, a corporate proxy) may change it with SUPRATA_PAYLINK_RATE_LIMIT.
DEFAULT_VIEW_LIMIT = "60 per minute"
CHECKOUT_LIMIT = "10 per minute"
# The return page refreshes itself every few seconds while the processor confirms.
RETURN_LIMIT = "60 per minute"
RETURN_REFRESH_SECONDS = 3


def view_limit() -> str:
    return current_app.config.get("SUPRATA_PAYLINK_RATE_LIMIT", DEFAULT_VIEW_LIMIT)


@bp.after_request
def private_response(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/pay/<token>")
@limiter.limit(view_limit)
def show(token: str):
    """The invoice behind the link; records the view and says when the previous one was."""
    link, last_viewed_at = _live_link(token, with_last_view=True)
    invoice = link.invoice
    processor = connected_processor() if invoice.status == "open" and invoice.amount_due > 0 else None
    # Rendered first: the view is then written in a short transaction, and the commit, which expires every
    # loaded row, comes after everything that reads them.
    page = render_template("paylink/invoice.html", invoice=invoice, token=token,
                           last_viewed_at=last_viewed_at, can_pay=processor is not None,
                           save_card_wording=save_card_wording(current_business().name))
    now = utcnow()
    owes = invoice.status == "open" and invoice.amount_due > 0
    db.session.add(InvoiceView(invoice_id=invoice.id, pay_link_id=link.id, viewed_at=now,
                               ip=request.remote_addr, user_agent=request.user_agent.string[:300] or None,
                               payment_offered=processor is not None if owes else None))
    if last_viewed_at is None:
        record(invoice.customer_id, surface="pay_link", kind="invoice.viewed",
               summary=f"Opened invoice {invoice.number} for the first time", invoice_id=invoice.id)
        emit_after_commit("on_invoice_viewed", invoice=invoice, when=now)
    db.session.commit()
    return page


@bp.post("/pay/<token>/checkout")
@limiter.limit(CHECKOUT_LIMIT)
def checkout(token: str):
    """Pay Now: a pending payment for the amount due, then off to the processor's hosted page."""
    invoice = _live_link(token)[0].invoice
    consent = None
    if request.form.get("save_card") == "yes":
        consent = Consent(at=utcnow(), text=save_card_wording(current_business().name),
                          ip=request.remote_addr, user_agent=request.user_agent.string[:300] or None)
    try:
        opened = open_checkout(
            invoice, source="pay_link", consent=consent,
            success_url=lambda payment: public_url_for("paylink.return_page", token=token, payment=payment),
            cancel_url=public_url_for("paylink.show", token=token),
        )
    except PaymentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("paylink.show", token=token))
    return redirect(opened.url, code=303)


@bp.get("/pay/<token>/return")
@limiter.limit(RETURN_LIMIT)
def return_page(token: str):
    """Back from the processor: "processing" until the processor confirms server-side, then "paid".

    The browser's arrival proves nothing; the payment is re-fetched from the processor here.
    """
    invoice = _live_link(token)[0].invoice
    payment = db.session.get(Payment, request.args.get("payment", type=int) or 0)
    if payment is None or payment.invoice_id != invoice.id:
        return redirect(url_for("paylink.show", token=token))
    if payment.status in ("pending", "expiring"):
        try:
            processor_named(payment.processor).refresh_payment(payment)
            db.session.commit()
        except (PaymentError, ProcessorError):
            log.exception("could not check payment %s with its processor", payment.id)
            db.session.rollback()
        payment = db.session.get(Payment, payment.id)
        invoice = db.session.get(Invoice, invoice.id)
    return render_template("paylink/return.html", invoice=invoice, payment=payment, token=token,
                           refresh_seconds=RETURN_REFRESH_SECONDS)


@bp.get("/pay/<token>/receipt")
@limiter.limit(view_limit)
def receipt(token: str):
    """The receipt of what was paid on the invoice (all of it, or so far), printable."""
    invoice = _live_link(token)[0].invoice
    if not invoice.amount_paid:
        return redirect(url_for("paylink.show", token=token))
    payments = db.session.scalars(
        select(Payment)
        .options(joinedload(Payment.saved_method))
        .where(Payment.invoice_id == invoice.id, Payment.status == "succeeded")
        .order_by(Payment.captured_at)
    ).all()
    return render_template("paylink/receipt.html", invoice=invoice, payments=payments, token=token)


@bp.get("/pay/<token>/print")
@limiter.limit(view_limit)
def printable(token: str):
    """The invoice on its own, laid out for printing or saving as PDF from the browser."""
    return render_template("paylink/print.html", invoice=_live_link(token)[0].invoice, token=token)


class LinkNotValid(Exception):
    """The token opens no invoice: unknown, mutated, revoked or expired."""


@bp.errorhandler(LinkNotValid)
def not_valid(_exc):
    """The one answer for every token that does not open an invoice."""
    return render_template("paylink/not_valid.html"), 404


def _live_link(token: str, *, with_last_view: bool = False) -> tuple[PayLink, object]:
    found = find_pay_link(token, with_last_view=with_last_view)
    if found is None:
        raise LinkNotValid
    return found
