"""Backups of the whole database (`flask backup create DIR`) and restoring one into an
empty database (`flask backup restore FILE`).

SQLite: SQLite's online backup API copies the database in one read transaction, so the
copy is a consistent snapshot while the site keeps booking (in WAL mode readers never
block writers). PostgreSQL: `pg_dump --format=custom`, restored with `pg_restore`; both
get the connection from the app's DATABASE_URL, the password in PGPASSWORD (never on a
command line) and run without a shell. A backup holds personal data: its file is
readable by its owner only.
"""

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from booking import catalogue_revision
from booking.extensions import MIGRATIONS_DIR, db
from booking.services.errors import Conflict, Invalid

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SUFFIXES = {SQLITE: ".sqlite3", POSTGRESQL: ".dump"}
LABELS = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
VERSION_TABLE = "alembic_version"
# The tables whose rows the restore summary counts.
MAIN_TABLES = (
    "centre",
    "user_account",
    "workshop",
    "workshop_session",
    "baby",
    "registration",
    "payment",
    "outbox_message",
)


class BackupFailed(RuntimeError):
    """A backup or restore could not be made (a tool, a file or the database failed);
    the message says why."""


@dataclass
class RestoreSummary:
    """What a restored database holds: its tables, the main tables' rows and the
    schema version, beside the version this code expects."""

    tables: int
    rows: dict[str, int]
    revision: str | None
    head: str | None
    known_revision: bool
    # With force: the backup of what the database held before it was replaced.
    safety_copy: Path | None = None

    @property
    def current(self) -> bool:
        """Whether the restored schema is the one this code runs on."""
        return self.revision is not None and self.revision == self.head


def database_kind() -> str:
    """`sqlite` or `postgresql`: the database the app is configured with."""
    name = db.engine.dialect.name
    if name not in SUFFIXES:
        raise BackupFailed(f"Backups are made of SQLite and PostgreSQL databases, not {name}.")
    return name


def database_label() -> str:
    """The configured database, for messages (never with its password)."""
    url = db.engine.url
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


# What a forced restore replaced is backed up under this name, so that it is never taken
# for the newest scheduled backup.
BEFORE_RESTORE = "booking-before-restore"


def backup_file_name(kind: str, now: datetime | None = None, name: str = "booking") -> str:
    """`booking-YYYYmmdd-HHMMSS.sqlite3` or `.dump` (or another `name` first), stamped
    in UTC."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{name}-{stamp}{SUFFIXES[kind]}"


def create_backup(
    directory: str | os.PathLike, now: datetime | None = None, name: str = "booking"
) -> Path:
    """Back up the whole database into a new file in `directory` (made if missing),
    named by `backup_file_name`; the path of the file. Safe while the site runs."""
    kind = database_kind()
    folder = Path(directory)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(f"Cannot use {folder} for backups: {exc.strerror}.") from exc
    target = folder / backup_file_name(kind, now, name)
    if target.exists():
        raise BackupFailed(f"{target} already exists: wait a second and try again.")
    partial = target.with_name(target.name + ".part")
    try:
        # Created empty, private, and only by us; the copy is written into it.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupFailed(f"Cannot write to {folder}: {exc.strerror}.") from exc
    try:
        if kind == SQLITE:
            _sqlite_backup(_sqlite_path(), partial)
        else:
            _run("pg_dump", "--format=custom", "--no-password", f"--file={partial}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def backup_kind(path: str | os.PathLike) -> str:
    """Which database a backup file is for, read from its first bytes; refuses a file
    that is neither a SQLite database nor a pg_dump custom-format archive."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise Invalid(f"Cannot read {path}: {exc.strerror}.") from exc
    if head == SQLITE_MAGIC:
        return SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return POSTGRESQL
    raise Invalid(
        f"{path} is not a backup made by `backup create`: it is neither a SQLite database "
        "nor a pg_dump custom-format archive (.dump)."
    )


def our_tables() -> list[str]:
    """The product's tables that the configured database already has."""
    names = set(db.metadata.tables) | {VERSION_TABLE}
    return sorted(names & set(sa.inspect(db.engine).get_table_names()))


def restore_backup(
    path: str | os.PathLike,
    *,
    force: bool = False,
    safety_dir: str | os.PathLike | None = None,
) -> RestoreSummary:
    """Restore a backup into the configured database, which must have none of the
    product's tables unless `force`: then what it holds is first backed up into
    `safety_dir` (by default the restored file's folder) as booking-before-restore-*
    (nothing is replaced when that fails), and replaced. A summary of the result."""
    path = Path(path)
    kind = backup_kind(path)
    target = database_kind()
    if kind != target:
        raise Invalid(
            f"{path} is a {LABELS[kind]} backup, but the database ({database_label()}) is "
            f"{LABELS[target]}: restore it into a {LABELS[kind]} database."
        )
    _check_product_backup(path, kind)
    present = our_tables()
    db.session.remove()
    if present and not force:
        raise Conflict(
            f"The database {database_label()} is not empty: it already has "
            f"{len(present)} of the product's tables (such as {present[0]}). Restore into "
            "an empty database, or add --force to replace what is there."
        )
    safety_copy = None
    if present:
        folder = path.parent if safety_dir is None else safety_dir
        safety_copy = create_backup(folder, name=BEFORE_RESTORE)
    db.engine.dispose()
    try:
        if kind == SQLITE:
            _sqlite_restore(path, _sqlite_path())
        elif present:
            _pg_replace(path, present)
        else:
            args = ["--no-owner", "--exit-on-error", "--single-transaction", "--no-password"]
            _run("pg_restore", *args, str(path))
    except BackupFailed as exc:
        if safety_copy is None:
            raise
        raise BackupFailed(f"{exc} What the database held before is in {safety_copy}.") from exc
    db.engine.dispose()
    catalogue_revision.renew()  # listings kept by running servers are not served again
    summary = restore_summary()
    summary.safety_copy = safety_copy
    return summary


