"""The business's staff: who can use the console, invitations by email, deactivation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.activity import audit
from core.console import bp
from core.console.auth import LINK_PURPOSE, send_password_link
from core.console.forms import StaffInviteForm
from core.extensions import db
from core.identity import tokens
from core.identity.sessions import revoke_user_sessions
from core.models import StaffUser


@bp.route("/staff", methods=["GET", "POST"])
def staff():
    """Everyone on the staff; the form adds someone and emails them a link to choose a password."""
    form = StaffInviteForm()
    if form.validate_on_submit() and _invite(form):
        return redirect(url_for("console.staff"))
    members = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name))
    ).all()
    status = 400 if form.errors else 200
    return render_template("console/staff.html", members=members, form=form), status


def _invite(form: StaffInviteForm) -> bool:
    email = form.email.data.strip().lower()
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        form.email.errors.append("Someone on the staff already has this email address.")
        return False
    # No password until they choose one: nothing verifies against an empty hash.
    user = StaffUser(email=email, name=form.name.data.strip(), password_hash="")
    db.session.add(user)
    db.session.flush()
    send_password_link(user, "invite", invited_by=current_user.name)
    audit("staff.invited", f"staff {email}")
    db.session.commit()
    flash(f"{user.name} is invited: a link to choose a password is on its way to {email}.", "success")
    return True


def _member_or_404(user_id: int) -> StaffUser:
    return db.get_or_404(StaffUser, user_id)


@bp.post("/staff/<int:user_id>/invite")
def resend_invitation(user_id: int):
    user = _member_or_404(user_id)
    if not user.active:
        abort(404)
    send_password_link(user, "invite", invited_by=current_user.name)
    audit("staff.invited", f"staff {user.email}")
    db.session.commit()
    flash(f"A new link is on its way to {user.email}; earlier links no longer work.", "success")
    return redirect(url_for("console.staff"))


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
    audit("staff.deactivated", f"staff {user.email}")
    db.session.commit()
    flash(f"{user.name} can no longer log in.", "success")
    return redirect(url_for("console.staff"))


@bp.post("/staff/<int:user_id>/reactivate")
def reactivate_staff(user_id: int):
    user = _member_or_404(user_id)
    user.active = True
    audit("staff.reactivated", f"staff {user.email}")
    db.session.commit()
    flash(f"{user.name} can log in again with their password.", "success")
    return redirect(url_for("console.staff"))
