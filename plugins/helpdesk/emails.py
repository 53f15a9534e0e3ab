"""The help site's own email: the link that confirms a public ticket, a default a business may rewrite in its
console. A ticket entering the queue and each reply are core's "Ticket submitted" and "Ticket replied"
events, sent with core's templates (see :mod:`plugins.helpdesk.tickets`)."""

from core.plugin_api import register_template

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
