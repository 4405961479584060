"""A few seconds of in-process caching for anonymous public pages, and cheap 304s.

Public catalogue pages, the read API and the public calendar feeds look the same
to every visitor without a session, so a rendered copy can be served again for
`PAGE_CACHE_SECONDS` (default 5; 0 turns the cache off, as in the tests). Two
parts work together:

- `_mark_cacheable` (a Flask after_request hook) decides: a GET of a listed public
  endpoint, answered 200, by a request without a session or remember cookie and
  without an Authorization header, that set no cookie. It gives such a response a
  strong ETag (unless it has one), a short public Cache-Control with `Vary: Cookie`,
  answers If-None-Match with 304, and tells the middleware it may keep the response.
- `PageCache` (WSGI middleware around the app) serves a kept copy before Flask is
  entered, or a 304 when the client already holds it. When a copy expires, one
  request renders it again while the others keep getting the old copy for a
  moment, so a busy page is rendered about once per interval per worker. When that
  request is itself conditional and the app answers 304 with the kept copy's ETag, the
  copy is still current and is kept for another interval (otherwise clients that only
  ever revalidate, such as calendar apps, would pass every request to the app).

Nothing that depends on who is asking is cached: a parent's own pages, the booking
form of a logged-in parent and every POST always reach the application.
"""

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, g, request, session
from werkzeug.http import is_resource_modified, unquote_etag

from booking.settings import SettingsError

DEFAULT_SECONDS = 5
MAX_ENTRIES = 1000
MAX_BODY_BYTES = 512 * 1024
# What a worker keeps at most, in bodies: a crawler walking every filter of the
# catalogue (each its own address) cannot make the cache hold 1,000 large pages.
MAX_BYTES = 16 * 1024 * 1024
STALE_GRACE_SECONDS = 10
ENVIRON_KEY = "booking.page_cache.seconds"
BROWSER_MAX_AGE = 5

# Endpoints whose anonymous GET responses are the same for everyone.
CACHEABLE_ENDPOINTS = frozenset(
    {
        "public.index",
        "public.classes",
        "public.workshop_detail",
        "public.centres",
        "public.centre_detail",
        "public.instructor_detail",
        "public.topic",
        "api.centres",
        "api.centre",
        "api.workshops",
        "api.workshop",
        "feeds.centre_feed",
        "feeds.instructor_feed",
    }
)
# Headers a 304 leaves out (RFC 9110 15.4.5: it describes the stored representation).
_NOT_IN_304 = frozenset({"content-length", "content-type", "content-encoding",
                         "transfer-encoding", "content-disposition"})


@dataclass
class _Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    expires: float
    refreshing: bool = False


def _cookie_names(app) -> tuple[str, ...]:
    return (
        app.config.get("SESSION_COOKIE_NAME", "session"),
        app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
    )


def _has_identity(environ, cookie_names) -> bool:
    """The request carries a session, a remember cookie or credentials."""
    if environ.get("HTTP_AUTHORIZATION"):
        return True
    cookies = environ.get("HTTP_COOKIE", "")
    if not cookies:
        return False
    for part in cookies.split(";"):
        name = part.split("=", 1)[0].strip()
        if name in cookie_names:
            return True
    return False


