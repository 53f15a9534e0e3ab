"""Invoice life cycle: numbering, issuing and sending, pay links, correcting, copying, voiding. Views call
these, never SQL.

A pay link's token is looked up by its hash; it is also kept sealed (encrypted at rest, as queued messages'
links are), so staff can copy a live link at any time and a corrected invoice goes out with the link the
customer already has. All functions work in the caller's transaction; the caller commits. Hooks fire after
that commit.
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
from core.models import Business, Invoice, InvoiceLine, InvoiceView, PayLink
from core.money.amounts import format_money
from core.money.autopay.rules import autopay_card, plan_first_charge
from core.money.payments.tasks import close_checkouts
from core.money.payments.wording import card_label
from core.notifications.events import notify_event
from core.notifications.outbox import enqueue
from core.plugins.events import emit_after_commit
from core.tenancy import require_business_id, utcnow
from core.tenancy.urls import public_url_for


class InvoiceStateError(ValueError):
    """The invoice is not in a state that allows this action; the message is for the user."""


def next_invoice_number(prefix: str) -> str:
    """The current business's next invoice number, ``prefix`` then at least four digits.

    The business's counter row stays locked until the caller's transaction ends, so concurrent creations
    take turns instead of colliding on the same number; a number already taken (typed in, imported) is
    skipped.
    """
    business = lock_row(Business, require_business_id())
    number = business.last_invoice_number + 1
    while db.session.scalar(select(Invoice.id).where(Invoice.number == f"{prefix}{number:04d}")):
        number += 1
    business.last_invoice_number = number
    return f"{prefix}{number:04d}"


def issue_pay_link(invoice: Invoice, *, expires_at: datetime | None = None) -> str:
    """A new pay link for the invoice; returns the secret token (looked up by its hash, kept sealed)."""
    token, token_hash = new_token()
    db.session.add(PayLink(invoice_id=invoice.id, token_hash=token_hash, token_sealed=token,
                           expires_at=expires_at))
    return token


def live_pay_link(invoice: Invoice) -> str | None:
    """The token of the invoice's newest live pay link that can be read back, or None."""
    links = db.session.scalars(
        select(PayLink).where(PayLink.invoice_id == invoice.id, PayLink.revoked_at.is_(None),
                              PayLink.token_sealed.is_not(None))
        .order_by(PayLink.created_at.desc(), PayLink.id.desc())
    )
    return next((link.token_sealed for link in links if pay_link_is_live(link) and link.token_sealed), None)


def pay_link_to_share(invoice: Invoice) -> str:
    """The token of a live pay link to hand to the customer: the newest one, or a fresh one if none is live
    (flushed, so it is there to find within the transaction)."""
    token = live_pay_link(invoice)
    if token is None:
        token = issue_pay_link(invoice)
        audit("invoice.link_issued", f"invoice {invoice.number}")
        db.session.flush()
    return token


