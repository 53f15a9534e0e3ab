"""Per request: an id for every log line, one access line, and its latency in the metrics.

The id comes from the trusted reverse proxy's ``X-Request-ID`` when there is one (so its log and ours
match), else it is made here; either way the response carries it back in ``X-Request-ID``. The access line
and the metrics name the route (``/pay/<token>``), never the address, which holds secret tokens.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, g, request

from core.observability.logs import current_request_id, enter_request, leave_request, new_request_id
from core.observability.metrics import observe_request

access_log = logging.getLogger("suprata.access")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _incoming_id(trust_proxy: bool) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "") if trust_proxy else ""
    return offered if _ACCEPTABLE_ID.fullmatch(offered) else new_request_id()


def init_app(app: Flask) -> None:
    """Install the hooks; call before any other ``before_request`` so everything after is tagged."""
    trust_proxy = app.config.get("SUPRATA_TRUSTED_PROXIES", 0) > 0

    @app.before_request
    def start_request():
        g.request_started = time.perf_counter()
        g.request_id_token = enter_request(_incoming_id(trust_proxy))

    @app.after_request
    def finish_request(response):
        response.headers[REQUEST_ID_HEADER] = current_request_id()
        started = g.get("request_started")
        if started is not None:
            elapsed = time.perf_counter() - started
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            observe_request(route, request.method, response.status_code, elapsed)
            access_log.info("%s %s %s %.1f ms", request.method, route, response.status_code, elapsed * 1000)
        return response

    @app.teardown_request
    def end_request(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            leave_request(token)
