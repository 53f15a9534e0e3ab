"""The business's web addresses: the host names it is served on, the first used in every link sent out.

Owners only (the ``hosts`` permission): a wrong name sends customers' links nowhere.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from core.activity import audit
from core.console.blueprint import bp
from core.console.forms import HostsForm
from core.extensions import db
from core.identity.roles import requires_permission
from core.tenancy.hosts import HostError, hosts_of, set_hosts
from core.tenancy.state import business_cache, current_business
from core.tenancy.urls import business_base_url


@bp.route("/settings/addresses", methods=["GET", "POST"])
@requires_permission("hosts")
def web_addresses():
    business_id = current_business().id
    if request.method == "GET":
        form = HostsForm(data={"hosts": "\n".join(hosts_of(business_id))})
    else:
        form = HostsForm()
    if form.validate_on_submit():
        try:
            names = set_hosts(business_id, (form.hosts.data or "").splitlines())
        except HostError as exc:
            db.session.rollback()
            form.hosts.errors.append(str(exc))
        else:
            audit("business.hosts_changed", f"business {current_business().slug}",
                  hosts=", ".join(names) or "none")
            db.session.commit()
            business_cache().forget(business_id)
            flash(f"Saved. Links now start with {business_base_url(business_cache().by_id(business_id))}/.",
                  "success")
            return redirect(url_for("console.web_addresses"))
    status = 400 if form.is_submitted() else 200
    return render_template("console/addresses.html", form=form,
                           address=business_base_url(current_business())), status
