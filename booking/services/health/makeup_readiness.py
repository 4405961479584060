""""Ready for <day>?" for a make-up visit: a baby making up a missed week in the same
week of another course (PRODUCT.md "Absence and make-up").

Its reminder's link names the make-up and the session it visits
(`readiness.makeup_readiness_token`), so the page answers for that visit only. The
answers are those of a booking's own sessions:
- well, or immunised (the baby watches while the parent practises on a doll): kept,
  as the visitor's attendance is, against the place the week was missed from, for the
  visited session, so the visited class's register shows it beside the visitor;
- unwell, we can't come: the make-up is cancelled as the parent's own cancel does
  (`makeups.cancel_makeup`): the seat goes back to the class and the credit can be
  used for another session. Nothing is kept for a visit no longer booked.
The answer can be changed until the session starts; a make-up since cancelled (its row
is gone) is a 404 that says so.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Baby,
    MakeupBooking,
    MakeupCredit,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.health import READINESS, READY_UNWELL, READY_WELL
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.booking.places import lock_workshop
from booking.services.courses.makeups import cancel_makeup
from booking.services.errors import Invalid, NotFound
from booking.services.health.readiness import (
    LINK_GONE,
    MAKEUP_GONE,
    ReadyQuestion,
    ReadyResult,
    made_stamp,
    makeup_place,
    question_for,
    record_answer,
)

NOT_YOURS = "We could not find that make-up session on your account."


def visited_session(makeup_id: int, parent_id: int) -> int:
    """The session one of the parent's make-ups visits; NotFound for a make-up that is
    not (or no longer) theirs."""
    session_id = db.session.scalar(
        sa.select(MakeupBooking.session_id).where(
            MakeupBooking.id == makeup_id, MakeupBooking.parent_id == parent_id
        )
    )
    if session_id is None:
        raise NotFound(NOT_YOURS)
    return session_id


def makeup_ready_question(makeup_id: int, session_id: int, parent_id: int | None = None,
                          stamp: str | None = None, now: datetime | None = None,
                          ) -> ReadyQuestion:
    """The make-up visit's session and the answer given so far. NotFound (saying so)
    for a make-up no longer booked (or, with a link's `stamp`, not the one it was made
    for), and for a session it does not visit or a make-up not the parent's (when
    `parent_id` is given)."""
    now = now or utcnow()
    makeup = db.session.get(MakeupBooking, makeup_id, populate_existing=True)
    if makeup is None or (stamp is not None and made_stamp(makeup) != stamp):
        raise NotFound(MAKEUP_GONE)
    if makeup.session_id != session_id or (
        parent_id is not None and makeup.parent_id != parent_id
    ):
        raise NotFound(LINK_GONE)
    place = makeup_place(makeup.id)
    if place is None or makeup.parent_id is None:  # its details were removed
        raise NotFound(MAKEUP_GONE)
    session = db.session.get(WorkshopSession, makeup.session_id, populate_existing=True)
    workshop = db.session.get(Workshop, session.workshop_id, populate_existing=True)
    baby = db.session.get(Baby, makeup.baby_id) if makeup.baby_id else None
    return question_for(
        place, session, workshop, baby, now,
        is_open=(
            session.status == SCHEDULED
            and workshop.status == PUBLISHED
            and session.starts_at > now
        ),
        absent=False,
        makeup=makeup,
        credit=db.session.get(MakeupCredit, makeup.credit_id),
    )


def answer_makeup_readiness(makeup_id: int, session_id: int, status: str,
                            parent_id: int | None = None, stamp: str | None = None,
                            ) -> ReadyResult:
    """Record the parent's answer for a make-up visit still to come.

    Well or immunised is kept for the visited session; unwell cancels the make-up
    (`cancel_makeup`: the seat freed, the credit usable again, the parent emailed the
    calendar's cancellation), and the result carries the credit and the question as it
    stood, since the make-up is no longer there to be read.
    """
    if status not in READINESS:
        raise Invalid("Choose one of the answers.")
    with write_transaction():
        makeup = db.session.get(MakeupBooking, makeup_id)
        if makeup is None:
            raise NotFound(MAKEUP_GONE)
        visited = db.session.get(WorkshopSession, makeup.session_id)
        lock_workshop(visited.workshop_id)
        question = makeup_ready_question(makeup_id, session_id, parent_id, stamp)
        if not question.open:
            raise Invalid(question.closed_reason)
        if status == READY_UNWELL:
            credit = cancel_makeup(parent_id=question.makeup.parent_id, makeup_id=makeup_id)
            question.open, question.cancelled, question.credit = False, True, credit
            return ReadyResult(status, credit=credit, question=question)
        record_answer(question.registration.id, session_id, status)
        return ReadyResult(
            status, ask_health_update=status == READY_WELL and question.not_today
        )