def restore_summary() -> RestoreSummary:
    """The configured database's tables, main tables' rows and schema version."""
    present = our_tables()
    with db.engine.connect() as conn:
        rows = {
            name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
            for name in MAIN_TABLES
            if name in present
        }
        revision = None
        if VERSION_TABLE in present:
            version = sa.table(VERSION_TABLE, sa.column("version_num"))
            revision = conn.scalar(sa.select(version.c.version_num))
    from alembic.script import ScriptDirectory  # only here: serving never loads Alembic

    script = ScriptDirectory(MIGRATIONS_DIR)
    known = revision is not None and any(
        each.revision == revision for each in script.walk_revisions()
    )
    return RestoreSummary(
        tables=len(present),
        rows=rows,
        revision=revision,
        head=script.get_current_head(),
        known_revision=known,
    )


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed("Only a SQLite database in a file can be backed up or restored.")
    return Path(database).absolute()


def _sqlite_backup(source: Path, partial: Path) -> None:
    if not source.exists():
        raise BackupFailed(f"The database file {source} does not exist.")
    try:
        with closing(sqlite3.connect(source, timeout=15)) as src, closing(
            sqlite3.connect(partial)
        ) as copy:
            src.backup(copy)
            # One self-contained file: no -wal beside it when it is opened.
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupFailed(f"The SQLite backup failed: {exc}.") from exc
    if check != "ok":
        raise BackupFailed(f"The copy failed SQLite's check: {check}.")


def _sqlite_restore(backup: Path, target: Path) -> None:
    try:
        with closing(
            sqlite3.connect(backup.absolute().as_uri() + "?mode=ro", uri=True)
        ) as src, closing(sqlite3.connect(target, timeout=15)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupFailed(f"The SQLite restore into {target} failed: {exc}.") from exc


def _pg_replace(path: Path, present: list[str]) -> None:
    """Replace the database's tables with a dump's, in one transaction: every one of
    the product's tables there is dropped first (with what depends on it: a foreign key
    a later migration added to a table the dump also has would stop pg_restore's own
    drops), then the dump's script makes its tables again. So the database is exactly
    the backup, and `db upgrade` can bring an older one forward."""
    script = _run(
        "pg_restore", "--no-owner", "--clean", "--if-exists", "--file=-", str(path),
        connect=False,
    )
    drops = "".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in present)
    _run(
        "psql", "--no-password", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
        "--file=-", stdin=drops + script,
    )


def _check_product_backup(path: Path, kind: str) -> None:
    """Refuse a database file or archive that holds no schema version of ours."""
    if kind == SQLITE:
        try:
            with closing(sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)) as conn:
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (VERSION_TABLE,),
                ).fetchone()
                check = conn.execute("PRAGMA quick_check").fetchone()[0] if found else "ok"
        except sqlite3.Error as exc:
            raise Invalid(f"{path} is not a readable SQLite database: {exc}.") from exc
        if check != "ok":
            # Damaged since it was made: restoring it would put the damage in the database.
            raise Invalid(f"{path} is damaged: it fails SQLite's check ({check}).")
    else:
        listing = _run("pg_restore", "--list", str(path), connect=False)
        found = re.search(rf"\bTABLE (DATA )?\S+ {VERSION_TABLE}\b", listing)
    if not found:
        raise Invalid(f"{path} is not a backup of this product's database (no {VERSION_TABLE}).")


def _run(tool: str, *args: str, connect: bool = True, stdin: str | None = None) -> str:
    """Run a PostgreSQL client tool on the configured database (no shell; the password
    in PGPASSWORD); its output, or BackupFailed with its own words."""
    program = shutil.which(tool)
    if program is None:
        raise BackupFailed(
            f"{tool} is not installed: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client), at least the server's version."
        )
    env = dict(os.environ)
    command = [program, *args]
    if connect:
        url = db.engine.url
        if url.password:
            env["PGPASSWORD"] = url.password
        dsn = url.set(drivername="postgresql", password=None)
        command.insert(1, "--dbname=" + dsn.render_as_string(hide_password=False))
    # A damaged dump's own bytes can reach the tool's error message: never a traceback.
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, encoding="utf-8", errors="replace",
        input=stdin, check=False,
    )
    if result.returncode != 0:
        words = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupFailed(f"{tool} failed: {words}")
    return result.stdout