def revoke_pay_links(invoice: Invoice) -> int:
    """Every pay link of the invoice stops working, and its open checkout pages are closed (a customer with
    an old link cannot pay on a page it opened). Locks the invoice's row. Returns how many links stopped."""
    invoice = lock_row(Invoice, invoice.id)
    result = db.session.execute(
        update(PayLink)
        .where(PayLink.invoice_id == invoice.id, PayLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    close_checkouts(invoice)
    return result.rowcount


def find_pay_link(token: str, *, with_last_view: bool = False) -> tuple[PayLink, datetime | None] | None:
    """The live pay link for a token, with its invoice and customer loaded (and, if asked, when the invoice
    was last viewed), in one query; the lines load when first read. Unknown, mutated, revoked and expired
    tokens all give None."""
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
        .options(joinedload(PayLink.invoice).joinedload(Invoice.customer))
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
    if not invoice.customer.primary_email:
        raise InvoiceStateError("This customer has no email address on file.")
    first_send = invoice.status == "draft"
    if first_send:
        invoice.recompute_totals()
        invoice.status = "open"
        invoice.issue_date = invoice.issue_date or date.today()
    invoice.sent_at = utcnow()
    db.session.flush()
    token = issue_pay_link(invoice, expires_at=expires_at)
    if first_send:
        plan_first_charge(invoice)  # before the email, which then says the card will be charged
    notify_event("invoice_sent", customer=invoice.customer, context=_invoice_context(invoice, token))
    summary = f"Invoice {invoice.number} {'re-sent' if not first_send else 'sent'}"
    record(invoice.customer_id, surface="console", kind="invoice.sent", summary=summary,
           invoice_id=invoice.id)
    audit("invoice.sent" if first_send else "invoice.resent", f"invoice {invoice.number}")
    if first_send:
        emit_after_commit("on_invoice_sent", invoice=invoice)
    return token


def _invoice_context(invoice: Invoice, token: str) -> dict:
    return {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "customer_name": invoice.customer.name,
        "amount_due": invoice.amount_due,
        "total": invoice.total,
        "currency": invoice.currency,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "pay_url": public_url_for("paylink.show", token=token),
        "login_to_pay": login_to_pay(),
        "invoice_url": public_url_for("console.invoice", invoice_id=invoice.id),
        "autopay_card": _card_to_charge(invoice),
    }


def _card_to_charge(invoice: Invoice) -> str | None:
    """"Visa ending 4242" when the invoice is about to be charged automatically, else None."""
    if invoice.autopay_state not in ("scheduled", "charging"):
        return None
    card = autopay_card(invoice.customer_id)
    return card_label(card) if card else None


def send_reminder(invoice: Invoice) -> None:
    """Remind the customer of an open invoice by email, with a live pay link (staff's bulk reminder; the
    scheduled reminders are the follow-up's). Raises InvoiceStateError when there is nothing to remind of."""
    if invoice.status != "open" or invoice.amount_due <= 0:
        raise InvoiceStateError(f"{invoice.number} is not waiting for a payment.")
    recipient = invoice.customer.primary_email
    if not recipient:
        raise InvoiceStateError(f"{invoice.customer.name} has no email address on file.")
    token = pay_link_to_share(invoice)
    owed_since = invoice.due_date or invoice.issue_date or date.today()
    context = _invoice_context(invoice, token)
    enqueue("invoice_reminder", to=recipient, customer_id=invoice.customer_id, context={
        **{name: context[name] for name in ("customer_name", "invoice_number", "amount_due", "currency",
                                            "pay_url")},
        "due_date": owed_since.isoformat(), "days": (date.today() - owed_since).days,
        "autopay_failed": False, "update_card_url": None})
    record(invoice.customer_id, surface="console", kind="invoice.reminded",
           summary=f"Reminded of invoice {invoice.number}", invoice_id=invoice.id)
    audit("invoice.reminded", f"invoice {invoice.number}")


def can_correct(invoice: Invoice) -> bool:
    """A sent invoice can be corrected while nothing has been paid on it."""
    return invoice.status == "open" and invoice.amount_paid == 0


def correct_invoice(invoice: Invoice, change, *, notify: bool) -> dict[str, str]:
    """Apply ``change`` (a function that fills the locked invoice from staff's form) to a sent, unpaid
    invoice: its totals are worked out again, every checkout page opened for the old amount is closed, the
    change is recorded in its history, and, if ``notify``, the customer is emailed the corrected invoice with
    the pay link they already have. Returns what changed, in words (empty: nothing did).
    """
    invoice = lock_row(Invoice, invoice.id)
    if not can_correct(invoice):
        raise InvoiceStateError("Only a sent invoice with nothing paid on it can be corrected; "
                                "void it and make a new one instead.")
    before, previous_total = _summary(invoice), invoice.total
    change(invoice)
    invoice.recompute_totals()
    db.session.flush()
    after = _summary(invoice)
    changed = {name: f"{before[name]} → {after[name]}" for name in after if before.get(name) != after[name]}
    if not changed:
        return changed
    close_checkouts(invoice)
    record(invoice.customer_id, surface="console", kind="invoice.corrected",
           summary=f"Invoice {invoice.number} corrected", invoice_id=invoice.id)
    audit("invoice.corrected", f"invoice {invoice.number}", **changed,
          customer_told="yes" if notify and invoice.customer.primary_email else "no")
    if notify and invoice.customer.primary_email:
        enqueue("invoice_corrected", to=invoice.customer.primary_email, customer_id=invoice.customer_id,
                context={**_invoice_context(invoice, pay_link_to_share(invoice)),
                         "previous_total": previous_total})
    return changed


def _summary(invoice: Invoice) -> dict:
    """What a correction may change, as staff read it in the history."""
    def money(amount: int) -> str:
        return format_money(amount, invoice.currency)

    return {
        "total": money(invoice.total),
        "lines": "; ".join(f"{line.description} x {line.quantity.normalize():f} at {money(line.unit_price)}"
                           for line in invoice.lines),
        "discount": money(invoice.discount),
        "deposit": money(invoice.deposit),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "none",
        "memo": invoice.memo or "",
    }


def duplicate_invoice(source: Invoice, number: str) -> Invoice:
    """A new draft with ``source``'s customer, kind, lines, discount, deposit and memo (not its dates,
    payments or links), numbered ``number``; added to the session."""
    copy = Invoice(customer_id=source.customer_id, number=number, kind=source.kind, status="draft",
                   currency=source.currency, memo=source.memo, internal_notes=source.internal_notes,
                   discount=source.discount, discount_rate_bp=source.discount_rate_bp,
                   deposit=source.deposit, deposit_rate_bp=source.deposit_rate_bp,
                   tax_rounding=source.tax_rounding)
    copy.lines = [InvoiceLine(position=line.position, description=line.description, quantity=line.quantity,
                              unit_price=line.unit_price, discount=line.discount,
                              discount_rate_bp=line.discount_rate_bp, tax_rate_id=line.tax_rate_id,
                              tax_name=line.tax_name, tax_rate_bp=line.tax_rate_bp, unit_cost=line.unit_cost)
                  for line in source.lines]
    copy.recompute_totals()
    db.session.add(copy)
    audit("invoice.duplicated", f"invoice {number}", copied_from=source.number)
    return copy


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
    record(invoice.customer_id, surface="console", kind="invoice.voided",
           summary=f"Invoice {invoice.number} voided", invoice_id=invoice.id)
    audit("invoice.voided", f"invoice {invoice.number}", reason=reason)
