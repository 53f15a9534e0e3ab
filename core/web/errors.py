"""Error pages in the business's theme: a missing record is a 404 page, never a stack trace.

When the database cannot be reached (down, restarting, out of connections) a page that needs it answers 503
with ``Retry-After``: a clear "try again in a minute" instead of an error, and one log line, not a traceback
per request.
"""

from __future__ import annotations

import logging

from flask import g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
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
    503: ("We'll be right back", "This page can't be shown right now. Nothing you entered was lost; please "
          "try again in a minute."),
}
# What the database driver raises when the server is down, restarting or out of connections.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
RETRY_AFTER_SECONDS = 30


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

    def database_unavailable(exc: Exception):
        log.error("database unavailable: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool replaces it on the next checkout
            db.session.remove()
        g.pop("set_realm_cookie", None)
        body, code = render_error(503)
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        db.session.rollback()
        g.pop("set_realm_cookie", None)
        return render_error(500)
