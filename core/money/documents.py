"""What a customer keeps of an invoice: the receipt's payments, and PDF files of the invoice and receipt.

Every surface (pay link, portal) shows the same documents; staff-only fields (internal notes, costs) are in
none of them, because they share the theme's invoice template (``paylink/_invoice.html``).
"""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import Invoice, Payment, SavedPaymentMethod
from core.web.pdf import render_pdf


def receipt_payments(invoice: Invoice) -> list[tuple[Payment, SavedPaymentMethod | None]]:
    """The payments that paid ``invoice``, oldest first, each with the saved card it used (if any)."""
    return db.session.execute(
        select(Payment, SavedPaymentMethod)
        .outerjoin(SavedPaymentMethod, SavedPaymentMethod.id == Payment.saved_method_id)
        .where(Payment.invoice_id == invoice.id, Payment.status == "succeeded")
        .order_by(Payment.captured_at)
    ).all()


def invoice_pdf(invoice: Invoice) -> tuple[str, bytes]:
    """The invoice as a PDF: (file name, bytes)."""
    return f"invoice-{invoice.number}.pdf", render_pdf("documents/invoice.html", invoice=invoice)


def receipt_pdf(invoice: Invoice) -> tuple[str, bytes]:
    """The receipt of a paid invoice as a PDF: (file name, bytes)."""
    pdf = render_pdf("documents/receipt.html", invoice=invoice, payments=receipt_payments(invoice))
    return f"receipt-{invoice.number}.pdf", pdf
