"""`flask backup create DIR` and `flask backup restore FILE`: a backup restored into a new
database gives identical rows, also one taken in the middle of a booking storm, which
holds every booking committed before it started and no half-written one."""

import sqlite3
import threading
import time

import sqlalchemy as sa

from booking import create_app
from booking.extensions import db
from booking.models import OutboxMessage, Registration, User, Workshop
from booking.services.backup import VERSION_TABLE, create_backup
from booking.services.booking.book import book_place


def _app_on(url, tmp_path):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": None,
            "MAIL_DIR": str(tmp_path / "restored-mail"),
        }
    )


def _restore(url, tmp_path, path, *extra):
    target = _app_on(url, tmp_path)
    try:
        return target.test_cli_runner().invoke(args=["backup", "restore", str(path), *extra])
    finally:
        with target.app_context():
            db.engine.dispose()


def _every_row(url) -> dict[str, list[tuple]]:
    """Every table's rows, ordered by primary key (but the catalogue's revision, which a
    restore renews on purpose: booking.catalogue_revision.renew)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {
                table.name: [
                    tuple(row)
                    for row in conn.execute(sa.select(table).order_by(*table.primary_key))
                ]
                for table in db.metadata.sorted_tables
                if table.name != "catalogue_revision"
            }
            rows[VERSION_TABLE] = list(conn.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}")))
    finally:
        engine.dispose()
    return rows


def _some_bookings(app, make_workshop, make_user, make_baby, count=5, capacity=3):
    workshop = make_workshop(capacity=capacity)
    with app.app_context():
        for i in range(count):
            parent = make_user()
            baby = make_baby(parent, name=f"Baby {i}")
            book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True)
    return workshop


def _backup(runner, folder):
    result = runner.invoke(args=["backup", "create", str(folder)])
    assert result.exit_code == 0, result.output
    files = list(folder.iterdir())
    assert len(files) == 1
    assert result.output.startswith("Backed up ") and str(files[0]) in result.output
    return files[0]


def test_a_backup_restores_into_a_new_database_with_identical_rows(
    app, runner, tmp_path, new_database, make_workshop, make_user, make_baby
):
    _some_bookings(app, make_workshop, make_user, make_baby)
    path = _backup(runner, tmp_path / "backups")
    suffix = ".sqlite3" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else ".dump"
    assert path.name.startswith("booking-") and path.name.endswith(suffix)
    assert path.stat().st_mode & 0o077 == 0  # personal data: the owner's eyes only
    original = _every_row(app.config["SQLALCHEMY_DATABASE_URI"])
    assert len(original["registration"]) == 5 and original[VERSION_TABLE]

    target = new_database()
    result = _restore(target, tmp_path, path)

    assert result.exit_code == 0, result.output
    assert "registration 5" in result.output and ": current." in result.output
    assert _every_row(target) == original


def _restored_then_changed(target, tmp_path, path) -> dict[str, list[tuple]]:
    """Restore the backup into the target, then change a row there: its rows now."""
    assert _restore(target, tmp_path, path).exit_code == 0
    engine = sa.create_engine(target)
    with engine.begin() as conn:
        conn.execute(sa.update(User.__table__).values(name="Changed after the restore"))
    engine.dispose()
    return _every_row(target)


def test_a_database_that_is_not_empty_is_refused_unless_forced(
    app, runner, tmp_path, new_database, make_workshop, make_user, make_baby
):
    _some_bookings(app, make_workshop, make_user, make_baby, count=2)
    path = _backup(runner, tmp_path / "backups")
    original = _every_row(app.config["SQLALCHEMY_DATABASE_URI"])
    target = new_database()
    changed = _restored_then_changed(target, tmp_path, path)

    refused = _restore(target, tmp_path, path)

    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "--force" in refused.output
    assert "Traceback" not in refused.output
    assert _every_row(target) == changed

    safety = tmp_path / "safety"
    forced = _restore(target, tmp_path, path, "--force", "--safety-dir", str(safety))
    assert forced.exit_code == 0, forced.output
    assert _every_row(target) == original
    # What was replaced was backed up first, and restores as it was.
    (copy,) = safety.iterdir()
    assert copy.name.startswith("booking-before-restore-")  # not taken for a scheduled one
    assert f"held to {copy} first." in forced.output
    assert copy.stat().st_mode & 0o077 == 0
    again = new_database()
    assert _restore(again, tmp_path, copy).exit_code == 0
    assert _every_row(again) == changed


def test_a_forced_restore_replaces_nothing_when_its_safety_copy_fails(
    app, runner, tmp_path, new_database, make_workshop, make_user, make_baby
):
    _some_bookings(app, make_workshop, make_user, make_baby, count=1)
    path = _backup(runner, tmp_path / "backups")
    target = new_database()
    changed = _restored_then_changed(target, tmp_path, path)
    (tmp_path / "a-file").write_text("not a folder\n")
    blocked = tmp_path / "a-file" / "safety"  # a folder that cannot be made

    alone = _restore(target, tmp_path, path, "--safety-dir", str(tmp_path))
    assert alone.exit_code == 2 and "--safety-dir goes with --force" in alone.output
    refused = _restore(target, tmp_path, path, "--force", "--safety-dir", str(blocked))

    assert refused.exit_code == 1
    assert f"Cannot use {blocked} for backups" in refused.output
    assert "Traceback" not in refused.output
    assert _every_row(target) == changed


def test_a_file_of_the_wrong_kind_is_refused(app, tmp_path, new_database):
    target = new_database()
    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE something (id INTEGER)")
    sqlite_backup = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    foreign = tmp_path / "foreign.dump"
    if sqlite_backup:
        foreign.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
    else:
        foreign = other
    cases = [
        (text, "is not a backup made by `backup create`"),
        (foreign, "backup, but the database"),
    ]
    if sqlite_backup:
        cases.append((other, "is not a backup of this product's database"))
    for path, message in cases:
        result = _restore(target, tmp_path, path)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    missing = _restore(target, tmp_path, tmp_path / "missing.dump")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    engine = sa.create_engine(target)
    assert sa.inspect(engine).get_table_names() == []  # nothing was restored
    engine.dispose()


def test_a_forced_restore_of_an_older_backup_leaves_no_table_it_did_not_have(
    app, runner, tmp_path, new_database, make_workshop, make_user, make_baby
):
    """A backup made before the last migrations (0011: before a foreign key was added
    to `registration`), and one without a table a migration made (place_answer),
    restored with --force over a database at the head: the database is exactly the
    backup afterwards, so `db upgrade` can bring it forward."""
    _some_bookings(app, make_workshop, make_user, make_baby, count=1)
    path = _backup(runner, tmp_path / "backups")
    older = new_database()
    assert _restore(older, tmp_path, path).exit_code == 0
    older_app = _app_on(older, tmp_path)
    down = older_app.test_cli_runner().invoke(args=["db", "downgrade", "0011"])
    with older_app.app_context():
        db.engine.dispose()
    assert down.exit_code == 0, down.output
    engine = sa.create_engine(older)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE place_answer"))
    engine.dispose()
    older_backup = _backup(older_app.test_cli_runner(), tmp_path / "older-backups")
    with older_app.app_context():
        db.engine.dispose()
    target = new_database()
    _restored_then_changed(target, tmp_path, path)

    forced = _restore(target, tmp_path, older_backup, "--force", "--safety-dir",
                      str(tmp_path / "safety"))

    assert forced.exit_code == 0, forced.output
    engine = sa.create_engine(target)
    tables = set(sa.inspect(engine).get_table_names())
    columns = {c["name"] for c in sa.inspect(engine).get_columns("registration")}
    engine.dispose()
    assert "place_answer" not in tables and "registration" in tables
    assert "reminder_session_id" not in columns
    target_app = _app_on(target, tmp_path)
    upgraded = target_app.test_cli_runner().invoke(args=["db", "upgrade"])
    with target_app.app_context():
        db.engine.dispose()
    assert upgraded.exit_code == 0, upgraded.output


def test_a_damaged_backup_is_refused_and_nothing_is_restored(
    app, runner, tmp_path, new_database, make_workshop, make_user, make_baby
):
    """Bytes overwritten inside the file since it was made: refused with a message,
    never restored (SQLite's check) nor a traceback (a dump's bytes in pg_restore's
    words)."""
    _some_bookings(app, make_workshop, make_user, make_baby, count=3)
    path = _backup(runner, tmp_path / "backups")
    data = bytearray(path.read_bytes())
    if path.suffix == ".dump":
        data[2000:2064] = b"\xff" * 64
    else:
        # The page of the bookings' table claims more cells than it can hold.
        with sqlite3.connect(path) as conn:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            root = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'registration'"
            ).fetchone()[0]
        header = (root - 1) * page_size
        data[header + 3:header + 5] = b"\xff\xff"
    damaged = tmp_path / f"damaged{path.suffix}"
    damaged.write_bytes(bytes(data))
    target = new_database()

    result = _restore(target, tmp_path, damaged)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a message
    assert "damaged" in result.output or "failed" in result.output
    engine = sa.create_engine(target)
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        holds = {name: conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
                 for name in names}
    engine.dispose()
    assert not any(holds.values()), holds


def test_a_backup_taken_during_a_booking_storm_is_whole(
    app, tmp_path, new_database, make_workshop, make_user, make_baby
):
    """Half the parents book, the backup starts while they do and lets the other half
    go; the restored database holds every booking that had committed when the backup
    started, and each booking it holds is whole: places counted, email queued."""
    workshops = [make_workshop(capacity=3) for _ in range(2)]
    families = []
    for i in range(24):
        parent = make_user(email=f"storm{i}@example.org")
        families.append((parent, make_baby(parent, name=f"Storm {i}"), workshops[i % 2]))
    first, second = families[:12], families[12:]
    committed = {}  # registration id -> when book_place returned (after its commit)
    lock = threading.Lock()
    errors = []
    four_done = threading.Semaphore(0)
    second_go = threading.Event()
    backup_started = []
    backup_path = []

    def book(parent, baby, workshop, wait_for=None):
        with app.app_context():
            try:
                if wait_for is not None:
                    assert wait_for.wait(timeout=60)
                result = book_place(
                    parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
                )
                with lock:
                    committed[result.registration.id] = time.monotonic()
                four_done.release()
            except Exception as exc:  # re-raised in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    def take_backup():
        with app.app_context():
            try:
                for _ in range(4):
                    assert four_done.acquire(timeout=60)
                backup_started.append(time.monotonic())
                second_go.set()
                backup_path.append(create_backup(tmp_path / "backups"))
            except Exception as exc:
                errors.append(exc)
                second_go.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=book, args=f) for f in first]
    threads += [threading.Thread(target=book, args=(*f, second_go)) for f in second]
    threads.append(threading.Thread(target=take_backup))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    assert len(committed) == 24

    target = new_database()
    result = _restore(target, tmp_path, backup_path[0])
    assert result.exit_code == 0, result.output

    engine = sa.create_engine(target)
    with engine.connect() as conn:
        registrations = conn.execute(
            sa.select(Registration.__table__.c["id", "workshop_id", "parent_id", "status"])
        ).all()
        emails = {u.id: u.email for u in conn.execute(sa.select(User.__table__.c["id", "email"]))}
        counts = dict(conn.execute(sa.select(Workshop.__table__.c["id", "confirmed_count"])).all())
        outbox = conn.execute(
            sa.select(OutboxMessage.__table__.c["recipient", "kind"])
        ).all()
    engine.dispose()
    restored = {r.id for r in registrations}
    before = {reg_id for reg_id, at in committed.items() if at < backup_started[0]}
    assert len(before) >= 4
    assert before <= restored, "a booking committed before the backup started is missing"
    assert restored <= set(committed)
    for workshop in workshops:
        confirmed = [r for r in registrations if r.workshop_id == workshop.id
                     and r.status == "confirmed"]
        assert counts[workshop.id] == len(confirmed) <= 3
    # Each booking's email (a note, rendered after commit) is in the backup with it.
    expected = sorted(
        (emails[r.parent_id], "booking_confirmed" if r.status == "confirmed" else "waitlisted")
        for r in registrations
    )
    assert sorted(tuple(row) for row in outbox) == expected
