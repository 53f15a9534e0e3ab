"""The help site's emails, each a default template a business may rewrite in its console."""

from core.plugin_api import register_template

_TICKET_SAMPLE = {"customer_name": "Jordan Rivera", "ticket_number": 1042,
                  "subject": "Water heater makes a knocking noise"}

register_template(
    "helpdesk_ticket_confirm",
    description="To someone who sent a ticket from the public form: the link that puts it in the queue, "
                "placed by Suprata. Variables: customer_name, subject, expires_at.",
    subject="Confirm your request: {{ subject }}",
    text="""Hello {{ customer_name }},

We received your request “{{ subject }}”. To send it to our team, confirm that this email address is
yours:
""",
    text_after="""The link works once, until {{ expires_at|date }}; until then your request waits, and then
it is deleted. If you did not write to us, ignore this email.

{{ business.name }}
""",
    html="""<p>Hello {{ customer_name }},</p>
<p>We received your request “{{ subject }}”. To send it to our team, confirm that this email address is
yours.</p>
""",
    html_after="""<p>The link works once, until {{ expires_at|date }}; until then your request waits, and
then it is deleted. If you did not write to us, ignore this email.</p>
<p>{{ business.name }}</p>
""",
    access_link="confirm_url",
    access_label="Send my request",
    sample={"customer_name": "Jordan Rivera", "subject": "Water heater makes a knocking noise",
            "confirm_url": "https://suprata.example.com/b/acme/help/tickets/confirm/sample-token",
            "expires_at": "2026-07-16T15:04:00+00:00"},
)
register_template(
    "helpdesk_ticket_received",
    description="To the customer when their ticket reaches the queue. Variables: customer_name, "
                "ticket_number, subject, ticket_url (or none when they have no login).",
    subject="We have your request #{{ ticket_number }}: {{ subject }}",
    text="""Hello {{ customer_name }},

Your request #{{ ticket_number }} “{{ subject }}” is with our team. We'll email you as soon as we answer.
{% if ticket_url %}
See it, and add to it, here: {{ ticket_url }}
{% endif %}

{{ business.name }}
""",
    sample=_TICKET_SAMPLE | {"ticket_url": "https://suprata.example.com/b/acme/help/tickets/1042"},
)
register_template(
    "helpdesk_ticket_new",
    description="To the business's email address: a ticket reached the queue. Variables: customer_name, "
                "customer_email, ticket_number, subject, queue_url.",
    subject="New ticket #{{ ticket_number }}: {{ subject }}",
    text="""{{ customer_name }} ({{ customer_email }}) sent ticket #{{ ticket_number }}: {{ subject }}

Open it in the queue: {{ queue_url }}
""",
    sample=_TICKET_SAMPLE | {"customer_email": "jordan@example.com",
                             "queue_url": "https://suprata.example.com/b/acme/console/help/tickets/1042"},
)
register_template(
    "helpdesk_ticket_reply",
    description="To the customer on every reply from staff. Variables: customer_name, ticket_number, "
                "subject, reply, staff_name, status (open, pending, resolved or closed), ticket_url (or "
                "none).",
    subject="Re: {{ subject }} [#{{ ticket_number }}]",
    text="""Hello {{ customer_name }},

{{ staff_name }} replied to your request #{{ ticket_number }}:

{{ reply }}
{% if ticket_url %}

Reply, or see the whole conversation: {{ ticket_url }}
{% else %}

Reply to this email if you need anything else.
{% endif %}
{% if status == "resolved" %}
We think this is solved. If it is not, reply and the request opens again.
{% endif %}

{{ business.name }}
""",
    sample=_TICKET_SAMPLE | {"reply": "Our plumber can flush the tank on Thursday morning.",
                             "staff_name": "Pat", "status": "pending",
                             "ticket_url": "https://suprata.example.com/b/acme/help/tickets/1042"},
)
