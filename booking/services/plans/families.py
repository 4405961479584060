"""Which babies a family's home-practice sheet or evaluation request is about.

Both are sent once per family (parent), however many babies they brought, through
whichever of their bookings came first. That booking names one baby; a parent of
twins must read both names, so the names are read here for the whole family: only
babies still theirs (not removed or anonymised), first booked first.
"""

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, MakeupBooking, Registration, WorkshopSession
from booking.models.registration import CONFIRMED
from booking.templating import format_names


def _named(model, baby_id_column):
    """SELECT (baby id, name) from `model`, of the babies its `baby_id_column` points to
    that are still someone's (an anonymised baby keeps no name worth writing)."""
    return (
        sa.select(Baby.id, Baby.name)
        .select_from(model)
        .join(Baby, Baby.id == baby_id_column)
        .where(Baby.name_key != Baby.anonymised_key_sql())
    )


def _in_words(rows) -> str:
    """'Amy and Bea' from (baby id, name) rows, each baby once, in the rows' order."""
    names = {}
    for baby_id, name in rows:
        names.setdefault(baby_id, name)
    return format_names(names.values())


def babies_on_course(parent_id: int, workshop_id: int) -> str:
    """The parent's babies with a confirmed place in the workshop ('' when none is
    left): whom the end-of-course evaluation asks about."""
    return _in_words(
        db.session.execute(
            _named(Registration, Registration.baby_id)
            .where(
                Registration.parent_id == parent_id,
                Registration.workshop_id == workshop_id,
                Registration.status == CONFIRMED,
            )
            .order_by(Registration.id)
        )
    )


def babies_at_session(parent_id: int, session: WorkshopSession) -> str:
    """The parent's babies who were on `session` ('' when none is left): confirmed in
    its workshop by the time it ended (absent or not: the week is theirs to practise),
    then those who made that week up in it."""
    booked = db.session.execute(
        _named(Registration, Registration.baby_id)
        .where(
            Registration.parent_id == parent_id,
            Registration.workshop_id == session.workshop_id,
            Registration.status == CONFIRMED,
            Registration.booked_by(session.ends_at),
        )
        .order_by(Registration.id)
    ).all()
    made_up = db.session.execute(
        _named(MakeupBooking, MakeupBooking.baby_id)
        .where(MakeupBooking.parent_id == parent_id, MakeupBooking.session_id == session.id)
        .order_by(MakeupBooking.id)
    ).all()
    return _in_words(booked + made_up)
