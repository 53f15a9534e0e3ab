"""Records of every kind for one customer, each staff-only column filled with a marker that must never reach
a portal page or file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from core.activity import audit, record
from core.extensions import db
from core.models import (
    Agreement,
    AppointmentRequest,
    Customer,
    Invoice,
    InvoiceLine,
    Job,
    Payment,
    Reservation,
)
from core.money.invoicing import next_invoice_number, send_invoice, void_invoice
from core.money.payments.ledger import record_payment_captured

STAFF_ONLY = "STAFF-ONLY-MARKER"
# Staff-only amounts, chosen so their formatted form ($8,765.43, 8765.43, 876543) appears nowhere else.
SECRET_COST = 876543
SECRET_JOB_COST = 765432


def marker(where: str) -> str:
    return f"{STAFF_ONLY}-{where}"


def pdf_document(text: str) -> bytes:
    from demo.seed import minimal_pdf

    return minimal_pdf([text])


@dataclass
class CustomerRecords:
    customer_id: int
    invoices: dict[str, int] = field(default_factory=dict)  # "open", "paid", "void", "draft" -> id
    job_id: int = 0
    agreement_id: int = 0
    reservation_id: int = 0
    request_id: int = 0

    def urls(self) -> list[str]:
        """Every portal URL that names one of these records."""
        paid, shown = self.invoices["paid"], self.invoices["open"]
        return [f"/portal/invoices/{shown}", f"/portal/invoices/{shown}/invoice.pdf",
                f"/portal/invoices/{paid}/receipt", f"/portal/invoices/{paid}/receipt.pdf",
                f"/portal/invoices/{shown}/return?payment=1",
                f"/portal/agreements/{self.agreement_id}/document"]

    def post_urls(self) -> list[str]:
        return [f"/portal/invoices/{self.invoices['open']}/pay",
                f"/portal/reservations/{self.reservation_id}/pay",
                f"/portal/appointments/{self.request_id}/accept"]


def fill(customer_id: int, tag: str) -> CustomerRecords:
    """Invoices in every status, a job, an agreement, a reservation with a balance, an appointment request,
    timeline entries from staff and an audit entry, for the customer (inside its business)."""
    customer = db.session.get(Customer, customer_id)
    customer.internal_notes = marker(f"customer-notes-{tag}")
    records = CustomerRecords(customer_id)
    for status, kind in (("open", "one_off"), ("paid", "service_agreement"), ("void", "subscription"),
                         ("draft", "recurring_rental")):
        invoice = Invoice(customer=customer, number=next_invoice_number(f"{tag.upper()}-"), kind=kind,
                          currency="USD", memo=f"Thanks from {tag}",
                          internal_notes=marker(f"invoice-notes-{status}-{tag}"),
                          due_date=date.today() + timedelta(days=30))
        invoice.lines = [InvoiceLine(position=0, description=f"Drain repair {tag} {status}",
                                     quantity=Decimal(1), unit_price=12500, tax_rate_bp=800,
                                     unit_cost=SECRET_COST)]
        invoice.recompute_totals()
        db.session.add(invoice)
        db.session.flush()
        if status != "draft":
            send_invoice(invoice)
        if status == "paid":
            payment = Payment(invoice_id=invoice.id, customer_id=customer_id, processor="manual",
                              amount=invoice.amount_due, currency="USD", source="staff")
            db.session.add(payment)
            db.session.flush()
            record_payment_captured("manual", f"cheque-{tag}", amount=payment.amount, currency="USD",
                                    payment_id=payment.id)
        if status == "void":
            void_invoice(invoice, reason=marker(f"void-reason-{tag}"))
        records.invoices[status] = invoice.id
    start = datetime.now(UTC) + timedelta(days=5)
    job = Job(customer_id=customer_id, title=f"Boiler service {tag}", description="Yearly check",
              status="scheduled", scheduled_start=start, scheduled_end=start + timedelta(hours=2),
              internal_notes=marker(f"job-notes-{tag}"), cost=SECRET_JOB_COST)
    agreement = Agreement(customer_id=customer_id, title=f"Service plan {tag}", status="active",
                          signed_at=datetime.now(UTC) - timedelta(days=30), starts_on=date.today(),
                          document_name=f"plan-{tag}.pdf", document_mime="application/pdf",
                          document=pdf_document(f"Signed plan of {tag}"))
    reservation = Reservation(customer_id=customer_id, title=f"Heater rental {tag}", starts_on=date.today(),
                              ends_on=date.today() + timedelta(days=30), currency="USD", total=40000,
                              amount_paid=15000)
    request = AppointmentRequest(customer_id=customer_id, service=f"Leaky tap {tag}",
                                 preferred_date=date.today() + timedelta(days=3), preferred_window="morning",
                                 status="proposed", proposed_start=start,
                                 proposed_end=start + timedelta(hours=1))
    db.session.add_all([job, agreement, reservation, request])
    db.session.flush()
    records.job_id, records.agreement_id = job.id, agreement.id
    records.reservation_id, records.request_id = reservation.id, request.id
    record(customer_id, surface="console", kind="note", summary=marker(f"timeline-note-{tag}"))
    audit("customer.updated", f"customer {customer.name}", note=marker(f"audit-{tag}"))
    db.session.commit()
    return records
