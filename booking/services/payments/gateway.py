"""The payment provider: Stripe, through its official SDK, with PaymentIntents.

Every function here makes a network call, so none runs inside a database
transaction: each ends the caller's read-only transaction first (and refuses a write
transaction); callers read what they need, call, and record the answer in a new
transaction. Answers come back as plain `Intent` values.

The SDK (with its HTTP stack) is imported on the first payment call, not when a web
worker starts: most requests never pay, and it is a large part of a worker's memory.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from booking.db import in_write_transaction
from booking.extensions import db
from booking.services.catalogue.params import MAX_ID

if TYPE_CHECKING:
    import stripe

# PaymentIntent statuses that matter here.
SUCCEEDED = "succeeded"
REQUIRES_ACTION = "requires_action"
CANCELED = "canceled"
PROCESSING = "processing"


class GatewayError(Exception):
    """The provider refused a request or could not be reached; `message` is for people."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Intent:
    """What the provider says about one PaymentIntent, now."""

    id: str
    status: str
    amount: int
    currency: str
    client_secret: str
    payment_id: int | None
    payment_key: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


def _sdk():
    """The Stripe SDK, imported on first use."""
    return importlib.import_module("stripe")


def enabled() -> bool:
    """Whether online payment is set up (a secret key is configured)."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def _client() -> stripe.StripeClient:
    stripe = _sdk()
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise GatewayError("Online payment is not set up on this site.", permanent=True)
    base = current_app.config["STRIPE_API_BASE"]
    cache = current_app.extensions.setdefault("stripe_clients", {})
    client = cache.get((key, base))
    if client is None:
        client = stripe.StripeClient(
            key,
            base_addresses={"api": base, "files": base, "connect": base},
            max_network_retries=2,
        )
        cache[(key, base)] = client
    return client


def _outside_transaction() -> None:
    """Make sure no database transaction is open across the provider call: refuse inside
    a write transaction or with unsaved changes; end a read-only one (it holds nothing
    the caller needs, and on SQLite it would keep the database's snapshot pinned)."""
    session = db.session()
    if in_write_transaction() or session.new or session.dirty or session.deleted:
        raise RuntimeError("A payment provider call must not run inside a write transaction.")
    if session.in_transaction():
        session.rollback()


def _plain(obj) -> dict:
    """A provider object as a plain dict (the SDK's objects are not dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _intent(obj, error: str = "") -> Intent:
    obj = _plain(obj)
    metadata = obj.get("metadata") or {}
    payment_id = metadata.get("payment_id")
    try:
        payment_id = int(payment_id) if payment_id is not None else None
    except (TypeError, ValueError):
        payment_id = None
    if payment_id is not None and not 1 <= payment_id <= MAX_ID:
        # Not one of our rows' ids (another integration's number on the same account):
        # never asked of the database, whose integer column could not hold it.
        payment_id = None
    last_error = obj.get("last_payment_error")
    if not error and last_error:
        error = last_error.get("message") or ""
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        client_secret=obj.get("client_secret") or "",
        payment_id=payment_id,
        payment_key=str(metadata.get("payment_key") or ""),
        error=error,
    )


def _failure(exc: stripe.StripeError, *, for_parent: bool = False) -> GatewayError:
    """The provider's refusal as a GatewayError. `for_parent`: the message is shown to a
    parent paying, who is told what to do rather than given the provider's words for
    developers ("Bad request", a parameter's name), which go to the log; staff (a
    refund's error) keep the provider's words."""
    stripe = _sdk()
    if isinstance(exc, stripe.CardError):
        return GatewayError(exc.user_message or "Your card was declined.", permanent=True)
    if isinstance(exc, stripe.InvalidRequestError) and for_parent:
        current_app.logger.warning("payments: the provider refused a request: %s", exc)
        return GatewayError(
            "The payment could not be taken. Please try again in a moment, or ask the "
            "centre if it happens again.",
            permanent=True,
        )
    if isinstance(exc, stripe.InvalidRequestError):
        return GatewayError(
            exc.user_message or "The payment could not be taken.", permanent=True
        )
    return GatewayError("The payment service did not answer. Please try again in a moment.")


def create_intent(
    *, payment_id: int, payment_key: str, amount: int, currency: str, reference: str
) -> Intent:
    """Create the PaymentIntent of one payment row (the row's provider key is the
    idempotency key, so asking twice creates one); our ids go in its metadata."""
    stripe = _sdk()
    _outside_transaction()
    try:
        obj = _client().v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": currency.lower(),
                "metadata": {
                    "payment_id": str(payment_id),
                    "payment_key": payment_key,
                    "reference": reference,
                },
            },
            options={"idempotency_key": f"payment-{payment_key}"},
        )
    except stripe.StripeError as exc:
        raise _failure(exc, for_parent=True) from exc
    return _intent(obj)


# The provider's object ids ("pi_3MtwBwLkdIwHu7ix28a3tqPa"): letters, digits, "_".
_OBJECT_ID = re.compile(r"[A-Za-z0-9_]{1,255}")


def retrieve_intent(intent_id: str) -> Intent:
    """The PaymentIntent as the provider has it now (never trust an event's copy). An id
    that cannot be one of the provider's (".", "..": the HTTP client would turn
    "/payment_intents/." into another address) is not asked about: no such intent."""
    stripe = _sdk()
    _outside_transaction()
    if not isinstance(intent_id, str) or not _OBJECT_ID.fullmatch(intent_id):
        raise GatewayError("There is no such payment.", permanent=True)
    try:
        obj = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404 or exc.code == "resource_missing":
            raise GatewayError("There is no such payment.", permanent=True) from exc
        # Any other refusal (a parameter, the API version) says nothing about the
        # payment: asked again later, not taken as "never paid".
        raise GatewayError(exc.user_message or "The payment could not be read.") from exc
    except stripe.StripeError as exc:
        raise _failure(exc) from exc
    return _intent(obj)


def confirm_with_card(intent_id: str, payment_method: str) -> Intent:
    """Attach the card the browser tokenised (Stripe.js) and confirm the intent. The
    answer may ask for authentication (3-D Secure), which Stripe.js then shows."""
    stripe = _sdk()
    _outside_transaction()
    client = _client()
    try:
        client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
        obj = client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError as exc:
        try:
            return _intent(client.v1.payment_intents.retrieve(intent_id), error=exc.user_message)
        except stripe.StripeError:
            raise _failure(exc, for_parent=True) from exc
    except stripe.StripeError as exc:
        raise _failure(exc, for_parent=True) from exc
    return _intent(obj)


def refund(*, intent_id: str, amount: int, refund_key: str) -> str:
    """Refund `amount` of a PaymentIntent for the refund row named `refund_key` (see
    `Refund.provider_key`); the provider's refund id. Exactly once: a refund already
    made for this row (a crash after the provider answered) is found by its metadata,
    and the key is also the idempotency key."""
    stripe = _sdk()
    _outside_transaction()
    client = _client()
    try:
        existing = client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
        for item in existing.data:
            item = _plain(item)
            metadata = item.get("metadata") or {}
            if str(metadata.get("refund_key")) == refund_key:
                return item["id"]
        obj = client.v1.refunds.create(
            params={
                "payment_intent": intent_id,
                "amount": amount,
                "metadata": {"refund_key": refund_key},
            },
            options={"idempotency_key": f"refund-{refund_key}"},
        )
    except stripe.StripeError as exc:
        raise _failure(exc) from exc
    obj = _plain(obj)
    if obj.get("status") == "failed":
        raise GatewayError("The refund was refused by the card's bank.", permanent=True)
    return obj["id"]


@dataclass(frozen=True)
class Event:
    """A verified provider event: its id, type and the PaymentIntent it is about."""

    id: str
    type: str
    intent_id: str | None


class MalformedEvent(ValueError):
    """A signed event that is not one the provider sends: not an object, or an id, a
    type or a PaymentIntent's id that is not a short line of printable ASCII."""


# The provider's ids ("evt_…", "pi_…") and event types ("payment_intent.succeeded").
_PROVIDER_NAME = re.compile(r"[!-~]{1,255}")


def _provider_name(value, what: str, *, optional: bool = False) -> str | None:
    if optional and value in (None, ""):
        return None
    if not isinstance(value, str) or not _PROVIDER_NAME.fullmatch(value):
        raise MalformedEvent(f"The event's {what} is not one the provider gives.")
    return value


class StaleEvent(ValueError):
    """A genuine signature, made too long ago or ahead of this server's clock."""


def _signed_at(signature: str) -> int | None:
    """The `t=` time of a Stripe-Signature header, in seconds since the epoch."""
    for item in signature.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value) if value.isascii() and value.isdigit() and len(value) < 20 else None
    return None


def verify_event(payload: bytes, signature: str) -> Event:
    """Check the `Stripe-Signature` header against the webhook secret; ValueError when
    the event is forged or stale, MalformedEvent when it is signed but not an event
    (`_provider_name`), or is not UTF-8 text (which no signature can be checked over),
    before anything is read or asked with what it says."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise ValueError("No webhook secret is configured.")
    try:
        payload.decode("utf-8")  # the provider signs UTF-8 text; the SDK would say "forged"
    except UnicodeDecodeError as exc:
        raise MalformedEvent("The event is not UTF-8 text.") from exc
    stripe = _sdk()
    try:  # the signature alone: its time is judged below, both ways
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=None)
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(str(exc) or "The signature does not match.") from exc
    # Signed in the last five minutes, and not ahead of the clock: a replay of an old
    # event is refused, and so is every event when this server's clock is wrong, which
    # the refusal says (the provider shows it beside each failed delivery).
    tolerance = stripe.Webhook.DEFAULT_TOLERANCE
    signed_at = _signed_at(signature)
    if signed_at is None or abs(signed_at - time.time()) > tolerance:
        raise StaleEvent(
            f"The event was signed more than {tolerance // 60} minutes from this "
            "server's time: an old event sent again is refused, and if every event is, "
            "check the server's clock."
        )
    try:
        event = json.loads(payload)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise MalformedEvent("The event is not JSON.") from exc
    except RecursionError as exc:  # nested thousands deep
        raise MalformedEvent("The event is nested too deeply.") from exc
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if obj is None and isinstance(data, dict):
        obj = {}  # an event about nothing: nothing to act on
    if not isinstance(obj, dict):
        raise MalformedEvent("The event has no object.")
    event_id = _provider_name(event.get("id"), "id")
    event_type = _provider_name(event.get("type", ""), "type", optional=True) or ""
    intent_id = None
    if obj.get("object") == "payment_intent":
        intent_id = _provider_name(obj.get("id"), "PaymentIntent id", optional=True)
    elif obj.get("object") in ("charge", "refund"):
        intent_id = _provider_name(obj.get("payment_intent"), "PaymentIntent id", optional=True)
    return Event(id=event_id, type=event_type, intent_id=intent_id)
