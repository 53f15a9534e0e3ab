"""Email authentication: the business's DKIM key and the SPF, DKIM and DMARC records it should publish."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from core.activity import audit
from core.console.blueprint import bp
from core.extensions import db
from core.identity.roles import requires_permission
from core.notifications.mail_auth import (
    current_key,
    dns_records,
    generate_key,
    sending_address,
    sending_domain,
)


@bp.get("/settings/email-authentication")
@requires_permission("settings")
def email_authentication():
    domain = sending_domain()
    key = current_key(domain)
    return render_template("console/email_authentication.html", domain=domain, address=sending_address(),
                           key=key, records=dns_records(domain, key))


@bp.post("/settings/email-authentication/key")
@requires_permission("settings")
def generate_dkim_key():
    """A new signing key for the sending domain; mail is signed with it from now on."""
    key = generate_key()
    audit("dkim.key_generated", f"domain {key.domain}", selector=key.selector)
    db.session.commit()
    flash(f"A new signing key for {key.domain} is ready. Publish its DKIM record below.", "success")
    return redirect(url_for("console.email_authentication"))
