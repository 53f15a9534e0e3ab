"""Staff login, logout, password change and password links; every other console page needs a staff login.

A password link (an invitation or a reset) is a single-use, expiring action token sent by email. The
"forgot" form answers the same, in the same time, whatever the address, so it tells nobody who works here:
it only queues a background task, and the worker looks the address up. After too many failed logins for
one email the login is locked (:mod:`core.identity.lockout`); the page says until when, the account holder
is emailed, and a password set from an emailed link ends the lock. The rules shared with the customer login
(constant-time checks, the lockout's words, safe redirects, private pages) are in ``core.identity.login``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from core.activity import audit
from core.background.tasks import background_task
from core.console.blueprint import bp
from core.extensions import db, limiter
from core.identity import lockout, tokens
from core.identity.forms import ForgotPasswordForm, LoginForm, PasswordChangeForm, SetPasswordForm
from core.identity.login import (
    FORGOT_LIMIT_PER_EMAIL,
    FORGOT_LIMIT_PER_IP,
    LOGIN_FAILED,
    LOGIN_LIMIT_PER_IP,
    authenticate,
    email_limit_key,
    find_by_email,
    locked_message,
    next_url,
    private,
    replace_password,
)
from core.identity.passwords import verify_password
from core.identity.roles import requires_permission
from core.identity.sessions import end_session, start_session
from core.models import StaffUser
from core.notifications.outbox import enqueue
from core.plugins.blueprints import login_exempt
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for

LINK_PURPOSE = "staff_password"  # the action-token purpose of invitations and resets alike
# An invitation waits for someone to get round to it; a reset is asked for by someone at the screen.
LINK_TTL = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}


_email_key = email_limit_key("staff")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def login():
    if current_user.is_authenticated:
        return redirect(next_url(url_for("console.dashboard")))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("console/login.html", form=form), 400 if form.is_submitted() else 200
    # Locks apply to any email typed, known or not, so a lock tells nothing about who works here.
    until = lockout.locked_until("staff", form.email.data)
    if until is not None:
        return render_template("console/login.html", form=form, error=locked_message(until)), 429
    user = authenticate(StaffUser, form.email.data, form.password.data)
    if user is None:
        until = lockout.record_failure("staff", form.email.data)
        if until is not None:
            _tell_account_holder(form.email.data, until)
            return render_template("console/login.html", form=form, error=locked_message(until)), 429
        return render_template("console/login.html", form=form, error=LOGIN_FAILED), 401
    start_session(user)
    return redirect(next_url(url_for("console.dashboard")))


def _tell_account_holder(email: str, until: datetime) -> None:
    """Email the staff member (if there is one with this email) that their login was just locked."""
    user = find_by_email(StaffUser, email)
    if user is None or not user.active:
        return
    enqueue("staff_login_locked", to=user.email, context={
        "staff_name": user.name, "attempts": lockout.LOCK_AFTER.amount, "locked_until": until.isoformat(),
        "forgot_password_url": public_url_for("console.forgot_password"),
    })
    audit("staff.login_locked", f"staff {user.email}", actor="system")
    db.session.commit()


@bp.post("/logout")
@requires_permission("console")
def logout():
    end_session("staff")
    flash("You are logged out.", "success")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@requires_permission("console")
def change_password():
    """Change one's own password: every other session ends, this one continues under a new token."""
    user = current_user._get_current_object()
    form = PasswordChangeForm(user_inputs=(user.email, user.name, current_business().name))
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.current_password.data):
            replace_password(user, form.new_password.data)
            enqueue(
                "staff_password_changed",
                to=user.email,
                context={"staff_name": user.name, "changed_at": user.password_changed_at.isoformat()},
            )
            audit("staff.password_changed", f"staff {user.email}")
            start_session(user)
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("console.dashboard"))
        form.current_password.errors.append("That is not your current password.")
    status = 400 if form.is_submitted() else 200
    return render_template("console/password.html", form=form), status


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(FORGOT_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(FORGOT_LIMIT_PER_EMAIL, methods=["POST"], key_func=_email_key)
@login_exempt
def forgot_password():
    """Email a password link to an active staff member; the same answer, in the same time, for any address."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("console/forgot_password.html", form=form), 400 if form.is_submitted() else 200
    send_reset_if_on_staff.enqueue(form.email.data.strip().lower())
    db.session.commit()
    return render_template("console/forgot_password.html", form=None, sent_to=form.email.data.strip())


@background_task
def send_reset_if_on_staff(email: str) -> None:
    """In the worker: email a reset link if ``email`` belongs to an active staff member, else nothing."""
    user = find_by_email(StaffUser, email)
    if user is not None and user.active:
        send_password_link(user, "reset")


def send_password_link(user: StaffUser, reason: str, *, invited_by: str | None = None) -> None:
    """Email ``user`` a fresh link to choose a password; earlier links stop working. In the caller's
    transaction."""
    tokens.revoke_all(LINK_PURPOSE, email=user.email)
    ttl = LINK_TTL[reason]
    token = tokens.issue(LINK_PURPOSE, ttl=ttl, email=user.email, payload={"staff_user_id": user.id})
    context = {
        "staff_name": user.name,
        "set_password_url": public_url_for("console.set_password", token=token),
        "expires_at": (utcnow() + ttl).isoformat(),
    }
    if reason == "invite":
        enqueue("staff_invitation", to=user.email, context={**context, "invited_by": invited_by})
    else:
        enqueue("staff_password_reset", to=user.email, context=context)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def set_password(token: str):
    """Choose a password from an emailed link: the link is used up, every session of the user ends."""
    link = tokens.peek(LINK_PURPOSE, token)
    user = _linked_staff(link)
    if user is None:
        return private(render_template("console/set_password.html", form=None), 404)
    form = SetPasswordForm(user_inputs=(user.email, user.name, current_business().name))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return private(render_template("console/set_password.html", form=form, user=user), status)
    if _linked_staff(tokens.consume(LINK_PURPOSE, token)) is None:  # a second tab got there first
        return private(render_template("console/set_password.html", form=None), 404)
    replace_password(user, form.new_password.data)
    audit("staff.password_set", f"staff {user.email}", actor=user.name)
    db.session.commit()
    lockout.end_lock("staff", user.email)  # reading the mailbox proves who they are
    flash("Your password is set. Log in with it.", "success")
    return redirect(url_for("console.login"))


def _linked_staff(link) -> StaffUser | None:
    """The active staff member a live password link is for."""
    if link is None:
        return None
    user = db.session.get(StaffUser, link.payload.get("staff_user_id"))
    if user is None or not user.active or user.email != link.email:
        return None
    return user
