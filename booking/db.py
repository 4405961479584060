"""Database plumbing: SQLite settings, write transactions and the commit point."""

import sqlite3
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from booking.extensions import db

WRITE_OPTION = "booking_write"


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
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


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


@contextmanager
def write_transaction():
    """Run a block as one write transaction: commit on success, roll back on error."""
    begin_write()
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
