"""Request ids, Prometheus metrics and structured logs.

- Every request gets an id: the incoming `X-Request-ID` when it is a sane token (at most
  64 letters, digits or `._~:+/=-`), a new uuid4 hex otherwise. It is returned as the
  `X-Request-ID` header and carried by every log line written while the request runs.
- One log line per request on the logger `booking.request`: the request id, the user's
  id (never an email or a name), the route (the endpoint name, never the path, which may
  hold a token), the method, the status and the duration in milliseconds. `LOG_FORMAT`
  says how lines look: `json` (one object per line; the default in production) or
  `text`. Errors keep their stack traces, in the same format.
- Metrics (prometheus-client): requests by endpoint and status, latency by endpoint,
  rate-limit refusals, bookings by the status they got and waiting-list promotions
  (counted after their transaction commits, never for one rolled back). With
  PROMETHEUS_MULTIPROC_DIR set (as `make run` does) each process writes its counts
  there and a scrape adds up every process's, gunicorn workers and job workers alike.

The observer wraps the whole WSGI app, page cache included, so a page served from the
cache is counted and logged too (its endpoint is `page_cache`) and gets its own id.
"""

import ipaddress
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask.logging import default_handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from booking.db import on_committed
from booking.settings import SettingsError

REQUEST_ID = "booking.request_id"
ENDPOINT = "booking.endpoint"
USER_ID = "booking.user_id"
CACHED = "page_cache"  # served by the page cache before the app was entered
UNMATCHED = "unmatched"  # no route matched (a 404 or 405 before any view)
_SANE_ID = re.compile(r"[A-Za-z0-9._~:+/=-]{1,64}")
LOG_FORMATS = ("json", "text")

REQUESTS = Counter(
    "booking_http_requests", "HTTP requests answered, by endpoint and status.",
    ["endpoint", "status"],
)
LATENCY = Histogram(
    "booking_http_request_duration_seconds",
    "Time from a request's arrival to the start of its response, by endpoint.",
    ["endpoint"],
)
RATE_LIMITED = Counter(
    "booking_rate_limited", "Requests refused by a rate limit (429), by endpoint.", ["endpoint"]
)
BOOKINGS = Counter(
    "booking_bookings", "Bookings made, by the status they got (committed ones only).",
    ["status"],
)
PROMOTIONS = Counter(
    "booking_waitlist_promotions",
    "Places given from a waiting list (confirmed, or offered for payment).",
)
for _status in ("confirmed", "waitlisted", "pending_payment"):
    BOOKINGS.labels(_status)

request_log = logging.getLogger("booking.request")


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a sane token, else a new one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served on this thread, if any."""
    return request.environ.get(REQUEST_ID) if has_request_context() else None


class RequestObserver:
    """WSGI middleware: the request id, the metrics and the log line of every request."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID] = request_id
        answered = []

        def start(status, headers, exc_info=None):
            answered.append(status)
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        try:
            result = self.wsgi_app(environ, start)
        except BaseException:
            _observe(environ, 500, started)
            raise
        _observe(environ, int(answered[-1][:3]) if answered else 500, started)
        return result


