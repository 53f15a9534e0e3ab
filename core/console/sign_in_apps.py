"""Applications customers sign in to with their portal login (OpenID Connect clients): an external help
desk is registered here. Its secret is shown once, on the page that registers it, and never again.

Plugins' own clients (the help site) are listed but managed by their plugin. Owners and admins only (the
``sign_in_apps`` permission): a registered address receives customers' identities.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select

from core.activity import audit
from core.console.blueprint import bp
from core.console.forms import SignInAppForm
from core.extensions import db
from core.identity.login import private
from core.identity.oidc.clients import ClientError, register_client, revoke_client
from core.identity.oidc.server import issuer
from core.identity.roles import requires_permission
from core.models import OidcClient


@bp.route("/sign-in-apps", methods=["GET", "POST"])
@requires_permission("sign_in_apps")
def sign_in_apps():
    form = SignInAppForm()
    created = secret = None
    if form.validate_on_submit():
        try:
            created, secret = register_client(
                form.name.data, (form.redirect_uris.data or "").splitlines(),
                post_logout_redirect_uris=(form.post_logout_redirect_uris.data or "").splitlines(),
                backchannel_logout_uri=(form.backchannel_logout_uri.data or "").strip() or None)
        except ClientError as exc:
            db.session.rollback()
            form.redirect_uris.errors.append(str(exc))
        else:
            audit("business.sign_in_app_added", f"sign-in app {created.name}", client_id=created.client_id)
            db.session.commit()
            form = SignInAppForm(formdata=None)
    apps = db.session.scalars(select(OidcClient).order_by(OidcClient.revoked_at.is_not(None),
                                                          OidcClient.created_at.desc())).all()
    page = render_template("console/sign_in_apps.html", form=form, apps=apps, created=created, secret=secret,
                           issuer=issuer())
    return private(page, 400 if form.errors else 200)


@bp.post("/sign-in-apps/<int:app_id>/revoke")
@requires_permission("sign_in_apps")
def revoke_sign_in_app(app_id: int):
    row = db.session.get(OidcClient, app_id)
    if row is None or row.plugin_name is not None:
        return redirect(url_for("console.sign_in_apps"))
    revoke_client(row)
    audit("business.sign_in_app_revoked", f"sign-in app {row.name}", client_id=row.client_id)
    db.session.commit()
    flash(f"{row.name} can no longer sign customers in.", "success")
    return redirect(url_for("console.sign_in_apps"))
