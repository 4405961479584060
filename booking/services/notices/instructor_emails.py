"""The emails a use case queues when a class is given to another instructor.

`note_instructor_changed` runs inside the change's write transaction, on the locked
workshop, once its instructor has changed: it writes a note to the new instructor
("instructor_assigned") and one to the instructor before ("instructor_released"),
rendered after the change committed (`booking.mail.deferred`). Only a published class's
instructors are told: a draft is nobody's schedule yet. A note that no longer tells the
truth when it is rendered (the class given back, or to someone else again, or taken
back to draft) is dropped; a change undone before its notes were rendered takes them
back rather than telling anyone twice.
"""

import sqlalchemy as sa

from booking.extensions import db
from booking.mail import deferred
from booking.mail.notify_instructors import (
    Booked,
    render_instructor_assigned,
    render_instructor_released,
)
from booking.models import (
    InstructorProfile,
    OutboxMessage,
    Registration,
    User,
    Workshop,
)
from booking.models.outbox import PENDING
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import PUBLISHED
from booking.services.booking.waiting import NOBODY_WAITING, waiting_counts
from booking.services.notices.queries import person_data, workshop_data

ASSIGNED = "instructor_assigned"
RELEASED = "instructor_released"


def _unrendered_notes(workshop_id: int) -> dict[tuple[str, int], OutboxMessage]:
    """The workshop's instructor notes not rendered yet, by kind and instructor id: the
    sender has not read them, so nobody has been told what they say."""
    # Locked (PostgreSQL): a sender rendering one meanwhile has it sent before this
    # reads it (it is then no longer untold), or finds it gone after this commits.
    notes = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.kind.in_((ASSIGNED, RELEASED)),
            OutboxMessage.ref_id == workshop_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.body_text.is_(None),
        ).with_for_update()
    )
    return {(note.kind, (note.params or {}).get("instructor_id")): note for note in notes}


def _note(kind: str, workshop: Workshop, user_id: int, params: dict) -> OutboxMessage | None:
    """One note to an instructor about the workshop, under a dedupe key naming the
    change (the workshop's instructor then, and when it changed): written once."""
    user = db.session.get(User, user_id)
    person = person_data(user)
    if person is None or not person.can_email:
        return None
    key = (f"{kind}:{workshop.id}:{user_id}:{workshop.instructor_id or 0}:"
           f"{workshop.updated_at.isoformat()}")
    if db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    message = deferred.queue_note(
        person.email, kind, workshop.id, {"instructor_id": user_id, **params}
    )
    message.dedupe_key = key
    return message


def note_instructor_changed(
    workshop: Workshop, previous_id: int | None, *, was_published: bool
) -> list[OutboxMessage]:
    """Inside the change's transaction, on the locked `workshop` whose instructor was
    `previous_id` (`was_published`: the class was published then): tell the new
    instructor the class is now theirs, if it is published now, and the one before that
    it is no longer theirs, if it was published while it was. Nothing when the
    instructor did not change. One still untold of the class they are losing (or
    getting back) is told nothing: its note is taken back instead."""
    db.session.flush()
    new_id = workshop.instructor_id
    if new_id == previous_id:
        return []
    untold = _unrendered_notes(workshop.id)
    queued = []
    # Who the new instructor takes over from: the one before, unless that one was never
    # told the class was theirs (then whoever they were to take it from).
    handed_over_by = previous_id
    if previous_id is not None and was_published:
        never_told = untold.get((ASSIGNED, previous_id))
        if never_told is not None:
            handed_over_by = (never_told.params or {}).get("previous_id")
            db.session.delete(never_told)
            if handed_over_by == new_id:  # given back to the one told it was theirs
                handed_over_by = None
        else:
            queued.append(_note(RELEASED, workshop, previous_id, {}))
    if new_id is not None and workshop.status == PUBLISHED:
        never_told = untold.get((RELEASED, new_id))
        if never_told is not None:
            db.session.delete(never_told)
        else:
            queued.append(_note(ASSIGNED, workshop, new_id, {"previous_id": handed_over_by}))
    db.session.flush()
    return [message for message in queued if message is not None]


def _teacher_name(user: User) -> str:
    """An instructor's public name (their profile's), else their account's."""
    shown = db.session.scalar(
        sa.select(InstructorProfile.display_name).where(InstructorProfile.user_id == user.id)
    )
    return shown or user.name


def _booked(workshop_id: int) -> Booked:
    """How many families and babies hold a confirmed place, how many places are held
    while families pay, and how many wait whose baby fits the class's ages."""
    families, places = db.session.execute(
        sa.select(sa.func.count(sa.distinct(Registration.parent_id)),
                  sa.func.count(Registration.id))
        .where(Registration.workshop_id == workshop_id, Registration.status == CONFIRMED)
    ).one()
    waiting, holding = db.session.execute(
        sa.select(
            sa.func.count(Registration.id).filter(Registration.status == WAITLISTED),
            sa.func.count(Registration.id).filter(Registration.status == PENDING_PAYMENT),
        ).where(Registration.workshop_id == workshop_id)
    ).one()
    if waiting:  # the line as families are told it: babies who fit the ages
        workshop = db.session.get(Workshop, workshop_id)
        waiting = waiting_counts([workshop]).get(workshop_id, NOBODY_WAITING).fit
    return Booked(families=families or 0, places=places or 0, waiting=waiting or 0,
                  holding=holding or 0)


@deferred.renderer(ASSIGNED)
def _render_assigned(workshop_id: int, params: dict):
    """The class is still the instructor's, and published: tell them, as it is now."""
    workshop = db.session.get(Workshop, workshop_id)
    teacher = db.session.get(User, params.get("instructor_id") or 0)
    if (workshop is None or teacher is None or workshop.status != PUBLISHED
            or workshop.instructor_id != teacher.id):
        return None
    previous = db.session.get(User, params.get("previous_id") or 0)
    return render_instructor_assigned(
        workshop_data(workshop_id), person_data(teacher), _teacher_name(teacher),
        booked=_booked(workshop_id),
        previous_name=_teacher_name(previous) if previous is not None else "",
    )


@deferred.renderer(RELEASED)
def _render_released(workshop_id: int, params: dict):
    """The class is still not the instructor's: tell them, naming who teaches it now."""
    workshop = db.session.get(Workshop, workshop_id)
    former = db.session.get(User, params.get("instructor_id") or 0)
    if workshop is None or former is None or workshop.instructor_id == former.id:
        return None
    return render_instructor_released(
        workshop_data(workshop_id), person_data(former), _teacher_name(former)
    )
