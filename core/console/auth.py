"""Staff login, logout, password change and password links; every other console page needs a staff login.

A password link (an invitation or a reset) is a single-use, expiring action token sent by email. The
"forgot" form answers the same, in the same time, whatever the address, so it tells nobody who works here:
it only queues a background task, and the worker looks the address up. After too many failed logins for
one email the login is locked (:mod:`core.identity.lockout`); the page says until when, the account holder
is emailed, and a password set from an emailed link ends the lock.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.activity import audit
from core.background.tasks import background_task
from core.console.blueprint import bp
from core.console.forms import ForgotPasswordForm, LoginForm, PasswordChangeForm, SetPasswordForm
from core.extensions import db, limiter
from core.identity import lockout, tokens
from core.identity.passwords import hash_password, needs_rehash, verify_password, verify_unknown_user
from core.identity.roles import requires_permission
from core.identity.sessions import end_session, revoke_user_sessions, start_session
from core.models import StaffUser
from core.notifications.outbox import enqueue
from core.plugins.blueprints import login_exempt
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.tenancy.urls import public_url_for
from core.web.helpers import format_datetime

LOGIN_FAILED = "Email or password is incorrect."
# One address cannot guess quickly; many addresses cannot focus on one account either (the lockout).
LOGIN_LIMIT_PER_IP = "10 per minute"
FORGOT_LIMIT_PER_IP = "5 per minute"
FORGOT_LIMIT_PER_EMAIL = "5 per hour"

LINK_PURPOSE = "staff_password"  # the action-token purpose of invitations and resets alike
# An invitation waits for someone to get round to it; a reset is asked for by someone at the screen.
LINK_TTL = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path inside this business's site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers treat a backslash like a slash and drop tabs and newlines: "/\evil.com" is "//evil.com".
    if "\\" in target or any(ord(char) < 0x21 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _email_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return f"staff-login:{current_business().id}:{request.endpoint}:{email}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def login():
    next_path = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(request.script_root + next_path if next_path else url_for("console.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("console/login.html", form=form), 400 if form.is_submitted() else 200
    # Locks apply to any email typed, known or not, so a lock tells nothing about who works here.
    until = lockout.locked_until("staff", form.email.data)
    if until is not None:
        return render_template("console/login.html", form=form, error=locked_message(until)), 429
    user = _authenticate(form.email.data, form.password.data)
    if user is None:
        until = lockout.record_failure("staff", form.email.data)
        if until is not None:
            _tell_account_holder(form.email.data, until)
            return render_template("console/login.html", form=form, error=locked_message(until)), 429
        return render_template("console/login.html", form=form, error=LOGIN_FAILED), 401
    start_session(user)
    return redirect(request.script_root + next_path if next_path else url_for("console.dashboard"))


def locked_message(until: datetime) -> str:
    """What the login page says while a login is locked: how long the lock really lasts, and the way out."""
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    duration = f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many failed attempts: logging in to this account is locked until {format_datetime(until)} "
            f"({duration}). To log in now, choose a new password with “Forgot your password?”: the emailed "
            "link also ends the lock.")


def _tell_account_holder(email: str, until: datetime) -> None:
    """Email the staff member (if there is one with this email) that their login was just locked."""
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))
    if user is None or not user.active:
        return
    enqueue("staff_login_locked", to=user.email, context={
        "staff_name": user.name, "attempts": lockout.LOCK_AFTER.amount, "locked_until": until.isoformat(),
        "forgot_password_url": public_url_for("console.forgot_password"),
    })
    audit("staff.login_locked", f"staff {user.email}", actor="system")
    db.session.commit()


def _authenticate(email: str, password: str) -> StaffUser | None:
    """The active staff member with these credentials, taking as long for unknown emails as for known."""
    email = email.strip().lower()
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None:
        verify_unknown_user(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


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
            user.password_hash = hash_password(form.new_password.data)
            user.password_changed_at = utcnow()
            revoke_user_sessions(user)
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
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
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
        return _private(render_template("console/set_password.html", form=None), 404)
    form = SetPasswordForm(user_inputs=(user.email, user.name, current_business().name))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return _private(render_template("console/set_password.html", form=form, user=user), status)
    if _linked_staff(tokens.consume(LINK_PURPOSE, token)) is None:  # a second tab got there first
        return _private(render_template("console/set_password.html", form=None), 404)
    user.password_hash = hash_password(form.new_password.data)
    user.password_changed_at = utcnow()
    revoke_user_sessions(user)
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


def _private(page: str, status: int):
    """The token in the address opens an account: no cache keeps the page, no referrer carries it on."""
    return page, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
