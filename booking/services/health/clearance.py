"""Clearing a booking whose health answers need a doctor's word.

The instructor of the class (or the centre's staff) marks it "cleared" with a note
(for example "GP letter seen, harness off since May"). The clearance covers the
answers as they were: if the parent changes one of them, the flag returns. It covers
only answers that were read: the page sends the fingerprint of the answers it showed,
and a clearance for answers that have changed since is refused.
"""

from __future__ import annotations

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Registration, User, Workshop, utcnow
from booking.models.registration import ACTIVE
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.health.access import may_see_health
from booking.services.health.answers import shared_records
from booking.services.health.flags import clearance_fingerprint
from booking.services.schedule import fields as rules

NOTE_MAX = 500
NOTE_MESSAGE = "Say what you checked, for example \"GP letter seen\"."


CHANGED_SINCE_SHOWN = (
    "These health answers changed after the page showed them. Read them again below "
    "before marking them cleared."
)


def clear_booking(
    user: User, registration_id: int, note: str, seen: str | None = None
) -> Registration:
    """Mark a booking's clearance answers as cleared by `user`, with a note.

    `seen` is the `clearance_fingerprint` of the answers the page showed (None when no
    page did); answers changed since are not cleared (Conflict). NotFound for anyone who
    may not see the baby's health answers (nobody learns the booking exists), Invalid
    when there is nothing to clear or no note.
    """
    note = " ".join(str(note or "").split())
    if not rules.shows_something(note):
        raise Invalid(NOTE_MESSAGE, {"note": NOTE_MESSAGE})
    if len(note) > NOTE_MAX:
        message = f"Use at most {NOTE_MAX} characters."
        raise Invalid(message, {"note": message})
    try:
        rules.readable(note, label="The note", multiline=False)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {"note": str(exc)}) from None
    with write_transaction():
        registration = db.session.scalar(
            sa.select(Registration).where(Registration.id == registration_id).with_for_update()
        )
        workshop = (
            db.session.get(Workshop, registration.workshop_id) if registration else None
        )
        if registration is None or not may_see_health(user, workshop):
            raise NotFound("We could not find that booking among your classes.")
        if registration.status not in ACTIVE:
            raise Invalid("This booking is cancelled, so there is nothing to clear.")
        shared = shared_records([registration.baby_id], workshop.centre_id)
        fingerprint = clearance_fingerprint(shared.get(registration.baby_id))
        if not fingerprint:
            raise Invalid("Nothing in this baby's health answers needs clearing.")
        if seen is not None and seen != fingerprint:
            raise Conflict(CHANGED_SINCE_SHOWN)
        registration.cleared_at = utcnow()
        registration.cleared_by_id = user.id
        registration.clearance_note = note
        registration.cleared_fingerprint = fingerprint
    return registration
