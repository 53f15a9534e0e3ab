"""The help site's sign-in pages: start, the provider's callback, signing out, and the provider's
back-channel logout notices. Every failure ends on a page here that says what happened, never in another
redirect once the loop breaker says enough."""

from __future__ import annotations

from flask import redirect, render_template, request

from core.plugin_api import csrf, private, public_blueprint, safe_next_path
from plugins.helpdesk import sso
from plugins.helpdesk.blueprints import helpdesk

bp = public_blueprint("helpdesk_sso", __name__, url_prefix="/help/sso", template_folder="templates")
# Every help site page is served at the help site's own address, where its sign-in cookie lives, and may
# show a signed-in customer's requests: no cache keeps one.
helpdesk.before_request(sso.stay_on_site)
helpdesk.after_request(sso.not_cached)
bp.after_request(sso.not_cached)

HOME_PATH = "/help/"


def _next_path() -> str:
    return safe_next_path(request.args.get("next")) or HOME_PATH


@bp.get("/start")
def start():
    """Sign in with the portal's login: straight through while the portal session lives."""
    next_path = _next_path()
    silent = request.args.get("silent") == "1"
    if not sso.is_on_site():  # the flow's state must live in the help site's own cookies
        again = {"next": next_path, "silent": "1"} if silent else {"next": next_path}
        return redirect(sso.site_url("helpdesk_sso.start", **again))
    if sso.signed_in_customer() is not None:
        return redirect(request.script_root + next_path)
    if silent and not sso.may_go_automatically():
        return _could_not_sign_in(next_path, 200)
    return redirect(sso.authorization_url(next_path, silent=silent))


@bp.get("/callback")
def callback():
    """The provider sends the browser back here with a code (or an error)."""
    try:
        finished = sso.finish(request.args)
    except sso.ClocksDisagree as skew:
        page = render_template("helpdesk/sso_clocks.html", offset=abs(skew.offset), leeway=sso.leeway(),
                               home=request.script_root + HOME_PATH)
        return private(page, 503)
    except sso.SignInFailed as failure:
        if failure.retry and sso.may_go_automatically():
            return redirect(sso.authorization_url(HOME_PATH, silent=True))
        return _could_not_sign_in(HOME_PATH, 400)
    response = redirect(request.script_root + finished.next_path)
    if finished.token is not None:
        sso.set_cookie(response, finished.token)
    return response


@bp.post("/sign-out")
def sign_out():
    """Sign out of the help site, then of the portal at the provider, which sends the browser back."""
    elsewhere = sso.end_here()
    response = redirect(elsewhere or request.script_root + HOME_PATH)
    return sso.set_cookie(response, None)


@bp.get("/signed-out")
def signed_out():
    return render_template("helpdesk/sso_signed_out.html", home=request.script_root + HOME_PATH)


@bp.post("/backchannel-logout")
@csrf.exempt
def backchannel_logout():
    """The provider says a customer signed out of the portal: their help site sessions end too."""
    try:
        sso.end_for_logout_token(request.form.get("logout_token", ""))
    except sso.SignInFailed:
        return {"error": "invalid_request"}, 400, {"Cache-Control": "no-store"}
    return "", 200, {"Cache-Control": "no-store"}


def _could_not_sign_in(next_path: str, status: int):
    page = render_template("helpdesk/sso_failed.html",
                           retry=sso.site_url("helpdesk_sso.start", next=next_path),
                           home=request.script_root + HOME_PATH)
    return private(page, status)
