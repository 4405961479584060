"""`POST /payments/stripe/webhook`: the provider's events, signature verified."""

from flask import current_app, jsonify, request

from booking.extensions import limiter
from booking.services.payments.gateway import GatewayError
from booking.services.payments.webhook import ForgedEvent, handle_event
from booking.web.payments.blueprint import bp

MAX_EVENT_BYTES = 256 * 1024


@bp.post("/stripe/webhook")
@limiter.exempt
def stripe_webhook():
    """Act once on a signed provider event; 400 for a forged one, 503 when the provider
    cannot be asked about it (it sends the event again later)."""
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return _error(413, "too_large", "The event is too large.")
    payload = request.get_data(cache=False)
    try:
        outcome = handle_event(payload, request.headers.get("Stripe-Signature", ""))
    except ForgedEvent as exc:
        return _error(400, exc.code, exc.message)
    except GatewayError as exc:
        current_app.logger.warning("payments webhook: %s", exc.message)
        return _error(503, "provider_unavailable", exc.message)
    return jsonify({"received": True, "outcome": outcome})


def _error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message, "fields": {}}}), status
