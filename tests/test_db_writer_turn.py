"""SQLite writers take turns on a lock file beside the database (booking/db.py)."""

import fcntl
import os
import threading

import pytest
import sqlalchemy as sa

from booking import db as booking_db
from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre


@pytest.fixture
def lock_path(app):
    """The writers' lock file of the test database (SQLite only)."""
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL writers wait on row locks, not on a lock file")
    return os.path.abspath(url.database) + booking_db.LOCK_SUFFIX


def _free(path: str) -> bool:
    """Whether another writer could take the turn right now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _rename(centre_id: int, name: str) -> None:
    db.session.execute(sa.update(Centre).where(Centre.id == centre_id).values(name=name))


def test_the_turn_is_held_for_the_transaction_and_given_back(app, make_centre, lock_path):
    centre = make_centre()
    with app.app_context():
        with write_transaction():
            _rename(centre.id, "First")
            assert not _free(lock_path)
            with write_transaction():  # nested: keeps the turn it holds, no deadlock
                _rename(centre.id, "Second")
            assert not _free(lock_path)
        assert _free(lock_path)
        with pytest.raises(RuntimeError), write_transaction():
            _rename(centre.id, "Rolled back")
            raise RuntimeError("the use case failed")
        assert _free(lock_path)
        assert db.session.get(Centre, centre.id).name == "Second"


def test_a_second_writer_waits_for_the_first_to_commit(app, make_centre, lock_path):
    centre = make_centre()
    order: list[str] = []
    holding = threading.Event()

    def second_writer():
        with app.app_context():
            holding.wait(5)
            with write_transaction():
                order.append("second began")
                _rename(centre.id, "Second")
            db.session.remove()

    thread = threading.Thread(target=second_writer)
    with app.app_context():
        with write_transaction():
            thread.start()
            holding.set()
            thread.join(0.3)  # the second writer is queued, not running
            order.append("first committing")
            _rename(centre.id, "First")
        thread.join(10)
        assert order == ["first committing", "second began"]
        db.session.expire_all()
        assert db.session.get(Centre, centre.id).name == "Second"
