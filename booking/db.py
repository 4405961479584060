"""Database plumbing: SQLite settings, write transactions and the commit point."""

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from booking.extensions import db

WRITE_OPTION = "booking_write"
LOCK_SUFFIX = ".writelock"
_WROTE = "booking_wrote"  # a connection's transaction ran more than SELECTs

_turn = threading.local()
_committed_listeners: list[Callable[[str, int], None]] = []
log = logging.getLogger(__name__)


# The database is not there to use, as SQLAlchemy raises it: it does not answer (down,
# a wrong host or port), cannot be opened (a SQLite file whose folder is missing), or
# cannot do the work just now (locked, a statement cancelled): the DB-API's errors "related
# to the database's operation and not necessarily under the control of the programmer".
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError)
# A table or column this version reads is missing: PostgreSQL's undefined table and
# undefined column (a ProgrammingError), SQLite's own words (an OperationalError).
UNDEFINED_STATES = frozenset({"42P01", "42703"})
SQLITE_UNDEFINED = ("no such table", "no such column")


def not_migrated(exc: BaseException) -> bool:
    """Whether the database refused a statement for a table or column it does not have:
    its tables are not this version's (never migrated, or by an older version)."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)  # psycopg's SQLSTATE
    if state is not None:
        return state in UNDEFINED_STATES
    return str(exc.orig).startswith(SQLITE_UNDEFINED)


def unusable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used (unavailable, or without this
    version's tables) rather than that the code's SQL is at fault."""
    return isinstance(exc, UNAVAILABLE) or not_migrated(exc)


def driver_words(exc: sa.exc.DBAPIError) -> str:
    """The first line of what the database driver said (psycopg adds the statement's
    line and a caret below it)."""
    return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]


def _lock_path(conn) -> str | None:
    """The writers' lock file next to a file-backed SQLite database."""
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + LOCK_SUFFIX


def _take_turn(conn) -> None:
    """Wait, in the order the kernel wakes us, until no other writer holds the file.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so under a burst of
    bookings a writer can keep losing the race and wait for seconds. An exclusive
    flock() on a lock file beside the database (one per transaction, so threads of one
    process queue as well as processes) is released by its holder at commit and hands
    the turn over at once; BEGIN IMMEDIATE then finds the database free.
    """
    if getattr(_turn, "fd", None) is not None:
        return  # this thread already holds the turn (a nested write transaction)
    path = _lock_path(conn)
    if path is None:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    _turn.fd = fd


def _end_turn() -> None:
    """Let the next writer in (closing the file releases the lock)."""
    fd = getattr(_turn, "fd", None)
    if fd is not None:
        _turn.fd = None
        os.close(fd)


