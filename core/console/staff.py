"""The business's staff: who can use the console, invitations by email, deactivation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.activity import audit
from core.console.auth import LINK_PURPOSE, send_password_link
from core.console.blueprint import bp
from core.console.forms import StaffInviteForm
from core.extensions import db
from core.identity import tokens
from core.identity.sessions import revoke_user_sessions
from core.models import StaffUser


@bp.route("/staff", methods=["GET", "POST"])
def staff():
    """Everyone on the staff; the form adds someone and emails them a link to choose a password."""
    form = StaffInviteForm()
    if form.validate_on_submit() and not _already_on_staff(form):
        return _invite(form.name.data.strip(), form.email.data.strip().lower())
    members = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name))
    ).all()
    status = 400 if form.errors else 200
    return render_template("console/staff.html", members=members, form=form), status


def _already_on_staff(form: StaffInviteForm) -> bool:
    email = form.email.data.strip().lower()
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)) is None:
        return False
    form.email.errors.append("Someone on the staff already has this email address.")
    return True


def _invite(name: str, email: str):
    # No password until they choose one: nothing verifies against an empty hash.
    user = StaffUser(email=email, name=name, password_hash="")
    db.session.add(user)
    db.session.flush()
    send_password_link(user, "invite", invited_by=current_user.name)
    return _recorded("staff.invited", user,
                     f"{name} is invited: a link to choose a password is on its way to {email}.")


def _member_or_404(user_id: int) -> StaffUser:
    return db.get_or_404(StaffUser, user_id)


@bp.post("/staff/<int:user_id>/invite")
def resend_invitation(user_id: int):
    user = _member_or_404(user_id)
    if not user.active or user.password_hash:
        abort(404)  # only someone still invited has an invitation to send again
    send_password_link(user, "invite", invited_by=current_user.name)
    return _recorded("staff.invited", user,
                     f"A new link is on its way to {user.email}; earlier links no longer work.")


@bp.post("/staff/<int:user_id>/deactivate")
def deactivate_staff(user_id: int):
    """Lock someone out at once: their sessions and password links end; their name stays on the records."""
    user = _member_or_404(user_id)
    if user.id == current_user.id:
        flash("You can't deactivate yourself; ask someone else on the staff.", "error")
        return redirect(url_for("console.staff"))
    user.active = False
    revoke_user_sessions(user)
    tokens.revoke_all(LINK_PURPOSE, email=user.email)
    return _recorded("staff.deactivated", user, f"{user.name} can no longer log in.")


@bp.post("/staff/<int:user_id>/reactivate")
def reactivate_staff(user_id: int):
    user = _member_or_404(user_id)
    user.active = True
    return _recorded("staff.reactivated", user, f"{user.name} can log in again with their password.")


def _recorded(action: str, user: StaffUser, message: str):
    """Audit ``action`` on ``user``, commit, and go back to the staff page saying ``message``."""
    audit(action, f"staff {user.email}")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("console.staff"))
