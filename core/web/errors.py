"""Error pages in the business's theme: a missing record is a 404 page, never a stack trace."""

from __future__ import annotations

import logging

from flask import g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.extensions import db
from core.identity.roles import NotPermitted

log = logging.getLogger("suprata")

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: ("Not allowed", "You don't have access to this page."),
    404: ("Page not found", "The page you were looking for isn't here. Check the link, or contact us."),
    405: ("Not allowed", "That action isn't available here."),
    413: ("File too large", "That file is larger than we accept. Please choose a smaller one."),
    429: ("Too many attempts", "Please wait a minute and try again."),
    500: ("Something went wrong on our side", "Nothing you entered was lost. Please try again in a moment."),
}


def render_error(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    try:
        body = render_template(
            "error.html", code=code, title=title or default_title, message=message or default_message
        )
    except Exception:  # a broken theme must not turn an error page into a second error
        log.exception("error page failed to render")
        body = f"<h1>{default_title}</h1><p>{default_message}</p>"
    return body, code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_exc):
        return render_error(
            400, "Your form expired",
            "For your security the form timed out. Go back, reload the page and try again.",
        )

    @app.errorhandler(NotPermitted)
    def not_permitted(exc: NotPermitted):
        return render_error(403, message=exc.description)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        db.session.rollback()
        g.pop("set_realm_cookie", None)
        return render_error(500)
