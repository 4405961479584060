"""The catalogue's revision: a number that moves whenever something a public listing
shows changes, and the next moment at which time alone changes one.

Every statement that writes rows to a table listings read (`CATALOGUE_TABLES`) marks
its connection; when that connection's transaction commits, the same transaction first
gives `catalogue_revision.value` a new random value. That write is the last lock a
transaction takes, just before its COMMIT, so while holding it a transaction waits for
nothing else (no lock cycle is possible) and writers queue on it only for their commit.
A rollback forgets the mark (a savepoint's does not: one needless new revision at
worst). The writes are seen in the SQL itself, so the ORM's flushes, Core UPDATEs (a
place taken) and plain SQL are all counted, by the web, the CLI and the workers alike.
A change made outside the product (by hand in psql) is not seen: what is kept from the
catalogue is kept for `LISTING_CACHE_SECONDS` at most for that reason (`backup restore`
renews the revision itself). The table must exist (migration 0009) before this code
serves requests, as every table must.

Listings also change with time alone: a class leaves the catalogue when its first
session ends (or its last late-join week starts), and a card's "next week" moves when a
session starts. `next_change` is the first session start or end after now (two indexed
queries, asked again only when the revision moves or that moment passes): nothing a
listing shows can change with time before it.
"""

import re
import secrets
import threading
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Engine

from booking.extensions import db
from booking.models import CatalogueRevision, WorkshopSession
from booking.models.base import utcnow
from booking.models.revision import REVISION_ROW

CATALOGUE_TABLES = frozenset({
    "baby",  # a waiting baby's dates: whether it fits a class, so counts in its line
    "centre",
    "evaluation",  # the words families agreed to show on centre and instructor pages
    "instructor_profile",
    "membership",  # where an instructor teaches, on their page
    "registration",
    "user_account",
    "workshop",
    "workshop_session",
    "workshop_topic",
})
# Of these tables listings show only these columns (an instructor's name, the words a
# family agreed to show, the dates that decide whether a waiting baby fits its class).
_SHOWN_COLUMNS = {
    "user_account": ("name",),
    "evaluation": ("helped", "public", "answered_at"),
    "baby": ("date_of_birth", "due_date"),
}
# A new row of these tables is in no listing until another table's row refers to it (a
# baby added to an account waits for no class until it is booked).
_NEW_ROWS_UNSHOWN = frozenset({"baby"})
_MARK = "booking_catalogue_changed"
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE
)
# A new random value rather than value + 1: a revision never comes back after its row is
# deleted or an older copy of the database is restored, so text kept under an old
# number is never served for other data.
_BUMP = (
    "INSERT INTO catalogue_revision (id, value) VALUES ({row}, {value}) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)


@sa.event.listens_for(Engine, "after_cursor_execute")
def _mark_catalogue_writes(conn, cursor, statement, parameters, context, executemany):
    """Mark the connection when a statement wrote rows to a catalogue table."""
    if conn.info.get(_MARK):
        return
    match = _WRITE.match(statement)
    if match and match.group(1).lower() in CATALOGUE_TABLES and _changes_listings(
        match.group(1).lower(), statement, cursor
    ):
        conn.info[_MARK] = True


def _changes_listings(table: str, statement: str, cursor) -> bool:
    """Whether a write to a catalogue table can change a listing. An INSERT, or a write
    returning rows (whose count the driver may not know yet), always can; an UPDATE or
    DELETE that matched no row (a refused form's) cannot; of `_SHOWN_COLUMNS`' tables,
    only an UPDATE that sets a shown column can (a login's session_version cannot); an
    INSERT into `_NEW_ROWS_UNSHOWN` cannot."""
    verb = statement.lstrip()[:6].upper()
    if verb == "INSERT" and table in _NEW_ROWS_UNSHOWN:
        return False
    if verb == "UPDATE" and table in _SHOWN_COLUMNS:
        assignments = re.split(r"\bWHERE\b", statement, maxsplit=1, flags=re.IGNORECASE)[0]
        if not any(re.search(rf"[\s,]{column}\s*=", assignments)
                   for column in _SHOWN_COLUMNS[table]):
            return False
    if verb == "INSERT" or "RETURNING" in statement.upper():
        return True
    return cursor.rowcount != 0


_EXISTS = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'catalogue_revision'",
    "postgresql": "SELECT to_regclass('catalogue_revision') IS NOT NULL",
}
_has_table: set[str] = set()  # the databases (URLs) known to have the table


