"""What cancelling one of a parent's bookings would do, in words, before they confirm.

The confirmation page prints these terms; `booking.services.booking.book.cancel_registration`
carries the cancellation out, under the same rule (`cancel_state`), and refunds what
`booking.services.booking.payment_terms.cancel_refund` says it will.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import Centre, Registration, Workshop
from booking.models.registration import CANCELLED, CONFIRMED, WAITLISTED
from booking.services.booking.book import cancel_state
from booking.services.booking.payment_terms import cancel_refund
from booking.services.booking.places import cancellation_cutoff, require_int, utc_now
from booking.services.booking.waitlist import waitlist_positions
from booking.services.errors import NotFound
from booking.timefmt import format_local


@dataclass
class CancelTerms:
    """A parent's booking with what cancelling it now would mean for them."""

    registration: Registration
    workshop: Workshop
    centre: Centre
    baby_name: str
    allowed: bool
    heading: str
    confirm_label: str
    keep_label: str
    cutoff: datetime | None = None
    why_not: str = ""
    deadline: str = ""
    what_happens: list[str] = field(default_factory=list)
    refund: str = ""

    @property
    def contact(self) -> str:
        """How to reach the centre: its phone and email, as far as known."""
        return " or ".join(p for p in (self.centre.contact_phone, self.centre.contact_email) if p)


def _own_registration(registration_id, parent_id: int) -> Registration:
    registration = db.session.scalar(
        sa.select(Registration)
        .where(Registration.id == require_int(registration_id, "The booking"))
        .options(
            selectinload(Registration.workshop).selectinload(Workshop.centre),
            selectinload(Registration.baby),
        )
    )
    if registration is None or registration.parent_id != parent_id:
        raise NotFound("We could not find that booking on your account.")
    return registration


def _waiting(workshop_id: int) -> int:
    """Families waiting whose baby fits the class: those a freed place can go to."""
    waiting = db.session.scalars(
        sa.select(Registration).where(
            Registration.workshop_id == workshop_id, Registration.status == WAITLISTED
        )
    ).all()
    return len(waitlist_positions(waiting))


def _where_the_place_goes(registration: Registration, workshop: Workshop, now) -> str:
    if (
        registration.held_place
        and workshop.held_until is not None
        and workshop.held_until > now
    ):
        return "The place goes back to those held for families referred to the class."
    if _waiting(workshop.id):
        return (
            "The place goes at once to the next family on the waiting list, and we "
            "email them."
        )
    return "The place opens for another family to book."


def cancel_terms(registration_id, parent_id: int, now: datetime | None = None) -> CancelTerms:
    """What cancelling this parent's booking (or leaving its waiting list) would do now:
    where the place goes, the cut-off, the refund rules, or why it is no longer possible.

    Raises NotFound for a booking that is not the parent's.
    """
    now = now or utc_now()
    registration = _own_registration(registration_id, parent_id)
    workshop = registration.workshop
    centre = workshop.centre
    baby = registration.baby
    baby_name = baby.name if baby is not None else "your baby"
    allowed, why_not = cancel_state(registration, workshop, now)
    waiting = registration.status == WAITLISTED
    terms = CancelTerms(
        registration=registration,
        workshop=workshop,
        centre=centre,
        baby_name=baby_name,
        allowed=allowed,
        why_not=why_not,
        heading=(
            f"Leave the waiting list for {workshop.title}?"
            if waiting
            else f"Cancel {baby_name}'s place in {workshop.title}?"
        ),
        confirm_label="Yes, leave the waiting list" if waiting else "Yes, cancel this booking",
        keep_label="Stay on the waiting list" if waiting else "Keep my booking",
        refund=cancel_refund(registration, workshop, now),
    )
    if not allowed:
        terms.heading = (
            "This booking is already cancelled"
            if registration.status == CANCELLED
            else "You can no longer cancel this booking online"
        )
        terms.keep_label = "Back to my bookings"
        if registration.status == CANCELLED:
            terms.refund = ""
    if waiting:
        terms.deadline = "You can leave the waiting list at any time before the class starts."
        terms.what_happens = [
            f"{baby_name} leaves the waiting list, and the families behind move up one place.",
            "We email you to confirm.",
            "To wait again later you would join the end of the list.",
        ]
        return terms
    cutoff = cancellation_cutoff(workshop)
    terms.cutoff = cutoff
    if cutoff is not None:
        hours = workshop.cancellation_cutoff_hours
        terms.deadline = (
            f"Bookings can be cancelled online until {format_local(cutoff, centre.timezone)}, "
            f"{hours} hour{'' if hours == 1 else 's'} before the first session, so that the "
            "place can go to another family in time."
        )
    terms.what_happens = [
        _where_the_place_goes(registration, workshop, now),
        "We email you to confirm, with an update that takes the sessions out of your "
        "calendar." if registration.status == CONFIRMED
        # A place held while paying (or offered) was never sent to a calendar.
        else "We email you to confirm. Nothing is taken from your card.",
        "This cannot be undone: to come after all you would book again, if a place is free.",
    ]
    return terms