def _observe(environ, status: int, started: float) -> None:
    seconds = time.perf_counter() - started
    endpoint = environ.get(ENDPOINT, CACHED)
    REQUESTS.labels(endpoint, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(endpoint).inc()
    if request_log.isEnabledFor(logging.INFO):
        method = environ.get("REQUEST_METHOD", "")
        request_log.info(
            "%s %s %s", method, endpoint, status,
            extra={
                "fields": {
                    "request_id": environ[REQUEST_ID],
                    "user_id": environ.get(USER_ID),
                    "route": endpoint,
                    "method": method,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                }
            },
        )


def _signed_in_user_id() -> int | None:
    """The id of the user this request loaded (a session's or an API token's), read from
    the row's identity: after the commit the object is expired and must not load again."""
    for user in (g.get("api_user"), g.get("_login_user")):
        state = sa.inspect(user, raiseerr=False) if user is not None else None
        if state is not None and state.identity:
            return state.identity[0]
    return None


def _note_request(_exc) -> None:
    """Leave the endpoint and the signed-in user's id (when the request loaded one) where
    the observer reads them once the app has answered."""
    environ = request.environ
    environ[ENDPOINT] = request.endpoint or UNMATCHED
    environ[USER_ID] = _signed_in_user_id()


def _count_committed(event: str, count: int) -> None:
    kind, _, detail = event.partition(".")
    if kind == "booking":
        BOOKINGS.labels(detail).inc(count)
    elif event == "waitlist.promotion":
        PROMOTIONS.inc(count)


# Logs -------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request's id, the
    record's `fields` and, for an error, its stack trace."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A plain line for development: time, level, logger, message, then `key=value`."""

    _IN_MESSAGE = frozenset({"route", "method", "status"})

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = {"request_id": current_request_id()} | (getattr(record, "fields", None) or {})
        extra = "".join(
            f" {key}={value}"
            for key, value in fields.items()
            if value is not None and key not in self._IN_MESSAGE
        )
        return super().formatMessage(record) + extra


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a test run swaps it)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def _not_flask_duplicate(record: logging.LogRecord) -> bool:
    """Flask logs an unhandled error on the app's logger, then the 500 handler
    (`booking.errors`) logs it again with its stack trace: one line is enough."""
    return record.funcName != "log_exception"


def _configure_logging(app) -> None:
    """The `booking` loggers write INFO and above to stderr in LOG_FORMAT. Under test
    they keep the root logger's level (request lines are not even made) unless a test
    asks for them with `caplog.set_level(logging.INFO, logger="booking.request")`."""
    log_format = app.config.get("LOG_FORMAT", "text")
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    logger = logging.getLogger("booking")
    logger.setLevel(logging.NOTSET if app.testing else logging.INFO)
    logger.removeHandler(default_handler)
    if _not_flask_duplicate not in logger.filters:
        logger.addFilter(_not_flask_duplicate)
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    logger.propagate = app.testing
    if app.testing:
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger.addHandler(handler)


# Metrics page -----------------------------------------------------------------------


def _networks(allow) -> tuple:
    entries = allow.split(",") if isinstance(allow, str) else list(allow)
    networks = []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"METRICS_ALLOW: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def may_scrape(address: str | None) -> bool:
    """Whether `address` (the client's, after ProxyFix) is in METRICS_ALLOW."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in current_app.extensions["booking.metrics_allow"])


class _Backlog:
    """Gauges of the email queue, measured by the scrape that asks."""

    def __init__(self, backlog):
        self.backlog = backlog

    def collect(self):
        yield GaugeMetricFamily(
            "booking_database_up", "1 when the database answered this scrape, else 0.",
            value=0 if self.backlog is None else 1,
        )
        if self.backlog is None:
            return
        figures = (
            ("booking_outbox_pending_messages", "Emails not sent yet.", "pending"),
            ("booking_outbox_oldest_pending_seconds", "Age of the oldest email not sent yet.",
             "oldest_pending_seconds"),
            ("booking_outbox_failed_messages", "Emails given up on (failed for good).",
             "failed"),
        )
        for name, documentation, attribute in figures:
            yield GaugeMetricFamily(name, documentation, value=getattr(self.backlog, attribute))


def metrics_page(backlog) -> tuple[bytes, str]:
    """The Prometheus text page: this process's metrics (every process's, in
    multiprocess mode) and the email queue's gauges; and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Backlog(backlog))
    return generate_latest(registry) + generate_latest(scrape), CONTENT_TYPE_LATEST


def init_app(app) -> None:
    """Logging, the scrape allow-list, the per-request hooks and the observer around the
    whole app (call it last, after the page cache has wrapped the app)."""
    _configure_logging(app)
    app.extensions["booking.metrics_allow"] = _networks(
        app.config.get("METRICS_ALLOW", "127.0.0.1,::1")
    )
    app.teardown_request(_note_request)
    on_committed(_count_committed)
    app.wsgi_app = RequestObserver(app.wsgi_app)
