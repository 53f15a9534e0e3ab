"""Staff login, logout and password change; every other console page needs a staff login."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from core.activity import audit
from core.console import bp
from core.console.forms import LoginForm, PasswordChangeForm
from core.extensions import db, limiter
from core.identity.passwords import hash_password, needs_rehash, verify_password, verify_unknown_user
from core.identity.sessions import end_session, revoke_user_sessions, start_session
from core.models import StaffUser
from core.notifications.outbox import enqueue
from core.tenancy import utcnow

LOGIN_FAILED = "Email or password is incorrect."
# Per address and per email: one address cannot guess quickly, many addresses cannot focus on one account.
LOGIN_LIMIT_PER_IP = "10 per minute"
LOGIN_LIMIT_PER_EMAIL = "20 per hour"
OPEN_ENDPOINTS = {"console.login"}


@bp.before_request
def require_staff_login():
    """Every console page but the login form needs a staff session of this business."""
    if request.endpoint in OPEN_ENDPOINTS or current_user.is_authenticated:
        return None
    return redirect(url_for("console.login", next=_current_path()))


def _current_path() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


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
    return f"staff-login:{g.business.id}:{email}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(LOGIN_LIMIT_PER_EMAIL, methods=["POST"], key_func=_email_key)
def login():
    next_path = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(request.script_root + next_path if next_path else url_for("console.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("console/login.html", form=form), 400 if form.is_submitted() else 200
    user = _authenticate(form.email.data, form.password.data)
    if user is None:
        return render_template("console/login.html", form=form, error=LOGIN_FAILED), 401
    start_session(user)
    return redirect(request.script_root + next_path if next_path else url_for("console.dashboard"))


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
def logout():
    end_session("staff")
    flash("You are logged out.", "success")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
def change_password():
    """Change one's own password: every other session ends, this one continues under a new token."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
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
