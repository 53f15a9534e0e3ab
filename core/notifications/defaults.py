"""Core's own message templates. Each lists the context variables its sender must pass (``None`` allowed for
the ones shown only when set); every template also gets ``business``."""

from core.notifications.templates import register_default


def register_core_defaults() -> None:
    register_default(
        "invoice_sent",
        description="To the customer when an invoice is sent or re-sent: the pay link. "
                    "Variables: invoice_number, customer_name, amount_due, total, currency, "
                    "due_date (or none), pay_url.",
        subject="Invoice {{ invoice_number }} from {{ business.name }}",
        text="""Hello {{ customer_name }},

{{ business.name }} has sent you invoice {{ invoice_number }} for {{ total|money }}.
{% if amount_due != total %}
Amount due now: {{ amount_due|money }}
{% endif %}
{% if due_date %}
Due: {{ due_date|date }}
{% endif %}

View and pay it online:
{{ pay_url }}

Thank you,
{{ business.name }}
""",
        html="""<p>Hello {{ customer_name }},</p>
<p>{{ business.name }} has sent you invoice <strong>{{ invoice_number }}</strong>
for <strong>{{ total|money }}</strong>.</p>
{% if amount_due != total %}
<p>Amount due now: <strong>{{ amount_due|money }}</strong></p>
{% endif %}
{% if due_date %}
<p>Due: {{ due_date|date }}</p>
{% endif %}
<p><a href="{{ pay_url }}" class="button">View and pay invoice</a></p>
<p>Or open this link: <a href="{{ pay_url }}">{{ pay_url }}</a></p>
<p>Thank you,<br>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount_due": 24500,
                "total": 24500, "currency": "USD", "due_date": "2026-07-15",
                "pay_url": "https://pay.example.com/i/sample-link"},
    )
    register_default(
        "payment_receipt",
        description="To the customer when a payment is confirmed or recorded by staff. Variables: "
                    "invoice_number, amount, currency, paid_at, paid_with (\u201cVisa ending 4242\u201d, "
                    "\u201cCheque no. 1042\u201d), balance (left to pay), lines (each with description, "
                    "quantity, amount), receipt_url, card_saved (or none).",
        subject="Receipt for invoice {{ invoice_number }} from {{ business.name }}",
        text="""Thank you for your payment.

We received {{ amount|money }} for invoice {{ invoice_number }} on {{ paid_at|datetime }},
paid with {{ paid_with }}.
{% if balance %}
{{ balance|money }} is left to pay on the invoice.
{% endif %}

{% for line in lines %}
- {{ line.description }} x {{ line.quantity }}: {{ line.amount|money }}
{% endfor %}

Your receipt:
{{ receipt_url }}

{{ business.name }}
""",
        html="""<p>Thank you for your payment.</p>
<p>We received <strong>{{ amount|money }}</strong> for invoice <strong>{{ invoice_number }}</strong>
on {{ paid_at|datetime }}, paid with {{ paid_with }}.</p>
{% if balance %}
<p>{{ balance|money }} is left to pay on the invoice.</p>
{% endif %}
<ul>
{% for line in lines %}
<li>{{ line.description }} &times; {{ line.quantity }}: {{ line.amount|money }}</li>
{% endfor %}
</ul>
<p><a href="{{ receipt_url }}" class="button">View receipt</a></p>
<p>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "amount": 24500, "currency": "USD",
                "paid_at": "2026-07-02T15:04:00+00:00", "paid_with": "Visa ending 4242", "balance": 0,
                "lines": [{"description": "Water heater flush", "quantity": "1", "amount": 24500}],
                "receipt_url": "https://pay.example.com/i/sample-link", "card_saved": None},
    )
    register_default(
        "refund_receipt",
        description="To the customer when money paid for an invoice is refunded (all or part). Variables: "
                    "customer_name, invoice_number, amount, currency, refunded_to, payment_amount, net_paid, "
                    "refunded_at, receipt_url.",
        subject="Refund of {{ amount|money }} for invoice {{ invoice_number }}",
        text="""Hello {{ customer_name }},

We refunded **{{ amount|money }}** of your {{ payment_amount|money }} payment for invoice {{ invoice_number }}
to {{ refunded_to }} on {{ refunded_at|date }}. It can take a few days to show on your statement.

You have paid {{ net_paid|money }} for this invoice, net of refunds.

[Your receipt]({{ receipt_url }})

{{ business.name }}
""",
        sample={"customer_name": "Jordan Rivera", "invoice_number": "INV-0042", "amount": 5000,
                "currency": "USD", "refunded_to": "Visa ending 4242", "payment_amount": 24500,
                "net_paid": 19500, "refunded_at": "2026-07-09T15:04:00+00:00",
                "receipt_url": "https://pay.example.com/i/sample-link"},
    )
    register_default(
        "invoice_corrected",
        description="To the customer when staff correct an invoice already sent (and chose to tell them). "
                    "Variables: invoice_number, customer_name, amount_due, total, previous_total, currency, "
                    "due_date (or none), pay_url (the link they already have).",
        subject="Corrected: invoice {{ invoice_number }} from {{ business.name }}",
        text="""Hello {{ customer_name }},

We corrected invoice {{ invoice_number }}: its total is now **{{ total|money }}**
(it was {{ previous_total|money }}).
{% if due_date %}
It is due on {{ due_date|date }}.
{% endif %}

The link you already have shows the corrected invoice; you can pay it there:
{{ pay_url }}

Thank you,
{{ business.name }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount_due": 22500,
                "total": 22500, "previous_total": 24500, "currency": "USD", "due_date": "2026-07-15",
                "pay_url": "https://pay.example.com/i/sample-link"},
    )
    register_default(
        "invoice_reminder",
        description="To the customer while an invoice is unpaid: sent by staff from the invoice list. "
                    "Variables: customer_name, invoice_number, amount_due, currency, due_date, days (after "
                    "the due date; negative before it), autopay_failed, pay_url, update_card_url (or none).",
        subject="{% if days < 0 %}Invoice {{ invoice_number }} is due on {{ due_date|date }}"
                "{% else %}Reminder: invoice {{ invoice_number }} is unpaid{% endif %}",
        text="""Hello {{ customer_name }},

{% if days < 0 %}
A friendly reminder: invoice {{ invoice_number }} for {{ amount_due|money }} is due on {{ due_date|date }}.
{% else %}
Invoice {{ invoice_number }} for {{ amount_due|money }} was due on {{ due_date|date }} and is still unpaid.
{% endif %}

Pay it online:
{{ pay_url }}
{% if autopay_failed and update_card_url %}

Update your card:
{{ update_card_url }}
{% endif %}

If you have paid already, thank you, and please ignore this email.

{{ business.name }}
""",
        sample={"customer_name": "Jordan Rivera", "invoice_number": "INV-0042", "amount_due": 24500,
                "currency": "USD", "due_date": "2026-07-15", "days": 7, "autopay_failed": False,
                "pay_url": "https://pay.example.com/i/sample-link", "update_card_url": None},
    )
    register_default(
        "portal_invitation",
        description="To a customer invited to create a portal account. Variables: customer_name; the "
                    "invitation link is placed by Suprata.",
        subject="Create your {{ business.name }} account",
        text="""Hello {{ customer_name }},

{{ business.name }} invites you to its customer portal, where you can see your invoices, jobs and
agreements and manage how you pay.
""",
        text_after="""The link works once and expires.

{{ business.name }}
""",
        html="""<p>Hello {{ customer_name }},</p>
<p>{{ business.name }} invites you to its customer portal, where you can see your invoices, jobs and
agreements and manage how you pay.</p>
""",
        html_after="""<p>The link works once and expires.</p>
<p>{{ business.name }}</p>
""",
        access_link="invite_url",
        access_label="Create your account",
        sample={"customer_name": "Jordan Rivera", "invite_url": "https://portal.example.com/invite/sample-token"},
    )
    register_default(
        "payment_failed",
        description="To the customer when a charge (manual or autopay) failed. Variables: invoice_number, "
                    "amount, currency, reason, pay_url, update_card_url (or none).",
        subject="Payment for invoice {{ invoice_number }} did not go through",
        text="""Hello,

We could not collect {{ amount|money }} for invoice {{ invoice_number }}: {{ reason }}.
{% if update_card_url %}

Update your card:
{{ update_card_url }}
{% endif %}

Pay the invoice online:
{{ pay_url }}

{{ business.name }}
""",
        html="""<p>Hello,</p>
<p>We could not collect <strong>{{ amount|money }}</strong> for invoice
<strong>{{ invoice_number }}</strong>: {{ reason }}.</p>
{% if update_card_url %}
<p><a href="{{ update_card_url }}">Update your card</a></p>
{% endif %}
<p><a href="{{ pay_url }}" class="button">Pay invoice</a></p>
<p>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "amount": 24500, "currency": "USD",
                "reason": "the card was declined", "pay_url": "https://pay.example.com/i/sample-link",
                "update_card_url": "https://portal.example.com/payment-methods"},
    )
    register_default(
        "payment_failed_staff",
        description="To the business's billing inbox when a charge of a saved card failed. Variables: "
                    "invoice_number, customer_name, amount, currency, reason, invoice_url, customer_told.",
        subject="Payment failed: invoice {{ invoice_number }} ({{ customer_name }})",
        text="""A payment of {{ amount|money }} from {{ customer_name }} for invoice {{ invoice_number }}
failed: {{ reason }}.

{% if customer_told -%}
The customer has been emailed a link to pay.
{%- else -%}
The customer has no email address on file: contact them.
{%- endif %} The invoice:
{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount": 24500,
                "currency": "USD", "reason": "the card was declined",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42",
                "customer_told": True},
    )
    register_default(
        "payment_unapplied_staff",
        description="To the business's billing inbox when money arrived that could not be applied to its "
                    "invoice (most often: paid twice), and what happens to it. Variables: invoice_number, "
                    "customer_name, amount, currency, problem, handling (refunding, held or refund_failed), "
                    "error (or none), invoice_url.",
        subject="{% if handling == 'refunding' %}Refunding{% else %}To refund{% endif %}: "
                "{{ amount|money }} from {{ customer_name }} (invoice {{ invoice_number }})",
        text="""A payment of {{ amount|money }} from {{ customer_name }} {{ problem }} {{ invoice_number }}.

{% if handling == "refunding" -%}
It is being refunded to the customer automatically; nothing is kept.
{%- elif handling == "refund_failed" -%}
It could not be refunded automatically ({{ error }}). Refund it from the invoice page.
{%- else -%}
It is held for you: refund it from the invoice page.
{%- endif %}

{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount": 24500,
                "currency": "USD", "problem": "arrived for an invoice that was already paid",
                "handling": "refunding", "error": None,
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42"},
    )
    register_default(
        "staff_password_changed",
        description="To a staff member whose console password changed. Variables: staff_name, changed_at.",
        subject="Your {{ business.name }} console password was changed",
        text="""Hello {{ staff_name }},

The password of your {{ business.name }} console account was changed on {{ changed_at|datetime }},
and every other session of yours was signed out.

If you did not do this, reset your password now and tell your administrator.
""",
        sample={"staff_name": "Sam Lee", "changed_at": "2026-07-02T15:04:00+00:00"},
    )
    register_default(
        "staff_invitation",
        description="To a new staff member: the link to choose a password, placed by Suprata. "
                    "Variables: staff_name, invited_by, expires_at.",
        subject="{{ invited_by }} invited you to the {{ business.name }} console",
        text="""Hello {{ staff_name }},

{{ invited_by }} added you to the {{ business.name }} staff console.
""",
        text_after="""The link works once, until {{ expires_at|datetime }}. If it has expired, use
"Forgot your password?" on the login page.
""",
        html="""<p>Hello {{ staff_name }},</p>
<p>{{ invited_by }} added you to the {{ business.name }} staff console.</p>
""",
        html_after="""<p>The link works once, until {{ expires_at|datetime }}. If it has expired, use
“Forgot your password?” on the login page.</p>
""",
        access_link="set_password_url",
        access_label="Choose your password",
        sample={"staff_name": "Sam Lee", "invited_by": "Dana Ortiz",
                "set_password_url": "https://suprata.example.com/b/acme/console/set-password/sample-token",
                "expires_at": "2026-07-09T15:04:00+00:00"},
    )
    register_default(
        "staff_password_reset",
        description="To a staff member who asked for a new password: the link to choose one, placed by "
                    "Suprata. Variables: staff_name, expires_at.",
        subject="Set a new password for the {{ business.name }} console",
        text="""Hello {{ staff_name }},

Someone asked for a new password for your {{ business.name }} console account.
""",
        text_after="""The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this
email: your password stays as it is.
""",
        html="""<p>Hello {{ staff_name }},</p>
<p>Someone asked for a new password for your {{ business.name }} console account.</p>
""",
        html_after="""<p>The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this
email: your password stays as it is.</p>
""",
        access_link="set_password_url",
        access_label="Choose a new password",
        sample={"staff_name": "Sam Lee",
                "set_password_url": "https://suprata.example.com/b/acme/console/set-password/sample-token",
                "expires_at": "2026-07-02T16:04:00+00:00"},
    )
    register_default(
        "staff_login_locked",
        description="To a staff member whose account was locked after too many failed logins. "
                    "Variables: staff_name, attempts, locked_until, forgot_password_url.",
        subject="Your {{ business.name }} console login is locked",
        text="""Hello {{ staff_name }},

Someone typed a wrong password for your {{ business.name }} console account {{ attempts }} times, so
logging in to it is locked until {{ locked_until|datetime }}.

If that was you, you can log in now: choose a new password with "Forgot your password?", which also
ends the lock:
{{ forgot_password_url }}

If it was not you, your password held. Tell your administrator, and consider choosing a new password.
""",
        sample={"staff_name": "Sam Lee", "attempts": 20, "locked_until": "2026-07-02T16:04:00+00:00",
                "forgot_password_url": "https://suprata.example.com/b/acme/console/forgot-password"},
    )