def _table_exists(conn, cursor) -> bool:
    """Whether the database has the revision table yet: a database being migrated
    writes to the catalogue before migration 0009 creates it."""
    url = str(conn.engine.url)
    if url in _has_table:
        return True
    query = _EXISTS.get(conn.dialect.name)
    if query is None:
        return False
    cursor.execute(query)
    row = cursor.fetchone()
    if row and row[0]:
        _has_table.add(url)
        return True
    return False


def forget_known_tables() -> None:
    """Ask the databases afresh whether they have the revision table: migrations (a
    downgrade below 0009, then up again in the same process) drop and create it."""
    _has_table.clear()


@sa.event.listens_for(Engine, "commit")
def _bump_before_commit(conn):
    """Runs just before the DBAPI commit, inside the transaction being committed."""
    if conn.info.pop(_MARK, False):
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            if _table_exists(conn, cursor):
                # Two integers of ours, never anything from outside.
                cursor.execute(_BUMP.format(row=REVISION_ROW, value=secrets.randbits(62)))  # nosec B608
        finally:
            cursor.close()


@sa.event.listens_for(Engine, "rollback")
def _forget_on_rollback(conn):
    conn.info.pop(_MARK, None)


def renew() -> None:
    """Give the catalogue a new revision now, in a transaction of its own: after a
    restore has replaced the data under the product, nothing kept before is served (a
    database restored from before migration 0009 has no revision until it is upgraded)."""
    _has_table.discard(str(db.engine.url))
    with db.engine.begin() as conn:
        conn.info[_MARK] = True


_CURRENT = sa.select(CatalogueRevision.__table__.c.value).where(
    CatalogueRevision.__table__.c.id == REVISION_ROW
)
# The revision as a column of another statement: read with the rows it is kept beside,
# in the same snapshot, it costs no statement of its own (a class page's workshop).
COLUMN = _CURRENT.scalar_subquery().label("catalogue_revision")


def current() -> int:
    """The catalogue's revision as this session's transaction sees it."""
    # A Core statement on the session's connection: the same transaction, without the
    # ORM's work for a single value (read on every listing page).
    return db.session.connection().scalar(_CURRENT) or 0


class _NextChange:
    """The first session start or end after now, kept per revision in each process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._known: tuple[int, datetime, datetime | None] | None = None

    def get(self, revision: int, now: datetime) -> datetime | None:
        with self._lock:
            known = self._known
        if known is not None:
            rev, asked_at, moment = known
            if rev == revision and asked_at <= now and (moment is None or now < moment):
                return moment
        s = WorkshopSession
        moments = [
            db.session.scalar(sa.select(sa.func.min(column)).where(column > now))
            for column in (s.starts_at, s.ends_at)
        ]
        moment = min((m for m in moments if m is not None), default=None)
        with self._lock:
            self._known = (revision, now, moment)
        return moment


_create_lock = threading.Lock()


def state(now: datetime | None = None, revision: int | None = None
          ) -> tuple[int, datetime | None]:
    """The revision (`revision` when this transaction has read it already, as `COLUMN`),
    and the next moment at which time alone may change a listing (None: no session is
    still to start or end). Kept per app: two apps in one process (as in the tests) may
    have two databases."""
    now = now or utcnow()
    revision = current() if revision is None else revision
    extensions = current_app.extensions
    known = extensions.get("catalogue_revision.next_change")
    if known is None:
        with _create_lock:
            known = extensions.setdefault("catalogue_revision.next_change", _NextChange())
    return revision, known.get(revision, now)
