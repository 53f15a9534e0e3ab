"""The events core tells people about (the product brief's five, and the time-sensitive prompts), and the
templates they send beyond the ones in :mod:`.defaults`.

Text-message templates are short, name the business first (the number alone says nothing), and end with how
to stop them. Each lists its variables; every template also gets ``business``.
"""

from core.notifications.events import Audience, EventOption, NotificationEvent, register_event
from core.notifications.templates import register_default

STOP_LINE = "Reply STOP to opt out."

EVENTS = (
    NotificationEvent(
        "invoice_sent", "Invoice sent", "An invoice is issued or re-sent with its pay link.",
        customer=Audience({"email": "invoice_sent"}, default=("email",), required=("email",)),
        business=Audience({"email": "invoice_sent_staff"}),
        inbox="billing_email",
    ),
    NotificationEvent(
        "invoice_viewed", "Invoice viewed", "A customer opens an invoice's pay link for the first time.",
        business=Audience({"email": "invoice_viewed_staff"}),
        inbox="billing_email",
    ),
    NotificationEvent(
        "payment_captured", "Payment received", "A payment is confirmed: the customer's receipt.",
        customer=Audience({"email": "payment_receipt"}, default=("email",), required=("email",)),
        business=Audience({"email": "payment_captured_staff"}),
        inbox="billing_email",
    ),
    NotificationEvent(
        "payment_failed", "Automatic payment failed",
        "A charge of a saved card (autopay or by staff) failed: the customer gets links to pay and to update "
        "the card (a text only for autopay), the billing inbox gets told.",
        customer=Audience({"email": "payment_failed", "sms": "payment_failed_text"},
                          default=("email", "sms")),
        business=Audience({"email": "payment_failed_staff"}, default=("email",)),
        inbox="billing_email",
    ),
    NotificationEvent(
        "ticket_submitted", "Ticket submitted",
        "A support ticket enters the queue: the customer's confirmation.",
        customer=Audience({"email": "ticket_submitted"}, default=("email",), required=("email",)),
        business=Audience({"email": "ticket_submitted_staff"}, default=("email",)),
    ),
    NotificationEvent(
        "ticket_replied", "Ticket replied", "Staff reply to a ticket (the customer is told) or the customer "
        "does (the inbox is told).",
        customer=Audience({"email": "ticket_replied"}, default=("email",), required=("email",)),
        business=Audience({"email": "ticket_replied_staff"}, default=("email",)),
    ),
    NotificationEvent(
        "appointment_reminder", "Appointment reminder", "Before a scheduled job, the customer is reminded.",
        customer=Audience({"email": "appointment_reminder", "sms": "appointment_reminder_sms"},
                          default=("email", "sms")),
        option=EventOption("lead_hours", "Hours before the appointment", default=24, minimum=1, maximum=168),
    ),
    NotificationEvent(
        "invoice_reminder", "Unpaid invoice reminder", "While an invoice is unpaid, on the reminder schedule "
        "under Settings (days before and after its due date). By text only if you tick it.",
        customer=Audience({"email": "invoice_reminder", "sms": "invoice_reminder_sms"}, default=("email",)),
        inbox="billing_email",
    ),
)


def register_core_events() -> None:
    for event in EVENTS:
        register_event(event)
    _register_templates()


