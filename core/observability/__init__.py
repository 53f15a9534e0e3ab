"""Running in production: logging and request ids (:mod:`.logs`, :mod:`.requests`), Prometheus metrics
(:mod:`.metrics`), the health of the backends (:mod:`.backends`) and the liveness, readiness and metrics
endpoints (:mod:`.views`)."""
