"""The business's staff: who can use the console with which role, invitations by email, deactivation.

Owners only (the ``staff`` permission). The rules (the first member is the owner, a business keeps an
active owner) live in :mod:`core.identity.staff`, shared with the command line.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.activity import audit
from core.console.auth import LINK_PURPOSE, send_password_link
from core.console.blueprint import bp
from core.console.forms import StaffInviteForm
from core.console.invoice_forms import ConfirmForm
from core.extensions import db
from core.identity import tokens
from core.identity.roles import ROLES, requires_permission
from core.identity.sessions import revoke_user_sessions
from core.identity.staff import StaffRuleError, add_staff_member, change_role, deactivate
from core.models import StaffUser


@bp.route("/staff", methods=["GET", "POST"])
@requires_permission("staff")
def staff():
    """Everyone on the staff; the form adds someone and emails them a link to choose a password."""
    form = StaffInviteForm()
    if form.validate_on_submit() and not _already_on_staff(form):
        return _invite(form.name.data.strip(), form.email.data.strip().lower(), form.role.data)
    members = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name))
    ).all()
    status = 400 if form.errors else 200
    return render_template("console/staff.html", members=members, form=form, roles=ROLES), status


def _already_on_staff(form: StaffInviteForm) -> bool:
    email = form.email.data.strip().lower()
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)) is None:
        return False
    form.email.errors.append("Someone on the staff already has this email address.")
    return True


def _invite(name: str, email: str, role: str):
    # No password until they choose one: nothing verifies against an empty hash.
    user = add_staff_member(email=email, name=name, role=role)
    send_password_link(user, "invite", invited_by=current_user.name)
    return _recorded("staff.invited", user,
                     f"{name} is invited as {ROLES[role].label}: a link to choose a password is on its way "
                     f"to {email}.", role=role)


def _member_or_404(user_id: int) -> StaffUser:
    return db.get_or_404(StaffUser, user_id)


@bp.post("/staff/<int:user_id>/invite")
@requires_permission("staff")
def resend_invitation(user_id: int):
    user = _member_or_404(user_id)
    if not user.active or user.password_hash:
        abort(404)  # only someone still invited has an invitation to send again
    send_password_link(user, "invite", invited_by=current_user.name)
    return _recorded("staff.invited", user,
                     f"A new link is on its way to {user.email}; earlier links no longer work.")


@bp.post("/staff/<int:user_id>/role")
@requires_permission("staff")
def set_staff_role(user_id: int):
    """Give someone another role; it applies to their very next page."""
    user = _member_or_404(user_id)
    role = request.form.get("role", "")
    if role == user.role:
        return redirect(url_for("console.staff"))
    try:
        change_role(user, role)
    except StaffRuleError as exc:
        return _refused(exc)
    return _recorded("staff.role_changed", user, f"{user.name} is now {ROLES[role].label}.", role=role)


@bp.route("/staff/<int:user_id>/deactivate", methods=["GET", "POST"])
@requires_permission("staff")
def deactivate_staff(user_id: int):
    """Lock someone out at once, after a confirmation that says so: their sessions and password links end;
    their name stays on the records."""
    user = _member_or_404(user_id)
    if user.id == current_user.id:
        flash("You can't deactivate yourself; ask someone else on the staff.", "error")
        return redirect(url_for("console.staff"))
    form = ConfirmForm()
    form.confirm.label.text = f"Yes, deactivate {user.name}"
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("console/deactivate_staff.html", member=user, form=form), status
    try:
        deactivate(user)
    except StaffRuleError as exc:
        return _refused(exc)
    revoke_user_sessions(user)
    tokens.revoke_all(LINK_PURPOSE, email=user.email)
    return _recorded("staff.deactivated", user, f"{user.name} can no longer log in.")


@bp.post("/staff/<int:user_id>/reactivate")
@requires_permission("staff")
def reactivate_staff(user_id: int):
    user = _member_or_404(user_id)
    user.active = True
    return _recorded("staff.reactivated", user, f"{user.name} can log in again with their password.")


def _refused(exc: StaffRuleError):
    db.session.rollback()
    flash(str(exc), "error")
    return redirect(url_for("console.staff"))


def _recorded(action: str, user: StaffUser, message: str, **details):
    """Audit ``action`` on ``user``, commit, and go back to the staff page saying ``message``."""
    audit(action, f"staff {user.email}", **details)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("console.staff"))
