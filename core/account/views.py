"""The customer login's pages: sign in, sign out (here or everywhere), forgotten and changed passwords, and
confirming an email address. Every other customer page needs a login of the current business, and a
confirmed email address (``core.plugins.blueprints``).

Like the staff login, the answers tell nobody which addresses have a login here: a failed sign-in says the
same for an unknown address and a wrong password, and asking for a reset link answers the same for any
address. Pages reached through an emailed link are private (``no-store``, ``no-referrer``); a used,
expired, mutated or unknown link gets one page that says how to ask for a new one.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.account import logins
from core.account.blueprint import bp
from core.account.forms import ChangeEmailForm
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
    locked_message,
    next_url,
    private,
    replace_password,
)
from core.identity.passwords import verify_password
from core.models import CustomerUser
from core.notifications.outbox import enqueue
from core.plugins.blueprints import login_exempt, open_to_unconfirmed
from core.tenancy import utcnow
from core.tenancy.state import current_business
from core.web.helpers import hook_slot

CHANGE_LIMIT = "5 per hour"  # new-address and re-sent confirmation emails, per address
_email_key = email_limit_key("customer")


def home_url() -> str:
    """Where a customer lands after signing in: the portal's first tab, or this account page."""
    if current_user.email_confirmed_at is None:
        return url_for("account.unconfirmed")
    tabs = hook_slot("render_portal_tab", customer=current_user.customer, request=request)
    return tabs[0].url if tabs else url_for("account.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def login():
    if current_user.is_authenticated:
        return redirect(next_url(home_url()))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("account/login.html", form=form), 400 if form.is_submitted() else 200
    # Too many failures for one email lock it, as for staff; a lock says nothing about who has a login.
    until = lockout.locked_until("customer", form.email.data)
    if until is not None:
        return render_template("account/login.html", form=form, error=locked_message(until)), 429
    user = authenticate(CustomerUser, form.email.data, form.password.data)
    if user is None:
        until = lockout.record_failure("customer", form.email.data)
        if until is not None:
            return render_template("account/login.html", form=form, error=locked_message(until)), 429
        return render_template("account/login.html", form=form, error=LOGIN_FAILED), 401
    logins.sign_in(user)
    return redirect(next_url(home_url()))


@bp.post("/logout")
@open_to_unconfirmed
def logout():
    logins.sign_out()
    flash("You are logged out.", "success")
    return redirect(url_for("account.login"))


@bp.post("/logout-everywhere")
@open_to_unconfirmed
def logout_everywhere():
    """"Log out of all devices": a lost phone or a shared computer keeps no way in."""
    logins.sign_out_everywhere(current_user._get_current_object())
    flash("You are logged out on every device, this one included.", "success")
    return redirect(url_for("account.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(FORGOT_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(FORGOT_LIMIT_PER_EMAIL, methods=["POST"], key_func=_email_key)
@login_exempt
def forgot_password():
    """Email a reset link to an active login; the same answer for any address."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("account/forgot_password.html", form=form), 400 if form.is_submitted() else 200
    user = logins.login_for_email(form.email.data)
    if user is not None and user.active:
        logins.send_password_reset(user)
        db.session.commit()
    return render_template("account/forgot_password.html", form=None, sent_to=form.email.data.strip())


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def reset_password(token: str):
    """Choose a new password from an emailed link: every other session ends, this browser is signed in."""
    user = logins.login_for_link(logins.RESET_PURPOSE, tokens.peek(logins.RESET_PURPOSE, token))
    if user is None:
        return _link_not_valid("reset")
    form = SetPasswordForm(user_inputs=_guessable(user))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return private(render_template("account/reset_password.html", form=form, user=user), status)
    if logins.login_for_link(logins.RESET_PURPOSE, tokens.consume(logins.RESET_PURPOSE, token)) is None:
        return _link_not_valid("reset")  # a second tab got there first
    replace_password(user, form.new_password.data)
    # The link went to the login's address: following it proves the address too.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    _tell_password_changed(user)
    logins.sign_in(user)
    lockout.end_lock("customer", user.email)  # reading the mailbox proves who they are
    flash("Your new password is set, and you are logged in.", "success")
    return redirect(home_url())


@bp.get("/")
def home():
    """The account page: the login's address, and forms to change it or the password."""
    return _account_page()


@bp.post("/password")
@limiter.limit(LOGIN_LIMIT_PER_IP)
def change_password():
    """A new password: every other session ends, this one continues under a new token."""
    user = current_user._get_current_object()
    form = PasswordChangeForm(prefix="password", user_inputs=_guessable(user))
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.current_password.data):
            replace_password(user, form.new_password.data)
            _tell_password_changed(user)
            logins.sign_in(user)
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("account.home"))
        form.current_password.errors.append("That is not your current password.")
    return _account_page(password_form=form), 400


@bp.post("/email")
@limiter.limit(CHANGE_LIMIT)
def change_email():
    """Move the login to another address, once a link sent there is followed; until then nothing changes."""
    form = ChangeEmailForm(prefix="email")
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.current_password.data):
            new_email = form.new_email.data.strip().lower()
            if new_email == user.email:
                form.new_email.errors.append("That is already your address.")
            else:
                logins.send_confirmation(user, new_email)
                db.session.commit()
                flash(f"We sent a link to {new_email}. Your address changes once you follow it.", "success")
                return redirect(url_for("account.home"))
        else:
            form.current_password.errors.append("That is not your current password.")
    return _account_page(email_form=form), 400


@bp.get("/confirm-email/<token>")
@login_exempt
def confirm_email(token: str):
    """Follow a confirmation link (in any browser): the address is confirmed, or the login moves to it."""
    user = logins.confirm_email(token)
    if user is None:
        db.session.rollback()
        return _link_not_valid("confirm")
    db.session.commit()
    flash(f"Your email address {user.email} is confirmed.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("account.home"))
    return redirect(url_for("account.login"))


@bp.route("/unconfirmed", methods=["GET", "POST"])
@limiter.limit(CHANGE_LIMIT, methods=["POST"])
@open_to_unconfirmed
def unconfirmed():
    """Signed in, but the address is not confirmed: nothing else is shown until it is."""
    user = current_user._get_current_object()
    if user.email_confirmed_at is not None:
        return redirect(home_url())
    if request.method == "POST":
        logins.send_confirmation(user)
        db.session.commit()
        flash(f"A new link is on its way to {user.email}.", "success")
        return redirect(url_for("account.unconfirmed"))
    return render_template("account/unconfirmed.html")


def _account_page(password_form=None, email_form=None) -> str:
    return render_template("account/home.html",
                           password_form=password_form or PasswordChangeForm(prefix="password"),
                           email_form=email_form or ChangeEmailForm(prefix="email"))


def _guessable(user: CustomerUser) -> tuple[str, ...]:
    """What a password must not be built from: the login's address, the customer's name, the business."""
    return user.email, user.customer.name, current_business().name


def _tell_password_changed(user: CustomerUser) -> None:
    enqueue("customer_password_changed", to=user.email, customer_id=user.customer_id,
            context={"changed_at": user.password_changed_at.isoformat()})


# Where each kind of link sends someone who needs a new one.
NEW_LINK = {
    "reset": ("account.forgot_password", "Ask for a new link"),
    "confirm": ("account.unconfirmed", "Log in to ask for a new link"),
}


def _link_not_valid(kind: str):
    endpoint, label = NEW_LINK[kind]
    return private(render_template("account/link_not_valid.html", ask_url=url_for(endpoint), ask_label=label),
                   404)
