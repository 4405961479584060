"""Security headers on every response, and the keys used for rate limits."""

import unicodedata
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask_limiter.util import get_remote_address

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


# A private feed's address is its secret: it sends no Referer at all.
NO_REFERRER_PATHS = ("/feeds/private/",)
# Pages that show or carry a secret (reset links, calendar links, API tokens) but also
# post forms to us: "same-origin" sends nothing to other sites, while our own form posts
# keep their Referer and Origin headers. With "no-referrer" a browser sends neither
# (Origin: null), and Flask-WTF refuses every such POST over HTTPS.
SAME_ORIGIN_PATHS = ("/password/reset/", "/account/calendar", "/manage/api-tokens")


def allow_framing_from(origins: list[str]) -> None:
    """Let this response be framed by the given origins only (the embed page)."""
    g.frame_ancestors = origins


def no_referrer() -> None:
    """Send no Referer from this page (private feeds and token pages)."""
    g.no_referrer = True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allow_payment_provider() -> None:
    """Let this page load Stripe.js (STRIPE_JS_URL) and let it reach the provider's API
    and frames (the card form, 3-D Secure): the pay page only."""
    config = current_app.config
    js, api = _origin(config["STRIPE_JS_URL"]), _origin(config["STRIPE_API_BASE"])
    frames = [js]
    if js == "https://js.stripe.com":
        frames.append("https://hooks.stripe.com")
    g.payment_origins = {"script": [js], "connect": [api, js], "frame": frames}


def _csp() -> str:
    extra = getattr(g, "payment_origins", None)
    if not extra:
        return CSP_BASE
    script = " ".join(dict.fromkeys(o for o in extra["script"] if o))
    connect = " ".join(dict.fromkeys(o for o in extra["connect"] if o))
    frame = " ".join(dict.fromkeys(o for o in extra["frame"] if o))
    return (
        CSP_BASE.replace("script-src 'self'", f"script-src 'self' {script}")
        .replace("connect-src 'self'", f"connect-src 'self' {connect}")
        + f"; frame-src {frame}"
    )


def _set_headers(response):
    ancestors = getattr(g, "frame_ancestors", None)
    frame = " ".join(ancestors) if ancestors else "'none'"
    response.headers.setdefault("Content-Security-Policy", f"{_csp()}; frame-ancestors {frame}")
    if not ancestors:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if getattr(g, "no_referrer", False) or request.path.startswith(NO_REFERRER_PATHS):
        referrer = "no-referrer"
    elif request.path.startswith(SAME_ORIGIN_PATHS):
        referrer = "same-origin"
    else:
        referrer = "strict-origin-when-cross-origin"
    response.headers.setdefault("Referrer-Policy", referrer)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(self), payment=()"
    )
    if current_app.config["BOOKING_ENV"] == "production":
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


# Guessing API tokens: each address may send this many requests that end in 401.
TOKEN_GUESS_LIMIT = "30 per hour"


def is_unauthorized(response) -> bool:
    """Count only refused credentials (401) against a guessing limit."""
    return response.status_code == 401


def form_email_key() -> str:
    """Rate-limit key for the account named in a form (login, password reset)."""
    # As accounts.users.normalise_email compares addresses: "é" sent either way is one.
    email = unicodedata.normalize("NFC", (request.form.get("email") or "").strip()).lower()
    return f"account:{email[:254]}"


def form_email_address_key() -> str:
    """Rate-limit key for the account named in a form, tried from this address.

    Counting per (account, address) pair means failures from other addresses never
    use up the owner's own allowance.
    """
    return f"{form_email_key()}|address:{get_remote_address()}"


# Pages that show personal data or a secret: never kept by a browser or a shared cache.
PRIVATE_PREFIXES = (
    "/account",
    "/teach",
    "/manage",
    "/admin",
    "/password/reset",
    "/feeds/private",
)


def _is_private_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PRIVATE_PREFIXES)


def _signed_in() -> bool:
    """The request comes from a logged-in session (or a remember cookie) or carries
    credentials; read from the request alone, without loading the user."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return (
        "_user_id" in session
        or remember in request.cookies
        or "Authorization" in request.headers
    )


def no_store_private(response):
    """`Cache-Control: no-store` on every private page and on anything rendered for a
    logged-in user, unless the view chose its own caching (a private feed keeps its
    `private` revalidation, static files their own)."""
    if "Cache-Control" in response.headers:
        return response
    if _is_private_path(request.path) or _signed_in():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    """Register the headers hooks."""
    app.after_request(_set_headers)
    app.after_request(no_store_private)
