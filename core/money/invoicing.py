"""Invoice life cycle: numbering, issuing and sending, pay links, voiding. Views call these, never SQL.

All functions work in the caller's transaction; the caller commits. Hooks fire after that commit.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload

from core.account.invitations import login_to_pay
from core.activity import audit, record
from core.database import lock_row
from core.extensions import db
from core.identity.tokens import hash_token, new_token
from core.models import Invoice, InvoiceView, PayLink
from core.money.autopay.rules import plan_first_charge
from core.money.payments.tasks import close_checkouts
from core.notifications.outbox import enqueue
from core.plugins.events import emit_after_commit
from core.tenancy import utcnow
from core.tenancy.urls import public_url_for


class InvoiceStateError(ValueError):
    """The invoice is not in a state that allows this action; the message is for the user."""


def next_invoice_number(prefix: str) -> str:
    count = db.session.scalar(select(func.count(Invoice.id))) or 0
    number = count + 1
    while db.session.scalar(select(Invoice.id).where(Invoice.number == f"{prefix}{number:04d}")):
        number += 1
    return f"{prefix}{number:04d}"


def issue_pay_link(invoice: Invoice, *, expires_at: datetime | None = None) -> str:
    """A new pay link for the invoice; returns the secret token (only its hash is stored)."""
    token, token_hash = new_token()
    db.session.add(PayLink(invoice_id=invoice.id, token_hash=token_hash, expires_at=expires_at))
    return token


def revoke_pay_links(invoice: Invoice) -> int:
    result = db.session.execute(
        update(PayLink)
        .where(PayLink.invoice_id == invoice.id, PayLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def find_pay_link(token: str, *, with_last_view: bool = False) -> tuple[PayLink, datetime | None] | None:
    """The live pay link for a token, with its invoice, customer and lines loaded (and, if asked, when the
    invoice was last viewed), in one query. Unknown, mutated, revoked and expired tokens all give None."""
    statement = _link_with_invoice(with_last_view)
    row = db.session.execute(statement, {"token_hash": hash_token(token)}).unique().first()
    if row is None or not pay_link_is_live(row[0]):
        return None
    return row[0], (row[1] if with_last_view else None)


@functools.cache
def _link_with_invoice(with_last_view: bool):
    # Built once: every page of the link runs this query, and building it costs more than running it.
    columns = [PayLink]
    if with_last_view:
        columns.append(
            select(func.max(InvoiceView.viewed_at))
            .where(InvoiceView.invoice_id == PayLink.invoice_id)
            .correlate(PayLink)
            .scalar_subquery()
        )
    return (
        select(*columns)
        .where(PayLink.token_hash == bindparam("token_hash"))
        .options(joinedload(PayLink.invoice).options(joinedload(Invoice.customer), joinedload(Invoice.lines)))
    )


def pay_link_is_live(link: PayLink | None) -> bool:
    """True for an existing link that is neither revoked nor expired."""
    if link is None or link.revoked_at is not None:
        return False
    return link.expires_at is None or link.expires_at > utcnow()


def send_invoice(invoice: Invoice, *, expires_at: datetime | None = None, resend: bool = False) -> str:
    """Issue a draft (draft -> open) or re-send an open invoice: new pay link, email through the outbox.

    Returns the pay-link token. On the first send only, an invoice charged automatically gets its charge
    planned (:mod:`core.money.autopay`) and ``on_invoice_sent`` fires after commit.
    """
    if invoice.status == "void":
        raise InvoiceStateError("A void invoice can't be sent.")
    if invoice.status == "paid" and not resend:
        raise InvoiceStateError("This invoice is already paid.")
    if not invoice.lines:
        raise InvoiceStateError("Add at least one line before sending.")
    recipient = invoice.customer.primary_email
    if not recipient:
        raise InvoiceStateError("This customer has no email address on file.")
    first_send = invoice.status == "draft"
    invoice.recompute_totals()
    if first_send:
        invoice.status = "open"
        invoice.issue_date = invoice.issue_date or date.today()
    invoice.sent_at = utcnow()
    db.session.flush()
    token = issue_pay_link(invoice, expires_at=expires_at)
    enqueue(
        "invoice_sent",
        to=recipient,
        customer_id=invoice.customer_id,
        context={
            "invoice_id": invoice.id,
            "invoice_number": invoice.number,
            "customer_name": invoice.customer.name,
            "amount_due": invoice.amount_due,
            "total": invoice.total,
            "currency": invoice.currency,
            "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
            "pay_url": public_url_for("paylink.show", token=token),
            "login_to_pay": login_to_pay(),
        },
    )
    summary = f"Invoice {invoice.number} {'re-sent' if not first_send else 'sent'}"
    record(invoice.customer_id, surface="console", kind="invoice.sent", summary=summary,
           invoice_id=invoice.id)
    audit("invoice.sent" if first_send else "invoice.resent", f"invoice {invoice.number}")
    if first_send:
        plan_first_charge(invoice)
        emit_after_commit("on_invoice_sent", invoice=invoice)
    return token


def void_invoice(invoice: Invoice, reason: str = "") -> None:
    """Cancel an unpaid invoice: its pay links stop working and every checkout page of it is closed.

    Locks the invoice's row (read fresh), as taking a payment does, so a Pay Now at the same moment either
    sees the invoice void or has its page closed.
    """
    invoice = lock_row(Invoice, invoice.id)
    if invoice.status == "paid":
        raise InvoiceStateError("A paid invoice can't be voided; refund the payment instead.")
    if invoice.status == "void":
        return
    invoice.status = "void"
    invoice.voided_at = utcnow()
    revoke_pay_links(invoice)
    close_checkouts(invoice)
    record(invoice.customer_id, surface="console", kind="invoice.voided",
           summary=f"Invoice {invoice.number} voided", invoice_id=invoice.id)
    audit("invoice.voided", f"invoice {invoice.number}", reason=reason)
