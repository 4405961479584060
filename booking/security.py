"""Security headers on every response, and the keys used for rate limits."""

from flask import current_app, g, request

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def allow_framing_from(origins: list[str]) -> None:
    """Let this response be framed by the given origins only (the embed page)."""
    g.frame_ancestors = origins


def no_referrer() -> None:
    """Send no Referer from this page (private feeds and token pages)."""
    g.no_referrer = True


def _set_headers(response):
    ancestors = getattr(g, "frame_ancestors", None)
    frame = " ".join(ancestors) if ancestors else "'none'"
    response.headers.setdefault("Content-Security-Policy", f"{CSP_BASE}; frame-ancestors {frame}")
    if not ancestors:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    referrer = "no-referrer" if getattr(g, "no_referrer", False) else (
        "strict-origin-when-cross-origin"
    )
    response.headers.setdefault("Referrer-Policy", referrer)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
    )
    if current_app.config["BOOKING_ENV"] == "production":
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


def form_email_key() -> str:
    """Rate-limit key for the account named in a form (login, password reset)."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"account:{email}"


def init_app(app) -> None:
    """Register the headers hook."""
    app.after_request(_set_headers)
