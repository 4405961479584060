"""Waiting lists: positions, promotion, capacity changes and staff moves."""

from collections.abc import Iterable

import sqlalchemy as sa

from booking.db import note_committed, require_transaction, write_transaction
from booking.extensions import db
from booking.models import Baby, Payment, Registration, Workshop, WorkshopSession
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.booking.places import (
    booking_closed_reason,
    booking_closes_at,
    centre_of,
    centre_timezone,
    eligibility,
    fitting_baby,
    has_active_place,
    has_run,
    is_booking_open,
    lock_workshop,
    release_due_held_places,
    release_place,
    require_int,
    take_place,
    utc_now,
    visiting_text,
    visiting_week,
)
from booking.services.booking.waiting import waiting_in_order, waiting_order
from booking.services.courses.absences import end_registration_absences
from booking.services.errors import CapacityRefused, Conflict, Invalid, NotFound
from booking.services.notices.emails import (
    notify_booking_cancelled,
    notify_booking_confirmed,
    notify_promoted,
)
from booking.services.notices.payment_emails import notify_offered
from booking.services.payments import gateway, ledger
from booking.services.schedule import fields as field_rules
from booking.timefmt import format_local


def waitlist_position(registration: Registration) -> int | None:
    """The 1-based position of a waiting registration among the waiting babies who fit
    the class (`waitlist_positions`); None for any other status, or a baby who no
    longer fits."""
    return waitlist_positions([registration]).get(registration.id)


def waitlist_positions(registrations: Iterable[Registration]) -> dict[int, int]:
    """Positions of many waiting registrations in one query: {registration id:
    position}. Only babies who fit the class's ages now are counted (rule 6 skips the
    others when a place comes free; `waiting.waiting_in_order`), so a parent is told
    the place they really hold; a waiting baby who no longer fits has no position."""
    waiting = [r for r in registrations if r.status == WAITLISTED]
    if not waiting:
        return {}
    wanted = {r.id for r in waiting}
    workshops = {r.workshop_id: db.session.get(Workshop, r.workshop_id) for r in waiting}
    counted: dict[int, int] = {}
    positions = {}
    for registration_id, workshop_id, fits in waiting_in_order(workshops.values()):
        if not fits:
            continue
        counted[workshop_id] = counted.get(workshop_id, 0) + 1
        if registration_id in wanted:
            positions[registration_id] = counted[workshop_id]
    return positions


