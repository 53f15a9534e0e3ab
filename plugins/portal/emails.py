"""The portal's emails, each a default template a business may rewrite in its console."""

from core.plugin_api import register_template

register_template(
    "portal_signup_confirm",
    description="To someone signing up for the portal: the link that proves the address, placed by Suprata. "
                "No variables.",
    subject="Confirm your email address for {{ business.name }}",
    text="""Hello,

Someone (we hope you) asked to create a {{ business.name }} account with this email address. Confirm it
to continue:
""",
    text_after="""The link works once, for one day. If you did not ask for this, ignore this email: nothing
happens without the link.
""",
    html="""<p>Hello,</p>
<p>Someone (we hope you) asked to create a {{ business.name }} account with this email address.</p>
""",
    html_after="""<p>The link works once, for one day. If you did not ask for this, ignore this email:
nothing happens without the link.</p>
""",
    access_link="confirm_url",
    access_label="Confirm and continue",
    sample={"confirm_url": "https://suprata.example.com/b/acme/portal/signup/sample-token"},
)
register_template(
    "portal_application_received",
    description="To the business's email address: a sign-up with an unknown address waits for approval. "
                "Variables: applicant_name, applicant_email, review_url.",
    subject="Portal sign-up waiting for approval: {{ applicant_name }}",
    text="""{{ applicant_name }} ({{ applicant_email }}) confirmed their email address and asked for a portal
account. We don't have that address on file, so it waits for you to link it to a customer or decline it:
{{ review_url }}
""",
    sample={"applicant_name": "Jordan Rivera", "applicant_email": "jordan@example.com",
            "review_url": "https://suprata.example.com/b/acme/console/portal/applications/1"},
)
register_template(
    "portal_application_approved",
    description="To an approved applicant: the link to choose a password, placed by Suprata. "
                "Variables: customer_name, expires_at.",
    subject="Your {{ business.name }} account is ready",
    text="""Hello {{ customer_name }},

Good news: your {{ business.name }} account is approved. Choose your password here:
""",
    text_after="""The link works once, until {{ expires_at|date }}.

{{ business.name }}
""",
    html="""<p>Hello {{ customer_name }},</p>
<p>Good news: your {{ business.name }} account is approved.</p>
""",
    html_after="""<p>The link works once, until {{ expires_at|date }}.</p>
<p>{{ business.name }}</p>
""",
    access_link="invite_url",
    access_label="Choose your password",
    sample={"customer_name": "Jordan Rivera", "invite_url": "https://portal.example.com/invite/sample-token",
            "expires_at": "2026-07-16T15:04:00+00:00"},
)
register_template(
    "portal_application_declined",
    description="To an applicant whose sign-up staff declined. Variables: applicant_name.",
    subject="Your {{ business.name }} account request",
    text="""Hello {{ applicant_name }},

We couldn't match your request for a {{ business.name }} account to a customer of ours, so we did not
create one. If you think this is a mistake, reply to this email or call us, and we'll sort it out.

{{ business.name }}
""",
    sample={"applicant_name": "Jordan Rivera"},
)
register_template(
    "appointment_requested",
    description="To the business's email address: a customer asked for an appointment in the portal. "
                "Variables: customer_name, service, preferences, notes, review_url.",
    subject="Appointment request: {{ service }} ({{ customer_name }})",
    text="""{{ customer_name }} asked for an appointment: {{ service }}.

Preferred: {{ preferences }}
{% if notes %}
Notes: {{ notes }}
{% endif %}

Confirm a time or propose another one:
{{ review_url }}
""",
    sample={"customer_name": "Jordan Rivera", "service": "Leaking shower valve",
            "preferences": "Jul 2, 2026, morning; Jul 3, 2026, any time", "notes": "The buzzer is broken.",
            "review_url": "https://suprata.example.com/b/acme/console/portal/appointments"},
)
register_template(
    "appointment_answered",
    description="To the customer when staff answer an appointment request. Variables: customer_name, "
                "service, outcome (scheduled, proposed or declined), when (or none), reply (or none), "
                "jobs_url.",
    subject="{% if outcome == 'scheduled' %}Appointment confirmed{% elif outcome == 'proposed' %}"
            "Another time for your appointment{% else %}Your appointment request{% endif %}: {{ service }}",
    text="""Hello {{ customer_name }},

{% if outcome == "scheduled" %}
Your appointment for {{ service }} is confirmed for {{ when }}.
{% elif outcome == "proposed" %}
We can't make the times you asked for {{ service }}; we propose {{ when }} instead. Accept it, or ask for
another time, in your account.
{% else %}
We can't take your appointment request for {{ service }}.
{% endif %}
{% if reply %}

{{ reply }}
{% endif %}

Your appointments: {{ jobs_url }}

{{ business.name }}
""",
    sample={"customer_name": "Jordan Rivera", "service": "Leaking shower valve", "outcome": "proposed",
            "when": "Jul 2, 2026 at 9:00 AM EDT", "reply": "Our plumber can come Thursday morning.",
            "jobs_url": "https://suprata.example.com/b/acme/portal/jobs"},
)