def _register_templates() -> None:
    register_default(
        "invoice_sent_staff",
        description="To the business's inbox when an invoice is sent. "
                    "Variables: invoice_number, customer_name, total, currency, invoice_url.",
        subject="Invoice {{ invoice_number }} sent to {{ customer_name }}",
        text="""Invoice {{ invoice_number }} for {{ total|money }} was sent to {{ customer_name }}.

{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "total": 24500,
                "currency": "USD",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42"},
    )
    register_default(
        "invoice_viewed_staff",
        description="To the business's inbox when a customer first opens an invoice's pay link. "
                    "Variables: invoice_number, customer_name, viewed_at, invoice_url.",
        subject="{{ customer_name }} opened invoice {{ invoice_number }}",
        text="""{{ customer_name }} opened invoice {{ invoice_number }} on {{ viewed_at|datetime }}.

{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera",
                "viewed_at": "2026-07-02T15:04:00+00:00",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42"},
    )
    register_default(
        "payment_captured_staff",
        description="To the business's inbox when a payment is confirmed. "
                    "Variables: invoice_number, customer_name, amount, currency, paid_at, invoice_url.",
        subject="Payment received: {{ amount|money }} for invoice {{ invoice_number }}",
        text="""{{ customer_name }} paid {{ amount|money }} for invoice {{ invoice_number }}
on {{ paid_at|datetime }}.

{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount": 24500,
                "currency": "USD",
                "paid_at": "2026-07-02T15:04:00+00:00",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42"},
    )
    ticket = {"customer_name": "Jordan Rivera", "ticket_reference": "#1042",
              "ticket_subject": "Water heater makes a noise", "message": "It started after the last visit.",
              "ticket_url": "https://suprata.example.com/b/acme/help/tickets/1042"}
    in_queue = {"queue_url": "https://suprata.example.com/b/acme/console/help/tickets/1042"}
    register_default(
        "ticket_submitted",
        description="To the customer when their ticket enters the queue. Variables: customer_name, "
                    "ticket_reference, ticket_subject, message, ticket_url (or none when they cannot sign "
                    "in to see it).",
        subject="We received your request {{ ticket_reference }}",
        text="""Hello {{ customer_name }},

We received your request "{{ ticket_subject }}" ({{ ticket_reference }}) and will answer you by email soon.
{% if ticket_url %}

Follow it here:
{{ ticket_url }}
{% endif %}

{{ business.name }}
""",
        sample=ticket,
    )
    register_default(
        "ticket_submitted_staff",
        description="To the business's inbox when a ticket enters the queue. Variables: customer_name, "
                    "customer_email, ticket_reference, ticket_subject, message, queue_url (the ticket in the "
                    "console).",
        subject="New ticket {{ ticket_reference }}: {{ ticket_subject }}",
        text="""{{ customer_name }} ({{ customer_email }}) wrote:

{{ message }}

{{ queue_url }}
""",
        sample=ticket | in_queue | {"customer_email": "jordan@example.com"},
    )
    register_default(
        "ticket_replied",
        description="To the customer when staff reply to their ticket. Variables: customer_name, "
                    "ticket_reference, ticket_subject, message (the reply), staff_name, ticket_status (open, "
                    "pending, resolved or closed), ticket_url (or none when they cannot sign in to see it).",
        subject="Re: {{ ticket_subject }} ({{ ticket_reference }})",
        text="""Hello {{ customer_name }},

{{ staff_name }} replied to your request {{ ticket_reference }}:

{{ message }}
{% if ticket_url %}

Read and answer here:
{{ ticket_url }}
{% if ticket_status == "resolved" %}

We think this is solved. If it is not, answer there and the request opens again.
{% endif %}
{% else %}

Reply to this email if you need anything else.
{% endif %}

{{ business.name }}
""",
        sample=ticket | {"message": "Our plumber can flush the tank on Thursday morning.",
                         "staff_name": "Pat", "ticket_status": "pending"},
    )
    register_default(
        "ticket_replied_staff",
        description="To the business's inbox when a customer replies to a ticket. Variables: customer_name, "
                    "ticket_reference, ticket_subject, message (the reply), queue_url (the ticket in the "
                    "console).",
        subject="{{ customer_name }} replied to {{ ticket_reference }}: {{ ticket_subject }}",
        text="""{{ message }}

{{ queue_url }}
""",
        sample=ticket | in_queue,
    )
    appointment = {"customer_name": "Jordan Rivera", "job_title": "Water heater flush",
                   "starts_at": "2026-07-03T13:00:00+00:00"}
    register_default(
        "appointment_reminder",
        description="To the customer before a scheduled job. Variables: customer_name, job_title, starts_at.",
        subject="Reminder: {{ job_title }} on {{ starts_at|datetime }}",
        text="""Hello {{ customer_name }},

This is a reminder of your appointment with {{ business.name }}:
{{ job_title }}, {{ starts_at|datetime }}.
{% if business.phone %}
To change it, call us at {{ business.phone }}.
{% endif %}

{{ business.name }}
""",
        sample=appointment,
    )
    register_default(
        "appointment_reminder_sms",
        channel="sms",
        description="Text to the customer before a scheduled job. "
                    "Variables: customer_name, job_title, starts_at.",
        subject="",
        text="{{ business.name }}: reminder of your appointment, {{ job_title }}, {{ starts_at|datetime }}."
             "{% if business.phone %} To change it call {{ business.phone }}.{% endif %} " + STOP_LINE,
        sample=appointment,
    )
    register_default(
        "invoice_reminder_sms",
        channel="sms",
        description="Text to the customer, on the reminder schedule, while an invoice is unpaid. Variables: "
                    "invoice_number, amount_due, currency, due_date, days (after the due date; negative "
                    "before it), pay_url.",
        subject="",
        text="{{ business.name }}: invoice {{ invoice_number }} ({{ amount_due|money }}) "
             "{% if days < 0 %}is due {{ due_date|date }}{% else %}is unpaid{% endif %}. Pay: {{ pay_url }} "
             + STOP_LINE,
        sample={"invoice_number": "INV-0042", "amount_due": 24500, "currency": "USD",
                "due_date": "2026-07-15", "days": -3, "pay_url": "https://pay.example.com/i/sample-link"},
    )