class PageCache:
    """WSGI middleware: keeps and replays responses the app marked as cacheable."""

    def __init__(self, wsgi_app, cookie_names: tuple[str, ...]):
        self.wsgi_app = wsgi_app
        self.cookie_names = cookie_names
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._bytes = 0  # the kept bodies' size
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every kept page."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes of the bodies kept."""
        return self._bytes

    @staticmethod
    def _key(environ) -> tuple:
        return (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("HTTP_X_FORWARDED_PROTO"),
            environ.get("HTTP_X_FORWARDED_HOST"),
            environ.get("HTTP_X_FORWARDED_PREFIX"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),  # the searcher's country (catalogue)
        )

    def _lookup(self, key) -> _Entry | None:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now < entry.expires:
                self._entries.move_to_end(key)
                return entry
            if now < entry.expires + STALE_GRACE_SECONDS and entry.refreshing:
                return entry  # someone is rendering a fresh copy: serve this one meanwhile
            if now < entry.expires + STALE_GRACE_SECONDS:
                entry.refreshing = True  # this request renders it again
                return None
            self._bytes -= len(self._entries.pop(key).body)
            return None

    def _store(self, key, entry: _Entry) -> None:
        """Keep the entry; the least recently used go while there are too many, or
        their bodies weigh more than MAX_BYTES."""
        with self._lock:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._bytes -= len(replaced.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
                self._bytes -= len(self._entries.popitem(last=False)[1].body)

    def _release(self, key) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.refreshing = False

    def _revalidated(self, key, headers, seconds) -> None:
        """The app answered 304 with the kept copy's ETag: keep the copy for longer."""
        found = {k.lower(): v for k, v in headers}
        etag = unquote_etag(found["etag"])[0] if found.get("etag") else None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            entry.refreshing = False
            if etag is not None and etag == entry.etag:
                entry.expires = time.monotonic() + seconds

    @staticmethod
    def _replay(environ, start_response, entry: _Entry):
        if is_resource_modified(_by_etag_only(environ), etag=entry.etag):
            start_response(entry.status, entry.headers)
            return [entry.body]
        headers = [(k, v) for k, v in entry.headers if k.lower() not in _NOT_IN_304]
        start_response("304 NOT MODIFIED", headers)
        return []

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or _has_identity(environ, self.cookie_names):
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        entry = self._lookup(key)
        if entry is not None:
            return self._replay(environ, start_response, entry)

        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        try:
            app_iter = self.wsgi_app(environ, capture)
        except BaseException:
            self._release(key)
            raise
        seconds = environ.get(ENVIRON_KEY)
        status = captured.get("status", "")
        if seconds and status.startswith("304"):
            self._revalidated(key, captured["headers"], seconds)
            return app_iter
        if not seconds or not status.startswith("200"):
            self._release(key)
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        if len(body) <= MAX_BODY_BYTES:
            headers = list(captured["headers"])
            found = {k.lower(): v for k, v in headers}
            self._store(
                key,
                _Entry(
                    status=captured["status"],
                    headers=headers,
                    body=body,
                    etag=unquote_etag(found["etag"])[0] if found.get("etag") else None,
                    expires=time.monotonic() + seconds,
                ),
            )
        else:
            self._release(key)
        return [body]


def _by_etag_only(environ) -> dict:
    """The request's conditions without If-Modified-Since: only an ETag answers 304. A
    page's dates do not move when something leaves it (a class unpublished from a
    feed), nor for a second change within one second."""
    if "HTTP_IF_MODIFIED_SINCE" not in environ:
        return environ
    return {k: v for k, v in environ.items() if k != "HTTP_IF_MODIFIED_SINCE"}


def mark_personal() -> None:
    """Say that the response being made depends on who asked, not only on its address
    (a search refused a look-up because of this visitor's budget): it is not kept."""
    g.page_cache_personal = True


def _mark_cacheable(response):
    """Conditional-request headers for anonymous public GETs, and the cache's go-ahead.

    A 200 may be kept; a 304 the view gave itself (a feed checks its version without
    rendering) tells the cache that the copy with that ETag is still current.
    """
    seconds = current_app.config.get("PAGE_CACHE_SECONDS", 0)
    if g.get("page_cache_personal"):
        # Made for this visitor alone: neither this cache nor any other may keep it.
        response.headers["Cache-Control"] = "private, no-store"
        return response
    if (
        request.method != "GET"
        or request.endpoint not in CACHEABLE_ENDPOINTS
        or response.status_code not in (200, 304)
        or response.direct_passthrough
        or response.headers.get("Set-Cookie")
        or session.modified
        or _has_identity(request.environ, _cookie_names(current_app))
    ):
        return response
    if response.status_code == 304:
        if seconds and response.headers.get("ETag"):
            request.environ[ENVIRON_KEY] = seconds
        return response
    if not response.headers.get("ETag"):
        digest = hashlib.sha256(response.get_data()).hexdigest()[:32]
        response.set_etag(digest)
    if "Cache-Control" not in response.headers:
        # Short, and varying by cookie: a browser that logs in asks again.
        response.headers["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE}"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    response.make_conditional(_by_etag_only(request.environ))
    if seconds and response.status_code in (200, 304):
        request.environ[ENVIRON_KEY] = seconds
    return response


def _configured_seconds(app) -> int:
    if "PAGE_CACHE_SECONDS" in app.config:
        return int(app.config["PAGE_CACHE_SECONDS"])
    if app.testing:
        return 0  # tests see every change at once unless they ask for the cache
    raw = os.environ.get("PAGE_CACHE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_SECONDS
    try:
        return max(0, int(raw))
    except ValueError as exc:
        raise SettingsError(f"PAGE_CACHE_SECONDS must be a whole number, not {raw!r}") from exc


def init_app(app) -> None:
    """Register the after_request hook and wrap the WSGI app with the page cache."""
    app.config["PAGE_CACHE_SECONDS"] = _configured_seconds(app)
    app.after_request(_mark_cacheable)
    cache = PageCache(app.wsgi_app, _cookie_names(app))
    app.wsgi_app = cache
    app.extensions["page_cache"] = cache
