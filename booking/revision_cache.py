"""Rendered text kept by the revision of the data it shows, in each process.

A calendar feed is a pure function of its strong ETag: the ETag is a digest of every
value the feed shows (computed by one aggregate query, `calendar.feeds.feed_version`),
which is why a client holding it may be answered 304. So the text rendered for an
ETag can be served again to anyone who asks while the ETag is unchanged, logged in or
not, without a time limit: the first change to anything the feed shows gives a new
ETag, and so a new render. Unlike the page cache this is on whatever
`PAGE_CACHE_SECONDS` says.

Each process keeps at most `max_bytes` characters of text, least recently used first
out. Two requests missing at once both render (the same text); nothing waits on a lock
while rendering. Text is kept only if the key is still current once it is rendered (the
data did not change between the ETag's query and the render's).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

FEED_CACHE_BYTES = 16 * 1024 * 1024


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


def feed_cache() -> RevisionCache:
    """This app's cache of rendered calendar feeds (one per app, so two apps in one
    process, as in the tests, never share text)."""
    extensions = current_app.extensions
    cache = extensions.get("revision_cache.feeds")
    if cache is None:
        with _create_lock:
            cache = extensions.setdefault("revision_cache.feeds", RevisionCache(FEED_CACHE_BYTES))
    return cache