def waiting_registrations(workshop_id: int) -> list[Registration]:
    """A workshop's waiting list in order."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop_id, Registration.status == WAITLISTED)
            .order_by(*waiting_order())
        )
    )


def confirm(registration: Registration) -> None:
    """Mark a registration as holding a place (the place is already taken)."""
    registration.status = CONFIRMED
    registration.confirmed_at = utc_now()


def give_place(registration: Registration, workshop: Workshop) -> None:
    """The place is already taken for a waiting registration: confirm it and tell the
    parent; in a workshop paid online, offer it instead: held for the parent until
    the offer's deadline (PAYMENT_OFFER_HOURS, never ending at night in the centre's
    zone, nor after booking closes), with a pay link and a "no longer needed" link."""
    note_committed("waitlist.promotion")
    if not workshop.pays_online:
        confirm(registration)
        db.session.flush()
        notify_promoted(registration)
        return
    now = utc_now()
    deadline = ledger.offer_deadline(now, centre_timezone(workshop))
    closes = booking_closes_at(workshop)
    if closes is not None and now < closes < deadline:
        deadline = closes
    registration.status = PENDING_PAYMENT
    registration.offered_at = now
    registration.hold_expires_at = deadline
    db.session.flush()
    ledger.open_payment(registration, workshop, centre_of(workshop))
    notify_offered(registration)


def promote_waitlist(workshop_id: int) -> list[Registration]:
    """Give free places to the head of the waiting list (rule 6).

    Runs inside the caller's open write transaction and does not commit. While
    a place can be taken, the first waiting registration whose baby still fits
    the age range is given it (confirmed, or offered in a workshop paid online:
    see `give_place`) and its parent emailed; babies who no longer fit are
    skipped and left waiting. Nothing happens once booking has closed. Unclaimed held
    places past their release time are released first (`release_due_held_places`).
    """
    require_transaction("Promoting the waiting list")
    workshop = lock_workshop(workshop_id)
    # Held places past their release time are free now, whether or not `run-decisions`
    # has released them yet: the waiting list gets them before anyone else.
    release_due_held_places(workshop, utc_now())
    if not is_booking_open(workshop):
        return []
    if workshop.pays_online and not gateway.enabled():
        return []  # an offer nobody could pay: they wait until online payment is back
    promoted = []
    for registration in waiting_registrations(workshop_id):
        baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
        if not eligibility(baby, workshop).eligible:
            continue
        if not take_place(workshop):
            break
        give_place(registration, workshop)
        promoted.append(registration)
    return promoted


def capacity_refusal(workshop: Workshop, new_capacity: int) -> str | None:
    """Why a workshop's capacity cannot be `new_capacity`, in words; None when it can.

    Not below the confirmed places (rule 7), nor those and the places still held for
    referrals (rule 11), nor a minimum the class still has to reach (rule 12), nor the
    people expected at any session still to come: confirmed - absences + make-ups.
    Reads only, so the staff API can check before changing anything.
    """
    if new_capacity < workshop.confirmed_count:
        return (
            f"The capacity cannot be {new_capacity}: {workshop.confirmed_count} places are "
            "already confirmed. Cancel or move bookings first."
        )
    if new_capacity < workshop.confirmed_count + workshop.held_unclaimed:
        return (
            f"The capacity cannot be {new_capacity}: {workshop.confirmed_count} places are "
            f"confirmed and {workshop.held_unclaimed} more are held for referrals. Hold "
            "fewer places first."
        )
    if workshop.min_places and not workshop.run_confirmed and new_capacity < workshop.min_places:
        return (
            f"The capacity cannot be {new_capacity}: the class needs {workshop.min_places} "
            "places confirmed to run, so it could never reach its minimum. Lower the "
            "minimum first, or confirm that the class will run."
        )
    s = WorkshopSession
    busiest = db.session.execute(
        sa.select(s.number, s.starts_at, s.absences, s.makeups_taken)
        .where(
            s.workshop_id == workshop.id,
            s.status == SCHEDULED,
            s.starts_at > utc_now(),
            workshop.confirmed_count - s.absences + s.makeups_taken > new_capacity,
        )
        .order_by(s.starts_at)
        .limit(1)
    ).first()
    if busiest is None:
        return None
    number, starts_at, absences, makeups = busiest
    people = workshop.confirmed_count - absences + makeups
    when = format_local(starts_at, centre_timezone(workshop))
    return (
        f"The capacity cannot be {new_capacity}: session {number} ({when}) has {people} people "
        f"coming ({workshop.confirmed_count} booked, {absences} away, {makeups} making up a "
        "missed week)."
    )


def apply_capacity_change(workshop: Workshop, new_capacity) -> list[Registration]:
    """Inside an open write transaction: set a locked workshop's capacity and promote.

    Refuses to go below the confirmed places (rule 7), and any change once the workshop
    is cancelled. Returns who was promoted.
    """
    require_transaction("Changing the capacity")
    if workshop.status == WORKSHOP_CANCELLED:
        raise Conflict("This workshop has been cancelled; it can no longer be changed.")
    try:
        new_capacity = field_rules.capacity(new_capacity)
    except field_rules.FieldError as exc:
        raise Invalid(str(exc), {"capacity": str(exc)}) from exc
    db.session.refresh(workshop, ["confirmed_count", "capacity", "held_places", "held_claimed"])
    refusal = capacity_refusal(workshop, new_capacity)
    if refusal:
        raise CapacityRefused(refusal, {"capacity": refusal})
    workshop.capacity = new_capacity
    db.session.flush()
    return promote_waitlist(workshop.id)


def change_capacity(workshop_id: int, new_capacity) -> Workshop:
    """Change a workshop's capacity; a rise promotes the waiting list at once."""
    with write_transaction():
        workshop = lock_workshop(require_int(workshop_id, "The class"))
        apply_capacity_change(workshop, new_capacity)
    return workshop


def _load_registration(registration_id) -> Registration:
    registration = db.session.get(
        Registration, require_int(registration_id, "The booking"), populate_existing=True
    )
    if registration is None:
        raise NotFound("We could not find that booking.")
    return registration


def promote_registration(registration_id: int) -> Registration:
    """Staff give a free place to one waiting registration by hand, out of turn
    (offered until paid, in a workshop paid online)."""
    with write_transaction():
        registration = _load_registration(registration_id)
        workshop = lock_workshop(registration.workshop_id)
        db.session.refresh(registration)
        if registration.status != WAITLISTED:
            state = {
                CONFIRMED: "already has a place",
                PENDING_PAYMENT: "already has a place held for payment",
            }.get(registration.status, "is cancelled")
            raise Conflict(f"This booking {state}; only waiting entries can be promoted.")
        if workshop.status != PUBLISHED:
            raise Conflict("This class is not published, so no one can be promoted.")
        closed = booking_closed_reason(workshop)
        if closed is not None:  # as for joining, and the waiting list's own promotions
            raise Conflict(f"{closed} No one can be given a place in it now.")
        fitting_baby(registration.baby_id, workshop)
        if not take_place(workshop):
            raise Conflict(
                "There is no free place in this class. Raise the capacity or cancel a "
                "booking first."
            )
        give_place(registration, workshop)
    return registration


