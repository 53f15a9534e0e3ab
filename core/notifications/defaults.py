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
        description="To the customer when a payment is confirmed. "
                    "Variables: invoice_number, amount, currency, paid_at, receipt_url.",
        subject="Receipt for invoice {{ invoice_number }} from {{ business.name }}",
        text="""Thank you for your payment.

We received {{ amount|money }} for invoice {{ invoice_number }} on {{ paid_at|datetime }}.

Your receipt:
{{ receipt_url }}

{{ business.name }}
""",
        html="""<p>Thank you for your payment.</p>
<p>We received <strong>{{ amount|money }}</strong> for invoice <strong>{{ invoice_number }}</strong>
on {{ paid_at|datetime }}.</p>
<p><a href="{{ receipt_url }}" class="button">View receipt</a></p>
<p>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "amount": 24500, "currency": "USD",
                "paid_at": "2026-07-02T15:04:00+00:00", "receipt_url": "https://pay.example.com/i/sample-link"},
    )
    register_default(
        "portal_invitation",
        description="To a customer invited to create a portal account. Variables: customer_name, invite_url.",
        subject="Create your {{ business.name }} account",
        text="""Hello {{ customer_name }},

{{ business.name }} invites you to its customer portal, where you can see your invoices, jobs and
agreements and manage how you pay.

Choose your password here (the link works once and expires):
{{ invite_url }}

{{ business.name }}
""",
        html="""<p>Hello {{ customer_name }},</p>
<p>{{ business.name }} invites you to its customer portal, where you can see your invoices, jobs and
agreements and manage how you pay.</p>
<p><a href="{{ invite_url }}" class="button">Create your account</a></p>
<p>The link works once and expires.</p>
<p>{{ business.name }}</p>
""",
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
The customer has been sent a link to pay.
{%- else -%}
The customer could not be told (no email address or text number on file): contact them.
{%- endif %} The invoice:
{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount": 24500,
                "currency": "USD", "reason": "the card was declined",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42",
                "customer_told": True},
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
        description="To a new staff member: the link to choose a password. "
                    "Variables: staff_name, invited_by, set_password_url, expires_at.",
        subject="{{ invited_by }} invited you to the {{ business.name }} console",
        text="""Hello {{ staff_name }},

{{ invited_by }} added you to the {{ business.name }} staff console. Choose your password here:
{{ set_password_url }}

The link works once, until {{ expires_at|datetime }}. If it has expired, use "Forgot your password?"
on the login page.
""",
        html="""<p>Hello {{ staff_name }},</p>
<p>{{ invited_by }} added you to the {{ business.name }} staff console.</p>
<p><a href="{{ set_password_url }}" class="button">Choose your password</a></p>
<p>The link works once, until {{ expires_at|datetime }}. If it has expired, use “Forgot your password?”
on the login page.</p>
""",
        sample={"staff_name": "Sam Lee", "invited_by": "Dana Ortiz",
                "set_password_url": "https://suprata.example.com/b/acme/console/set-password/sample-token",
                "expires_at": "2026-07-09T15:04:00+00:00"},
    )
    register_default(
        "staff_password_reset",
        description="To a staff member who asked for a new password. "
                    "Variables: staff_name, set_password_url, expires_at.",
        subject="Set a new password for the {{ business.name }} console",
        text="""Hello {{ staff_name }},

Someone asked for a new password for your {{ business.name }} console account. Choose one here:
{{ set_password_url }}

The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this email: your
password stays as it is.
""",
        html="""<p>Hello {{ staff_name }},</p>
<p>Someone asked for a new password for your {{ business.name }} console account.</p>
<p><a href="{{ set_password_url }}" class="button">Choose a new password</a></p>
<p>The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this email: your
password stays as it is.</p>
""",
        sample={"staff_name": "Sam Lee",
                "set_password_url": "https://suprata.example.com/b/acme/console/set-password/sample-token",
                "expires_at": "2026-07-02T16:04:00+00:00"},
    )
