"""Nested write transactions join the outer one; only the outermost commits (booking/db.py).

Steps that change places refuse to run outside a write transaction.
"""

import fcntl
import os

import pytest
import sqlalchemy as sa

from booking import db as booking_db
from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.models import Centre, OutboxMessage, Registration, Workshop
from booking.models.registration import WAITLISTED
from booking.services.booking import book as booking
from booking.services.booking import referrals, waitlist
from booking.services.booking.places import release_place, take_place
from booking.services.schedule import edit


class UseCaseFailed(Exception):
    """A failure raised on purpose inside a block."""


def _rename(centre_id: int, name: str) -> None:
    db.session.execute(sa.update(Centre).where(Centre.id == centre_id).values(name=name))


def _committed_name(centre_id: int) -> str:
    """The centre's name as another connection sees it (committed data only)."""
    with db.engine.connect() as other:
        return other.scalar(sa.select(Centre.name).where(Centre.id == centre_id))


def _names(*centre_ids: int) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Centre, centre_id).name for centre_id in centre_ids]


def test_an_inner_block_commits_nothing_before_the_outer_block(ctx, make_centre):
    centre = make_centre(name="Before")
    with write_transaction():
        with write_transaction():
            _rename(centre.id, "Inner")
        assert _committed_name(centre.id) == "Before"
    assert _committed_name(centre.id) == "Inner"


def test_rolling_back_the_outer_block_undoes_the_inner_blocks_work(ctx, make_centre):
    outer, inner = make_centre(name="Outer"), make_centre(name="Inner")
    with pytest.raises(UseCaseFailed), write_transaction():
        _rename(outer.id, "Outer changed")
        with write_transaction():
            _rename(inner.id, "Inner changed")
        raise UseCaseFailed
    assert _names(outer.id, inner.id) == ["Outer", "Inner"]
    assert _committed_name(inner.id) == "Inner"


def test_an_inner_failure_rolls_back_to_its_savepoint_only(ctx, make_centre):
    outer, inner = make_centre(name="Outer"), make_centre(name="Inner")
    with write_transaction():
        _rename(outer.id, "Outer changed")
        with pytest.raises(UseCaseFailed), write_transaction():
            _rename(inner.id, "Inner changed")
            raise UseCaseFailed
        assert _names(outer.id, inner.id) == ["Outer changed", "Inner"]
        with write_transaction():
            _rename(inner.id, "Inner again")
        assert _committed_name(outer.id) == "Outer"
    assert _names(outer.id, inner.id) == ["Outer changed", "Inner again"]


def test_a_nested_use_case_is_undone_with_the_block_around_it(
    ctx, make_workshop, make_user, make_baby
):
    workshop = make_workshop(capacity=1)
    first, second = make_user(), make_user()
    for parent in (first, second):
        waiting = booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=make_baby(parent).id,
            consent=True,
        )
    assert waiting.registration.status == WAITLISTED
    emails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    with pytest.raises(UseCaseFailed), write_transaction():
        waitlist.change_capacity(workshop.id, 2)  # promotes the waiting parent
        raise UseCaseFailed
    db.session.expire_all()
    assert db.session.get(Workshop, workshop.id).capacity == 1
    assert db.session.get(Registration, waiting.registration.id).status == WAITLISTED
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == emails


def test_the_writer_turn_is_given_back_when_the_outermost_block_ends(app, make_centre):
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() != "sqlite":
            pytest.skip("PostgreSQL writers wait on row locks, not on a lock file")
        path = os.path.abspath(url.database) + booking_db.LOCK_SUFFIX
        centre = make_centre()

        def free() -> bool:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            finally:
                os.close(fd)

        with write_transaction():
            with pytest.raises(UseCaseFailed), write_transaction():
                _rename(centre.id, "Inner")
                raise UseCaseFailed
            assert not free()
            _rename(centre.id, "Outer")
        assert free()
        with pytest.raises(UseCaseFailed), write_transaction():
            with write_transaction():
                _rename(centre.id, "Inner")
            raise UseCaseFailed
        assert free()
        assert _names(centre.id) == ["Outer"]


def test_the_guard_names_the_step_outside_a_transaction(ctx):
    with pytest.raises(RuntimeError, match="Taking a place must run inside write_transaction"):
        require_transaction("Taking a place")
    with write_transaction():
        require_transaction("Taking a place")


@pytest.mark.parametrize(
    "step",
    [
        lambda w: waitlist.promote_waitlist(w.id),
        lambda w: waitlist.apply_capacity_change(w, 9),
        lambda w: take_place(w),
        lambda w: release_place(w),
        lambda w: referrals.claim_held_place(w, "ABCD-EFGH-JKLM"),
        lambda w: referrals.record_code_use(1, 1),
        lambda w: edit.apply_workshop_cancellation(w, "Gone"),
    ],
    ids=["promote", "capacity", "take", "release", "claim", "record-code", "cancel-workshop"],
)
def test_steps_that_change_places_refuse_to_run_outside_a_transaction(ctx, make_workshop, step):
    workshop = db.session.merge(make_workshop(capacity=3, held_places=1))
    db.session.commit()
    with pytest.raises(RuntimeError, match="must run inside write_transaction"):
        step(workshop)
    db.session.rollback()
    workshop = db.session.get(Workshop, workshop.id)
    assert (workshop.capacity, workshop.confirmed_count, workshop.status) == (3, 0, "published")
