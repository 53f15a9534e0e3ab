"""Getting a login: signing up with an address on file (or applying, when the business queues unknown
addresses), and accepting an invitation. These pages are open to visitors who are not signed in.

The sign-up form's answer is the same page for every address, and its link pages are private (``no-store``,
``no-referrer``); a used, expired or unknown link gets core's "this link doesn't work any more" page with a
way to ask for a new one.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from core.plugin_api import (
    SetPasswordForm,
    accept_invitation,
    current_business,
    current_business_id,
    db,
    find_invitation,
    limiter,
    login_exempt,
    private,
    safe_next_path,
    sign_in,
)
from plugins.portal import registration
from plugins.portal.blueprints import portal
from plugins.portal.forms import ApplicationForm, SignupForm

SIGNUP_LIMIT_PER_IP = "5 per minute"
SIGNUP_LIMIT_PER_EMAIL = "5 per hour"


def _email_key() -> str:
    """One counter per business and submitted address: many addresses cannot focus on one inbox."""
    email = (request.form.get("email") or "").strip().lower()
    return f"portal-signup:{current_business_id()}:{email}"


@portal.route("/signup", methods=["GET", "POST"])
@limiter.limit(SIGNUP_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(SIGNUP_LIMIT_PER_EMAIL, methods=["POST"], key_func=_email_key)
@login_exempt
def signup():
    """Ask for an address; whatever it is, the answer is "check your email"."""
    if not registration.self_registration_open():
        return render_template("portal/signup_closed.html")
    if current_user.is_authenticated:
        return redirect(url_for("account.home"))
    form = SignupForm()
    if not form.validate_on_submit():
        return render_template("portal/signup.html", form=form), 400 if form.is_submitted() else 200
    registration.start_signup(form.email.data, safe_next_path(request.args.get("next")))
    db.session.commit()
    return render_template("portal/signup_sent.html", email=form.email.data.strip())


@portal.route("/signup/<token>", methods=["GET", "POST"])
@limiter.limit(SIGNUP_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def signup_confirm(token: str):
    """The link from the sign-up email: choose a password (address on file) or tell staff who you are."""
    signup = registration.signup_for(token)
    if signup is None:
        return _link_not_valid()
    if signup.step in ("has_login", "unknown"):
        return private(render_template("portal/signup_stopped.html", signup=signup))
    guessable = (signup.email, current_business().name)
    form = SetPasswordForm(user_inputs=guessable) if signup.step == "login" else ApplicationForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return private(render_template("portal/signup_confirm.html", form=form, signup=signup), status)
    used = registration.signup_for(token, use=True)
    if used is None or used.step != signup.step:
        return _link_not_valid()  # a second tab used it, or the answer changed: start again
    if used.step == "apply":
        registration.apply(used, name=form.name.data, phone=form.phone.data, note=form.note.data)
        db.session.commit()
        return private(render_template("portal/application_sent.html", signup=used))
    sign_in(registration.finish_signup(used, form.new_password.data))
    return redirect(request.script_root + used.next_path if used.next_path else url_for("portal.home"))


@portal.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(SIGNUP_LIMIT_PER_IP, methods=["POST"])
@login_exempt
def accept_invitation_page(token: str):
    """The link from an invitation (staff's, or the one after a pay-link payment): choose a password."""
    invitation = find_invitation(token)
    if invitation is None:
        return _link_not_valid()
    form = SetPasswordForm(user_inputs=(invitation.email, invitation.customer_name, current_business().name))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return private(render_template("portal/invitation.html", form=form, invitation=invitation), status)
    user = accept_invitation(token, form.new_password.data)
    if user is None:
        return _link_not_valid()
    sign_in(user)
    return redirect(url_for("portal.home"))


def _link_not_valid():
    if registration.self_registration_open():
        ask_url, ask_label = url_for("portal.signup"), "Sign up again"
    else:
        ask_url, ask_label = url_for("account.login"), "Go to the login"
    page = render_template("account/link_not_valid.html", ask_url=ask_url, ask_label=ask_label)
    return private(page, 404)
