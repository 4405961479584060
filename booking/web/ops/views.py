"""`/healthz` (the process answers), `/readyz` (it can serve: JSON, 200 or 503) and
`/metrics` (Prometheus, for METRICS_ALLOW only). Never cached, never rate limited, no
personal data, no cookie."""

from flask import Response, abort, current_app, jsonify, request

from booking import observability
from booking.extensions import MIGRATIONS_DIR
from booking.services import ops
from booking.web.ops.blueprint import bp


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers, without touching the database."""
    return _no_store(jsonify(status="ok"))


@bp.get("/readyz")
def readyz():
    """Readiness: each check with what it measured; 503 when any fails."""
    checks = ops.readiness(
        MIGRATIONS_DIR,
        current_app.config["READY_OUTBOX_MAX_AGE_SECONDS"],
    )
    ready = all(check["ok"] for check in checks.values())
    response = jsonify(status="ok" if ready else "failing", checks=checks)
    response.status_code = 200 if ready else 503
    return _no_store(response)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, for the addresses in METRICS_ALLOW only (403 for others)."""
    if not observability.may_scrape(request.remote_addr):
        abort(403, "Metrics are only shown to the addresses in METRICS_ALLOW.")
    body, content_type = observability.metrics_page(ops.outbox_backlog())
    return _no_store(Response(body, content_type=content_type))