def move_registration(registration_id: int, to_workshop_id: int) -> Registration:
    """Staff move a confirmed place to another workshop of the same centre.

    The old booking is cancelled (its calendar entry withdrawn) and its place
    goes to the old waiting list; a new confirmed booking is made in the target,
    which needs a free place and a baby in its age range. What was paid online moves
    with the place (any difference in price is settled at the centre). Returns the
    new booking.
    """
    with write_transaction():
        registration = _load_registration(registration_id)
        to_workshop_id = require_int(to_workshop_id, "The class to move to")
        if to_workshop_id == registration.workshop_id:
            raise Invalid("The booking is already in that class.")
        first, second = sorted((registration.workshop_id, to_workshop_id))
        missing = {
            registration.workshop_id: "We could not find that class.",
            to_workshop_id: "We could not find the class to move to.",
        }
        locked = {
            first: lock_workshop(first, missing[first]),  # in id order, as everywhere
            second: lock_workshop(second, missing[second]),
        }
        source, target = locked[registration.workshop_id], locked[to_workshop_id]
        db.session.refresh(registration)
        if registration.status != CONFIRMED:
            raise Conflict("Only a confirmed place can be moved.")
        if has_run(source):
            # Moving cancels the booking (its family told, their calendar cleared) and
            # takes what they paid to the other class: not for a class they had.
            raise Conflict(
                "This class has already run, so its bookings can no longer be moved."
            )
        if target.centre_id != source.centre_id:
            raise Invalid("A booking can only move to another class at the same centre.")
        closed = booking_closed_reason(target)
        if closed:
            raise Invalid(closed)
        baby = fitting_baby(registration.baby_id, target)
        if has_active_place(registration.baby_id, target.id):
            raise Conflict(f"{baby.name} is already booked or waiting in that class.")
        week = visiting_week(registration.baby_id, target.id, utc_now())
        if week is not None:
            raise Conflict(
                f"{visiting_text(baby.name, week)} The family can cancel that make-up on "
                "their bookings page; then the place can move."
            )
        if not take_place(target):
            raise Conflict("There is no free place in the class to move to.")
        now = utc_now()
        # What was taken at the centre moves with the place, as online payments do: as
        # an amount, so a dearer class still owes the difference and a cheaper one has
        # some to give back (the fee at the centre is worked out from each class's price).
        paid_there = ledger.paid_at_centre_of(registration, source)
        # What was paid online comes too, less what was refunded before the move.
        kept_online = ledger.kept_online(registration.id)
        moved = Registration(
            workshop_id=target.id,
            baby_id=registration.baby_id,
            parent_id=registration.parent_id,
            status=CONFIRMED,
            consent_at=registration.consent_at,
            notes=registration.notes,
            confirmed_at=now,
            paid_at_centre_at=registration.paid_at_centre_at if paid_there else None,
            paid_at_centre_minor=paid_there or None,
            paid_at_centre_moved_minor=paid_there or None,
            paid_online_moved_minor=kept_online,
        )
        db.session.add(moved)
        db.session.flush()
        # A cancelled week's share still waiting for a make-up-or-refund choice is
        # refunded: the make-up was for the course the family is leaving.
        ledger.release_choices(registration.id)
        db.session.execute(
            sa.update(Payment)
            .where(Payment.registration_id == registration.id)
            .values(registration_id=moved.id, workshop_id=target.id)
        )
        registration.status = CANCELLED
        registration.cancelled_at = now
        registration.cancel_reason = f"Moved to {target.title}"[:200]
        registration.paid_at_centre_at = None  # moved with the place: nothing to give back
        registration.paid_at_centre_minor = None
        registration.paid_at_centre_moved_minor = None
        registration.invite_sequence += 1
        release_place(source, held_place=registration.held_place)
        end_registration_absences(registration.id, now)
        db.session.flush()
        notify_booking_cancelled(registration, was_confirmed=True, by_centre=True)
        notify_booking_confirmed(moved)
        promote_waitlist(source.id)
    return moved
