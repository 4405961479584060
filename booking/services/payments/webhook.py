"""`POST /payments/stripe/webhook`: provider events, each acted on once.

The signature is checked first; an event id already recorded changes nothing
(replays); the PaymentIntent is read again from the provider rather than trusted
from the event, so events arriving out of order settle on the intent's state now.
"""

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import StripeEvent
from booking.services.errors import Invalid
from booking.services.payments import gateway
from booking.services.payments.settle import settle_intent

# Events that may mean money moved on a PaymentIntent.
INTENT_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "charge.succeeded",
)


class ForgedEvent(Invalid):
    """The event's signature does not match: it did not come from the provider."""

    status = 400
    code = "bad_signature"


class BadEvent(ForgedEvent):
    """A signed body that is not an event the provider sends (`gateway.MalformedEvent`)."""

    code = "bad_event"


def handle_event(payload: bytes, signature: str) -> str:
    """Verify and act on one event; what was done, in a word. Raises ForgedEvent for a
    bad signature (BadEvent, one of them, for a signed body that is not an event) and
    gateway.GatewayError when the provider cannot be asked for now (it then sends the
    event again later); an intent the provider says is not ours is recorded as acted
    on, so it is not sent again for days."""
    try:
        event = gateway.verify_event(payload, signature or "")
    except gateway.MalformedEvent as exc:
        raise BadEvent(str(exc)) from exc
    except gateway.StaleEvent as exc:
        raise ForgedEvent(str(exc)) from exc
    except ValueError as exc:
        raise ForgedEvent("The event's signature does not match.") from exc
    seen = db.session.scalar(sa.select(StripeEvent.id).where(StripeEvent.id == event.id))
    if seen is not None:
        return "duplicate"
    outcome = "ignored"
    if event.type in INTENT_EVENTS and event.intent_id:
        try:
            intent = gateway.retrieve_intent(event.intent_id)
        except gateway.GatewayError as exc:
            if not exc.permanent:
                raise  # the provider sends the event again later
            intent = None  # not an intent of this account: nothing to act on, ever
            outcome = "not_ours"
        if intent is not None:
            outcome = settle_intent(intent)
    try:
        with write_transaction():
            already = db.session.scalar(
                sa.select(StripeEvent.id).where(StripeEvent.id == event.id)
            )
            if already is None:
                db.session.add(StripeEvent(id=event.id[:255], type=event.type[:80]))
    except sa.exc.IntegrityError:
        return "duplicate"  # the same event, acted on at the same moment by another worker
    return outcome
