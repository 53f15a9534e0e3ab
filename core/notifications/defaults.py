"""Core's own message templates. Each lists the context variables its sender must pass (``None`` allowed for
the ones shown only when set); every template also gets ``business``."""

from core.notifications.templates import register_default


def register_core_defaults() -> None:
    register_default(
        "invoice_sent",
        description="To the customer when an invoice is sent or re-sent: the pay link. "
                    "Variables: invoice_number, customer_name, amount_due, total, currency, "
                    "due_date (or none), pay_url, login_to_pay (customers log in to pay), autopay_card "
                    "(the card autopay charges for it, or none).",
        subject="Invoice {{ invoice_number }} from {{ business.name }}",
        text="""Hello {{ customer_name }},

{{ business.name }} has sent you invoice {{ invoice_number }} for {{ total|money }}.
{% if amount_due != total %}
Amount due now: {{ amount_due|money }}
{% endif %}
{% if due_date %}
Due: {{ due_date|date }}
{% endif %}

{% if autopay_card is defined and autopay_card %}
It will be charged automatically to your {{ autopay_card }}: there is nothing for you to do, and the receipt
follows by email. View it online:
{% elif login_to_pay is defined and login_to_pay %}
View it online, and log in to your account there to pay it:
{% else %}
View and pay it online:
{% endif %}
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
{% if autopay_card is defined and autopay_card %}
<p>It will be charged automatically to your {{ autopay_card }}: there is nothing for you to do, and the
receipt follows by email.</p>
<p><a href="{{ pay_url }}" class="button">View invoice</a></p>
{% elif login_to_pay is defined and login_to_pay %}
<p>Log in to your account from the invoice's page to pay it.</p>
<p><a href="{{ pay_url }}" class="button">View invoice</a></p>
{% else %}
<p><a href="{{ pay_url }}" class="button">View and pay invoice</a></p>
{% endif %}
<p>Or open this link: <a href="{{ pay_url }}">{{ pay_url }}</a></p>
<p>Thank you,<br>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount_due": 24500,
                "total": 24500, "currency": "USD", "due_date": "2026-07-15",
                "pay_url": "https://pay.example.com/i/sample-link", "login_to_pay": False,
                "autopay_card": None},
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
        description="To the customer when a charge of a saved card (by staff or autopay) failed. Variables: "
                    "invoice_number, amount, currency, reason, pay_url, update_card_url (or none), "
                    "autopay (true for an automatic charge), next_try (the date of the next automatic try, "
                    "or none).",
        subject="Payment for invoice {{ invoice_number }} did not go through",
        text="""Hello,

We could not collect {{ amount|money }} for invoice {{ invoice_number }}
{%- if autopay %} automatically{% endif %}: {{ reason }}.
{% if next_try %}
We will try your card again on {{ next_try|date }}. To settle it now instead, pay online below.
{% endif %}

Pay the invoice now:
{{ pay_url }}
{% if update_card_url %}

Update your card:
{{ update_card_url }}
{% endif %}

{{ business.name }}
""",
        html="""<p>Hello,</p>
<p>We could not collect <strong>{{ amount|money }}</strong> for invoice
<strong>{{ invoice_number }}</strong>{% if autopay %} automatically{% endif %}: {{ reason }}.</p>
{% if next_try %}
<p>We will try your card again on {{ next_try|date }}. To settle it now instead, pay online below.</p>
{% endif %}
<p><a href="{{ pay_url }}" class="button">Pay invoice now</a></p>
{% if update_card_url %}
<p><a href="{{ update_card_url }}">Update your card</a></p>
{% endif %}
<p>{{ business.name }}</p>
""",
        sample={"invoice_number": "INV-0042", "amount": 24500, "currency": "USD",
                "reason": "the card has insufficient funds", "pay_url": "https://pay.example.com/i/sample-link",
                "update_card_url": "https://portal.example.com/payment-methods", "autopay": True,
                "next_try": "2026-07-05"},
    )
    register_default(
        "payment_failed_text",
        channel="sms",
        description="Text message to the customer's verified phone when an automatic charge failed (sent "
                    "only while a text-message channel is on). Variables: invoice_number, amount, currency, "
                    "reason, pay_url, update_card_url (or none).",
        subject="",
        text=("{{ business.name }}: we could not collect {{ amount|money }} for invoice {{ invoice_number }} "
              "({{ reason }}). Pay: {{ pay_url }}"
              "{% if update_card_url %} Update card: {{ update_card_url }}{% endif %}"),
        sample={"invoice_number": "INV-0042", "amount": 24500, "currency": "USD",
                "reason": "the card has insufficient funds", "pay_url": "https://pay.example.com/i/sample-link",
                "update_card_url": "https://portal.example.com/payment-methods"},
    )
    register_default(
        "payment_failed_staff",
        description="To the business's billing inbox when a charge of a saved card failed. Variables: "
                    "invoice_number, customer_name, amount, currency, reason, invoice_url, customer_told, "
                    "autopay (true for an automatic charge), next_try (or none).",
        subject="{% if autopay %}Autopay{% else %}Payment{% endif %} failed: invoice {{ invoice_number }} "
                "({{ customer_name }})",
        text="""{% if autopay %}The automatic charge{% else %}A payment{% endif %} of {{ amount|money }} from
{{- " " }}{{ customer_name }} for invoice {{ invoice_number }} failed: {{ reason }}.
{% if next_try %}
It will be tried again on {{ next_try|date }}.
{% elif autopay %}
It will not be tried again automatically: follow up with the customer.
{% endif %}

{% if customer_told -%}
The customer has been sent a link to pay.
{%- else -%}
The customer could not be told (no email address or text number on file): contact them.
{%- endif %} The invoice:
{{ invoice_url }}
""",
        sample={"invoice_number": "INV-0042", "customer_name": "Jordan Rivera", "amount": 24500,
                "currency": "USD", "reason": "the card has insufficient funds",
                "invoice_url": "https://suprata.example.com/b/acme/console/invoices/42",
                "customer_told": True, "autopay": True, "next_try": "2026-07-05"},
    )
    register_default(
        "autopay_card_removed",
        description="To the customer when the card autopay charged was removed (by them, or at the payment "
                    "processor). Variables: customer_name, removed_card, replacement_card (or none: autopay "
                    "is off), update_card_url (or none).",
        subject="{% if replacement_card %}Autopay now uses your {{ replacement_card }}"
                "{% else %}Autopay is off: your card was removed{% endif %}",
        text="""Hello {{ customer_name }},

Your {{ removed_card }} was removed, so {{ business.name }} can no longer charge it.
{% if replacement_card %}
Your invoices will be charged automatically to your {{ replacement_card }} from now on.
{% else %}
Automatic payment is off: your invoices will come to you to pay. To turn it back on, save a card and
switch autopay on again.
{% endif %}
{% if update_card_url %}
Manage your cards:
{{ update_card_url }}
{% endif %}

{{ business.name }}
""",
        sample={"customer_name": "Jordan Rivera", "removed_card": "Visa ending 4242",
                "replacement_card": None, "update_card_url": "https://portal.example.com/payment-methods"},
    )
    register_default(
        "card_expiring",
        description="To a customer whose autopay card expires soon. Variables: customer_name, card, "
                    "expires_on, update_card_url (or none).",
        subject="Your {{ card }} expires on {{ expires_on|date }}",
        text="""Hello {{ customer_name }},

The card {{ business.name }} charges automatically, your {{ card }}, expires on {{ expires_on|date }}.
Update it before then so your next invoice is paid without a hitch.
{% if update_card_url %}
Update your card:
{{ update_card_url }}
{% else %}
Reply to this email or call us to update it.
{% endif %}

{{ business.name }}
""",
        sample={"customer_name": "Jordan Rivera", "card": "Visa ending 4242", "expires_on": "2026-07-31",
                "update_card_url": "https://portal.example.com/payment-methods"},
    )
    register_default(
        "invoice_reminder",
        description="To the customer, on the business's reminder schedule, while an invoice is unpaid. "
                    "Variables: customer_name, invoice_number, amount_due, currency, due_date, days (after "
                    "the due date; negative before it), autopay_failed, pay_url, update_card_url (or none).",
        subject="{% if days < 0 %}Invoice {{ invoice_number }} is due on {{ due_date|date }}"
                "{% else %}Reminder: invoice {{ invoice_number }} is unpaid{% endif %}",
        text="""Hello {{ customer_name }},

{% if days < 0 -%}
A friendly reminder: invoice {{ invoice_number }} for {{ amount_due|money }} is due on {{ due_date|date }}.
{%- elif autopay_failed -%}
Invoice {{ invoice_number }} for {{ amount_due|money }} is still unpaid: the automatic charge of your
card did not go through.
{%- else -%}
Invoice {{ invoice_number }} for {{ amount_due|money }} was due on {{ due_date|date }} and is still unpaid.
{%- endif %}

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
                "pay_url": "https://pay.example.com/i/sample-link",
                "update_card_url": "https://portal.example.com/payment-methods"},
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
    _register_customer_account_defaults()