@sa.event.listens_for(Engine, "after_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany):
    """Remember that the connection's transaction ran anything but a SELECT (a write,
    a SET, a lock: see `_end_reads`)."""
    if statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


@sa.event.listens_for(Engine, "commit")
@sa.event.listens_for(Engine, "rollback")
def _forget_writes(conn):
    conn.info.pop(_WROTE, None)


def _end_reads(exc: BaseException | None) -> None:
    """At the end of a request, on PostgreSQL, end a transaction that only read with
    COMMIT rather than the ROLLBACK that closing the session sends: the same for the
    data, but psycopg forgets its prepared statements at every ROLLBACK, so PostgreSQL
    would plan each page's queries again on every request. A transaction that ran
    anything but SELECTs (a write, a SET, a lock), or a request that failed, is rolled
    back as before. It never raises: the session's own teardown, which closes it, runs
    after it."""
    if exc is not None or in_write_transaction():
        return
    try:
        session = db.session()
        if not session.is_active or not session.in_transaction():
            return
        if session.get_bind().dialect.name != "postgresql":
            return
        if session.new or session.dirty or session.deleted:
            return
        if session.connection().info.get(_WROTE):
            return
        expire = session.expire_on_commit
        session.expire_on_commit = False  # as closing leaves them: loaded, not expired
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except Exception:  # the session is closed (and rolled back) next either way
        log.exception("ending a read-only transaction failed")


def init_app(app) -> None:
    """Register `_end_reads` at the end of each request: before the app context's
    teardown, where the session is closed."""
    app.teardown_request(_end_reads)


@sa.event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """WAL, foreign keys and a busy timeout; let SQLAlchemy issue BEGIN itself."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@sa.event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """Write transactions take SQLite's write lock up front (BEGIN IMMEDIATE)."""
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(WRITE_OPTION):
        _take_turn(conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if not getattr(_turn, "depth", 0):
                _end_turn()
            raise
    else:
        conn.exec_driver_sql("BEGIN")


@sa.event.listens_for(Engine, "commit")
@sa.event.listens_for(Engine, "rollback")
def _sqlite_on_end(conn):
    """A write transaction begun outside `write_transaction()` gives its turn back here."""
    if conn.dialect.name == "sqlite" and not getattr(_turn, "depth", 0):
        _end_turn()


def begin_write() -> None:
    """Start the use case's write transaction.

    A read-only transaction left open by the caller is ended first so that, on
    SQLite, the write lock is taken before anything is read (no lock upgrade
    that could fail under load). On PostgreSQL this is an ordinary BEGIN.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def in_write_transaction() -> bool:
    """Whether this thread is inside a `write_transaction()` block."""
    return getattr(_turn, "depth", 0) > 0


def require_transaction(step: str = "This step") -> None:
    """Refuse to run a step that changes places outside a write transaction.

    Such steps flush but never commit: run alone, their change would be committed
    by whatever commits next, apart from the checks and locks that belong with it.
    """
    if not in_write_transaction() or not db.session().in_transaction():
        raise RuntimeError(
            f"{step} must run inside write_transaction(): it changes places and "
            "relies on the caller's transaction and locks."
        )


def on_committed(listener: Callable[[str, int], None]) -> None:
    """Call `listener(event, count)` for every event a write transaction noted with
    `note_committed`, once that transaction has committed (metrics count them)."""
    if listener not in _committed_listeners:
        _committed_listeners.append(listener)


def note_committed(event: str, count: int = 1) -> None:
    """Note that the running write transaction did something worth counting ("booking.
    confirmed", "waitlist.promotion"). Listeners hear of it after the outermost commit;
    a rollback, or a savepoint's, forgets it. Outside a write transaction: nothing."""
    if in_write_transaction() and count:
        _turn.events[-1].append((event, count))


def _tell_listeners(events: list[tuple[str, int]]) -> None:
    for event, count in events:
        for listener in _committed_listeners:
            try:
                listener(event, count)
            except Exception:  # a counter must never fail a committed use case
                log.exception("listener of %s failed", event)


@contextmanager
def write_transaction():
    """Run a block as one write transaction: commit on success, roll back on error.

    Only the outermost block commits. A block nested in another joins it as a
    SAVEPOINT: its error rolls back its own work alone (the outer block may catch
    it and carry on), and its work is committed, or rolled back, with the outer
    block's. On SQLite the writer's turn (see `_take_turn`) is given back when the
    outermost block ends, after its commit or rollback. What the blocks noted with
    `note_committed` is told to the listeners after the commit.
    """
    if in_write_transaction():
        _turn.depth += 1
        _turn.events.append([])
        done = False
        try:
            with db.session.begin_nested():
                yield db.session
            done = True
        finally:
            _turn.depth -= 1
            events = _turn.events.pop()
            if done:
                _turn.events[-1].extend(events)
        return
    _turn.depth = 1
    _turn.events = [[]]
    try:
        begin_write()
        yield db.session
        db.session.commit()
        committed = _turn.events[0]
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _turn.depth = 0
        _turn.events = []
        _end_turn()
    _tell_listeners(committed)
