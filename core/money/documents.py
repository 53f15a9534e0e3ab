"""What a customer keeps of an invoice: the receipt's payments, and PDF files of the invoice and receipt.

Every surface (pay link, portal) shows the same documents; staff-only fields (internal notes, costs) are in
none of them, because they share the theme's invoice template (``paylink/_invoice.html``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.models import Invoice, Payment
from core.web.pdf import render_pdf


def receipt_payments(invoice: Invoice) -> list[Payment]:
    """The payments that paid ``invoice``, oldest first, with their saved cards (``saved_method``)."""
    return list(db.session.scalars(
        select(Payment)
        .options(joinedload(Payment.saved_method))
        .where(Payment.invoice_id == invoice.id, Payment.status == "succeeded")
        .order_by(Payment.captured_at)
    ))


def invoice_pdf(invoice: Invoice) -> tuple[str, bytes]:
    """The invoice as a PDF: (file name, bytes)."""
    return f"invoice-{invoice.number}.pdf", render_pdf("documents/invoice.html", invoice=invoice)


def receipt_pdf(invoice: Invoice) -> tuple[str, bytes]:
    """The receipt of a paid invoice as a PDF: (file name, bytes)."""
    pdf = render_pdf("documents/receipt.html", invoice=invoice, payments=receipt_payments(invoice))
    return f"receipt-{invoice.number}.pdf", pdf