def _register_customer_account_defaults() -> None:
    """The customer login's messages: password links, address confirmation, and notices of changes."""
    register_default(
        "customer_password_reset",
        description="To a customer who asked for a new portal password. Variables: expires_at; the link is "
                    "placed by Suprata.",
        subject="Choose a new password for {{ business.name }}",
        text="""Hello,

Someone asked for a new password for your {{ business.name }} account.
""",
        text_after="""The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this
email: your password stays as it is.
""",
        html="""<p>Hello,</p>
<p>Someone asked for a new password for your {{ business.name }} account.</p>
""",
        html_after="""<p>The link works once, until {{ expires_at|datetime }}. If you did not ask, ignore this
email: your password stays as it is.</p>
""",
        access_link="reset_url",
        access_label="Choose a new password",
        sample={"reset_url": "https://suprata.example.com/b/acme/account/reset-password/sample-token",
                "expires_at": "2026-07-02T16:04:00+00:00"},
    )
    register_default(
        "customer_password_changed",
        description="To a customer whose portal password changed. Variables: changed_at.",
        subject="Your {{ business.name }} password was changed",
        text="""Hello,

The password of your {{ business.name }} account was changed on {{ changed_at|datetime }}, and every
other session of yours was logged out.

If you did not do this, choose a new password with "Forgot your password?" on the login page, and tell us.
""",
        sample={"changed_at": "2026-07-02T15:04:00+00:00"},
    )
    register_default(
        "customer_email_confirmation",
        description="To confirm the email address of a customer's portal login (a new address, or one not "
                    "yet confirmed). Variables: is_change; the link is placed by Suprata.",
        subject="Confirm your email address for {{ business.name }}",
        text="""Hello,

{% if is_change %}
You asked to use this address for your {{ business.name }} account.
{% else %}
Please confirm this address for your {{ business.name }} account.
{% endif %}
""",
        text_after="""The link works once, for two days. If you did not ask for this, ignore this email.
""",
        html="""<p>Hello,</p>
<p>{% if is_change %}You asked to use this address for your {{ business.name }} account.{% else %}Please
confirm this address for your {{ business.name }} account.{% endif %}</p>
""",
        html_after="""<p>The link works once, for two days. If you did not ask for this, ignore this
email.</p>
""",
        access_link="confirm_url",
        access_label="Confirm my email address",
        sample={"confirm_url": "https://suprata.example.com/b/acme/account/confirm-email/sample-token",
                "is_change": True},
    )
    register_default(
        "customer_email_changed",
        description="To the old address of a customer's portal login that moved to a new one. "
                    "Variables: new_email.",
        subject="Your {{ business.name }} login now uses another email address",
        text="""Hello,

Your {{ business.name }} account now signs in with {{ new_email }} instead of this address.

If you did not make this change, contact us right away.
""",
        sample={"new_email": "jordan.rivera@example.com"},
    )
    register_default(
        "customer_email_taken",
        description="To an address someone tried to move a portal login to, when another login already uses "
                    "it. No variables.",
        subject="Your {{ business.name }} account",
        text="""Hello,

Someone asked to use this email address for a {{ business.name }} account, but an account with this
address exists already, so nothing was changed.

If that was you, log in with this address instead (or choose a new password with "Forgot your
password?"). If it was not you, ignore this email.
""",
        sample={},
    )
