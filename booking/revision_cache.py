"""Rendered text kept by the revision of the data it shows, in each process: calendar
feeds by their ETag, listings by the catalogue's revision (`cached_listing`), and the
search form by its query (`form_cache`).

A calendar feed is a pure function of its strong ETag: the ETag is a digest of every
value the feed shows (computed by one aggregate query, `calendar.feeds.feed_version`),
which is why a client holding it may be answered 304. So the text rendered for an
ETag can be served again to anyone who asks while the ETag is unchanged, logged in or
not, without a time limit: the first change to anything the feed shows gives a new
ETag, and so a new render. Unlike the page cache this is on whatever
`PAGE_CACHE_SECONDS` says; `LISTING_CACHE_SECONDS=0` turns it off with the listings
(`kept_feed`), so that every feed is rendered afresh.

Each process keeps at most `max_bytes` characters of text, least recently used first
out. Two requests missing at once both render (the same text); nothing waits on a lock
while rendering. Text is kept only if the key is still current once it is rendered (the
data did not change between the ETag's query and the render's).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from flask import current_app

from booking import catalogue_revision
from booking.models.base import utcnow

FEED_CACHE_BYTES = 16 * 1024 * 1024
LISTING_CACHE_BYTES = 16 * 1024 * 1024
FORM_CACHE_BYTES = 2 * 1024 * 1024


class RevisionCache:
    """Text by a key that names the data's revision (an ETag), bounded in characters."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(
        self,
        key: Hashable,
        render: Callable[[], str],
        still_current: Callable[[], bool] | None = None,
    ) -> str:
        """The text kept for `key`, or `render()`'s, kept for next time if
        `still_current()` (asked after rendering) says the data did not change while it
        was read: text read from newer data is served but never kept under an older key."""
        with self._lock:
            text = self._items.get(key)
            if text is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return text
            self.misses += 1
        text = render()
        if len(text) > self.max_bytes // 4:
            return text  # too large to keep without pushing out everything else
        if still_current is not None and not still_current():
            return text
        with self._lock:
            if key not in self._items:
                self._items[key] = text
                self._size += len(text)
            while self._size > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
        return text

    @property
    def size(self) -> int:
        """Characters kept."""
        return self._size


_create_lock = threading.Lock()


def _app_cache(name: str, max_bytes: int) -> RevisionCache:
    """One cache per app, so two apps in one process, as in the tests, never share text."""
    extensions = current_app.extensions
    cache = extensions.get(name)
    if cache is None:
        with _create_lock:
            cache = extensions.setdefault(name, RevisionCache(max_bytes))
    return cache


def feed_cache() -> RevisionCache:
    """This app's cache of rendered calendar feeds."""
    return _app_cache("revision_cache.feeds", FEED_CACHE_BYTES)


def listing_cache() -> RevisionCache:
    """This app's cache of rendered listings (`cached_listing`)."""
    return _app_cache("revision_cache.listings", LISTING_CACHE_BYTES)


def form_cache() -> RevisionCache:
    """This app's cache of rendered search forms: each is a function of the address's
    query alone (no data, no visitor), so it is kept by that query with no revision."""
    return _app_cache("revision_cache.forms", FORM_CACHE_BYTES)


def kept_feed(etag: str, render: Callable[[], str], still_current: Callable[[], bool]) -> str:
    """A feed's text, kept by its ETag (`feed_cache`), or rendered each time when
    LISTING_CACHE_SECONDS is 0 (nothing rendered from the catalogue is kept then)."""
    if current_app.config.get("LISTING_CACHE_SECONDS", 0) <= 0:
        return render()
    return feed_cache().get_or_render(etag, render, still_current=still_current)


def _quarter_hour(now: datetime) -> int:
    """Which quarter of an hour `now` is in: every zone's midnight falls on one's start."""
    return int(now.timestamp() // 900)


def cached_listing(
    name: str, key: Hashable, render: Callable[[], str], *, by_local_date: bool = False,
    revision: int | None = None,
) -> str:
    """Text rendered from the catalogue (search results, a centre's classes, the home
    page's), kept by the catalogue's revision for everyone, logged in or not.

    The key joins `name` and `key` (what the text is of: a search's parameters and
    scope) to the catalogue's revision and the next moment time alone changes a listing
    (`booking.catalogue_revision`), so the text is never served after a change the
    product made, nor past a class's start or end. With `by_local_date` (a search by
    the baby's age or by dates, which count from today in each centre's zone) also to
    the quarter hour, since a day changes somewhere at each. LISTING_CACHE_SECONDS (0:
    off) bounds how long any text is kept, for changes made outside the product.
    `revision` is the catalogue's revision when this transaction has read it already
    (`catalogue_revision.COLUMN`), with rows read in the same statement: what `render`
    reads is then no older than it.
    """
    seconds = current_app.config.get("LISTING_CACHE_SECONDS", 0)
    if seconds <= 0:
        return render()
    now = utcnow()
    revision, next_change = catalogue_revision.state(now, revision)
    if not revision:
        return render()  # no revision yet (a new database): nothing to keep text under
    full_key = (name, key, revision, next_change, int(now.timestamp() // seconds),
                _quarter_hour(now) if by_local_date else None)
    return listing_cache().get_or_render(
        full_key, render, still_current=lambda: catalogue_revision.current() == revision
    )
