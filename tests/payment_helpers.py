"""Helpers for payment tests: a card tokenised as Stripe.js would, signed webhook events,
and switching online payment on for an app."""

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
import uuid

WEBHOOK_SECRET = "whsec_test_booking"
SECRET_KEY = "sk_test_booking"
PUBLISHABLE_KEY = "pk_test_booking"

CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"


def stripe_settings(base: str) -> dict:
    """App settings that point online payment at a localstripe at `base`."""
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": base,
        "STRIPE_JS_URL": base + "/js.stripe.com/v3/",
    }


def card_token(base: str, number: str = CARD_OK) -> str:
    """A card turned into a token at the provider, as Stripe.js does in the browser;
    returns the token's card id (what the pay form posts)."""
    body = urllib.parse.urlencode(
        {
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": PUBLISHABLE_KEY,
        }
    ).encode()
    with urllib.request.urlopen(base + "/v1/tokens", body, timeout=10) as response:
        return json.load(response)["card"]["id"]


def authenticate(base: str, intent_id: str, client_secret: str, success: bool = True) -> None:
    """Complete (or fail) 3-D Secure, as the Stripe.js stand-in's dialog does."""
    body = json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}).encode()
    url = f"{base}/v1/payment_intents/{intent_id}/_authenticate?success={str(success).lower()}"
    with urllib.request.urlopen(url, body, timeout=10):
        pass


def signed_event(
    event_type: str,
    intent_id: str,
    *,
    secret: str = WEBHOOK_SECRET,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, str]:
    """A provider event about a PaymentIntent and its Stripe-Signature header."""
    timestamp = timestamp or int(time.time())
    payload = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "type": event_type,
            "created": timestamp,
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    ).encode()
    return payload, signature_for(payload, secret=secret, timestamp=timestamp)


def signature_for(payload: bytes, *, secret: str = WEBHOOK_SECRET,
                  timestamp: int | None = None) -> str:
    """The Stripe-Signature header the provider would send with this body."""
    timestamp = timestamp or int(time.time())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def refunds_at(base: str, intent_id: str) -> list[dict]:
    """The refunds the provider holds for a PaymentIntent."""
    request = urllib.request.Request(
        f"{base}/v1/refunds?payment_intent={intent_id}",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]
