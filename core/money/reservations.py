"""Paying what is still owed on a reservation: an invoice for the balance, paid like any other, whose payment
counts towards the reservation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.activity import record
from core.database import lock_row
from core.extensions import db
from core.models import Business, Invoice, InvoiceLine, Reservation
from core.money.invoicing import InvoiceStateError, next_invoice_number, void_invoice
from core.tenancy import utcnow
from core.tenancy.state import current_business


def balance_invoice(reservation: Reservation) -> Invoice:
    """The open invoice for the reservation's balance, issued now if there is none for today's balance.

    An open one for another amount (the balance changed since) is voided and replaced, so the customer is
    never asked for more than is owed. In the caller's transaction; raises :class:`InvoiceStateError` when
    nothing is owed.
    """
    reservation = lock_row(Reservation, reservation.id)
    balance = reservation.balance
    if balance <= 0:
        raise InvoiceStateError("Nothing is owed on this reservation.")
    for invoice in db.session.scalars(
        select(Invoice).where(Invoice.reservation_id == reservation.id, Invoice.status == "open")
    ):
        if invoice.amount_due == balance:
            return invoice
        void_invoice(invoice, reason="the reservation's balance changed")
    prefix = db.session.get(Business, current_business().id).invoice_prefix
    invoice = Invoice(customer_id=reservation.customer_id, reservation_id=reservation.id,
                      number=next_invoice_number(prefix),
                      kind="one_off", status="open", currency=reservation.currency, issue_date=date.today(),
                      sent_at=utcnow())
    invoice.lines.append(InvoiceLine(description=f"Balance for {reservation.title}", quantity=1,
                                     unit_price=balance, tax_rate_bp=0))
    invoice.recompute_totals()
    db.session.add(invoice)
    db.session.flush()
    record(reservation.customer_id, surface="portal", kind="invoice.issued",
           summary=f"Invoice {invoice.number} issued for the balance of {reservation.title}",
           invoice_id=invoice.id)
    return invoice


def apply_to_reservation(invoice: Invoice, amount: int) -> None:
    """Money applied to ``invoice`` also pays its reservation, if it has one (in the ledger's transaction)."""
    if invoice.reservation_id is None:
        return
    reservation = lock_row(Reservation, invoice.reservation_id)
    if reservation is not None:
        reservation.amount_paid = min(reservation.amount_paid + amount, reservation.total)
