"""Endpoints for load balancers and monitoring, answered without a business and without a login.

- ``/healthz`` (liveness): the process answers. It touches no backend, so an outage of the database does
  not get every web process restarted.
- ``/readyz`` (readiness): 200 ``ready`` when every backend answers; 200 ``degraded`` when only the queue or
  the rate-limit storage is down (customer pages still work: route traffic here, but alert); 503
  ``unavailable`` with ``Retry-After`` when the database is down. The body says which backend and why.
- ``/metrics``: Prometheus, for a caller with ``Authorization: Bearer $SUPRATA_METRICS_TOKEN``; without a
  configured token it is not served at all.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, request

from core.observability import backends, metrics

log = logging.getLogger("suprata.health")

bp = Blueprint("ops", __name__)
bp.realm = None

RETRY_AFTER_SECONDS = 30


@bp.get("/healthz")
def live():
    return {"status": "ok"}


@bp.get("/readyz")
def ready():
    probes = backends.probe_all(current_app._get_current_object())
    for probe in probes:
        if not probe.ok:
            log.warning("readiness: %s %s", probe.name, probe.detail)
    if any(p.required and not p.ok for p in probes):
        status, code = "unavailable", 503
    elif any(not p.ok for p in probes):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    body = {"status": status, "checks": {p.name: p.problem or "ok" for p in probes}}
    headers = {"Cache-Control": "no-store"}
    if code == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return body, code, headers


@bp.get("/metrics")
def metrics_page():
    token = current_app.config.get("SUPRATA_METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("A bearer token is required.\n", 401, {"WWW-Authenticate": "Bearer"})
    return Response(metrics.exposition(), mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})
