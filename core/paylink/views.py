"""Pay-link pages: one invoice, its payment, the return from the processor's page, the receipt. No login.

Every response (the "not valid" page too) is marked ``no-store`` and ``no-referrer``: the token in the
address is the key to the invoice, so neither caches nor the processor's page may keep it. Unknown, mutated,
revoked and expired tokens all get the same page, so a guess learns nothing.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from core.account.invitations import login_to_pay
from core.activity import record
from core.extensions import db, limiter
from core.identity.sessions import signed_in_user
from core.models import Invoice, InvoiceView, PayLink, Payment
from core.money.documents import receipt_payments
from core.money.invoicing import find_pay_link
from core.money.payments.checkout import check_returning_payment, open_checkout
from core.money.payments.processor import connected_processor
from core.money.payments.types import Consent, PaymentError
from core.money.payments.wording import save_card_wording
from core.notifications.events import notify_event
from core.paylink.blueprint import bp
from core.paylink.rendering import invoice_body
from core.plugins.events import emit_after_commit
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

# Page views per address: SUPRATA_PAYLINK_RATE_LIMIT, generous for a person, slow for a script trying
# tokens (60 a minute by default).
CHECKOUT_LIMIT = "10 per minute"
# The return page refreshes itself every few seconds while the processor confirms.
RETURN_LIMIT = "60 per minute"
RETURN_REFRESH_SECONDS = 3


_RECORD_VIEW = InvoiceView.__table__.insert()


def view_limit() -> str:
    return current_app.config["SUPRATA_PAYLINK_RATE_LIMIT"]


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
    page = render_template("paylink/invoice.html", invoice=invoice, invoice_body=invoice_body(invoice),
                           token=token, last_viewed_at=last_viewed_at, can_pay=processor is not None,
                           login_url=_login_first(invoice, token),
                           save_card_wording=save_card_wording(current_business().name))
    now = utcnow()
    owes = invoice.status == "open" and invoice.amount_due > 0
    # A plain INSERT on the session's connection and transaction: no unit of work for one row, its
    # business stated as the tenancy mechanism would stamp it.
    db.session.connection().execute(_RECORD_VIEW, {
        "business_id": invoice.business_id, "invoice_id": invoice.id, "pay_link_id": link.id,
        "viewed_at": now, "ip": request.remote_addr, "user_agent": request.user_agent.string[:300] or None,
        "payment_offered": processor is not None if owes else None})
    if last_viewed_at is None:
        record(invoice.customer_id, surface="pay_link", kind="invoice.viewed",
               summary=f"Opened invoice {invoice.number} for the first time", invoice_id=invoice.id)
        notify_event("invoice_viewed", context={
            "invoice_number": invoice.number, "customer_name": invoice.customer.name,
            "viewed_at": now.isoformat(),
            "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id),
        })
        emit_after_commit("on_invoice_viewed", invoice=invoice, when=now)
    db.session.commit()
    return page


@bp.post("/pay/<token>/checkout")
@limiter.limit(CHECKOUT_LIMIT)
def checkout(token: str):
    """Pay Now: a pending payment for the amount due, then off to the processor's hosted page."""
    invoice = _live_link(token)[0].invoice
    login_url = _login_first(invoice, token)
    if login_url:
        return redirect(login_url)
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
    payment = check_returning_payment(payment)
    invoice = db.session.get(Invoice, invoice.id)
    return render_template("paylink/return.html", invoice=invoice, payment=payment,
                           invoice_url=url_for("paylink.show", token=token),
                           receipt_url=url_for("paylink.receipt", token=token),
                           refresh_seconds=RETURN_REFRESH_SECONDS)


@bp.get("/pay/<token>/receipt")
@limiter.limit(view_limit)
def receipt(token: str):
    """The receipt of what was paid on the invoice (all of it, or so far), printable."""
    invoice = _live_link(token)[0].invoice
    if not invoice.amount_paid:
        return redirect(url_for("paylink.show", token=token))
    return render_template("paylink/receipt.html", invoice=invoice, payments=receipt_payments(invoice),
                           token=token)


@bp.get("/pay/<token>/print")
@limiter.limit(view_limit)
def printable(token: str):
    """The invoice on its own, laid out for printing or saving as PDF from the browser."""
    invoice = _live_link(token)[0].invoice
    return render_template("paylink/print.html", invoice=invoice, invoice_body=invoice_body(invoice),
                           token=token)


def _login_first(invoice: Invoice, token: str) -> str | None:
    """Where to log in before paying, when the business wants customers logged in to pay and this browser is
    not logged in as the invoice's customer; None when Pay Now may go ahead."""
    if not login_to_pay():
        return None
    user = signed_in_user("customer")
    if user is not None and user.customer_id == invoice.customer_id:
        return None
    # ``next`` is a path inside the business's site, as the login expects it (without the /b/<slug> root).
    invoice_path = url_for("paylink.show", token=token).removeprefix(request.script_root)
    return url_for("account.login", next=invoice_path)


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
