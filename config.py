"""Settings, each read from the environment variable of the same name."""

import os
import secrets

DEFAULT_DEV_SECRET = "development-only-secret-key-change-me"


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _bool(name: str, default: bool = False) -> bool:
    """A yes/no setting; anything else is refused, since a typo read as "off" would turn
    off what it names without a word (the rate limits, the mail's encryption)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise RuntimeError(
            f"{name} must be one of 1, true, yes, on or 0, false, no, off, not {raw!r}"
        )
    return value in _TRUE


def _positive(name: str, default: int) -> int:
    """A whole number of at least 1 (a length of time that must pass)."""
    value = _int(name, default)
    if value < 1:
        raise RuntimeError(f"{name} must be at least 1, not {value}")
    return value


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}") from exc


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise RuntimeError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


# Seconds a new PostgreSQL connection may take (unless DATABASE_URL sets connect_timeout):
# a database host that stops answering fails requests, and /readyz, after that long
# rather than holding every thread that asks for a connection, for good if the host
# accepted the connection but never answers.
PG_CONNECT_TIMEOUT = 5


def engine_options(database_url: str) -> dict:
    """The SQLAlchemy engine options for that database."""
    # A database error's message leaves out the statement's values, so a logged error
    # never carries what a parent typed (health answers above all).
    options: dict = {"hide_parameters": True}
    if database_url.startswith("postgresql") and "connect_timeout=" not in database_url:
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT}
    return options


def _ratelimit_storage_options(uri: str) -> dict:
    """Short timeouts for Redis, so a stalled store slows no request for long."""
    if uri.startswith(("redis://", "rediss://", "redis+")):
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {}


def load_config(instance_path: str) -> dict:
    """Build the app's configuration from the environment."""
    env = os.environ.get("BOOKING_ENV", "development").strip() or "development"
    if env not in {"development", "production"}:
        raise RuntimeError("BOOKING_ENV must be 'development' or 'production'")
    production = env == "production"
    secret = os.environ.get("SECRET_KEY", "")
    if production and len(secret) < 16:
        raise RuntimeError("SECRET_KEY (at least 16 characters) is required in production")
    if not secret:
        secret = DEFAULT_DEV_SECRET
    default_db = "sqlite:///" + os.path.join(instance_path, "booking.sqlite3")
    database_url = normalise_database_url(os.environ.get("DATABASE_URL") or default_db)
    mail_server = os.environ.get("MAIL_SERVER") or None
    ratelimit_uri = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    return {
        "BOOKING_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "BASE_URL": (os.environ.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": mail_server,
        # SMTP over TLS has its own port: 465 unless one is given.
        "MAIL_PORT": _int("MAIL_PORT", 465 if _bool("MAIL_USE_SSL") else 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "Baby Massage Classes <bookings@localhost>",
        "MAIL_DIR": os.path.join(instance_path, "mail"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", default=True),
        "RATELIMIT_STORAGE_URI": ratelimit_uri,
        # A shared store (Redis) that stops answering must never turn requests into 500s:
        # counting carries on in this worker's memory until it answers again.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": _ratelimit_storage_options(ratelimit_uri),
        "PROXY_HOPS": _int("PROXY_HOPS", 0),
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "DEMO_PASSWORD_ALLOWED": not production,
        "PURGE_AFTER_DAYS": _int("PURGE_AFTER_DAYS", 365),
        "PASSWORD_RESET_HOURS": 2,
        # Online payments (Stripe). Without a secret key, workshops cannot take
        # payment online and everything else works as before.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": (os.environ.get("STRIPE_API_BASE") or "https://api.stripe.com").rstrip(
            "/"
        ),
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL") or "https://js.stripe.com/v3/",
        # Place search: a postcodes.io-compatible service for UK postcodes, outward codes
        # and place names; an optional one answering the same way for Australian postcodes.
        "POSTCODES_API_URL": (
            os.environ.get("POSTCODES_API_URL") or "https://api.postcodes.io"
        ).rstrip("/"),
        "AU_POSTCODES_API_URL": (os.environ.get("AU_POSTCODES_API_URL") or "").rstrip("/")
        or None,
        "PAYMENT_HOLD_MINUTES": _positive("PAYMENT_HOLD_MINUTES", 30),
        "PAYMENT_OFFER_HOURS": _positive("PAYMENT_OFFER_HOURS", 24),
        # Operations: request logs, who may scrape /metrics, when /readyz calls the
        # email and payment workers stuck.
        "LOG_FORMAT": _choice("LOG_FORMAT", ("json", "text"), "json" if production else "text"),
        "METRICS_ALLOW": os.environ.get("METRICS_ALLOW") or "127.0.0.1,::1",
        "READY_OUTBOX_MAX_AGE_SECONDS": _int("READY_OUTBOX_MAX_AGE_SECONDS", 900),
        # How long listings rendered from the catalogue are kept at most (they are
        # dropped at once when the catalogue changes through the product); 0 turns it off.
        "LISTING_CACHE_SECONDS": max(0, _int("LISTING_CACHE_SECONDS", 300)),
    }


def random_secret() -> str:
    """A fresh random secret, for tests and one-off scripts."""
    return secrets.token_urlsafe(32)
