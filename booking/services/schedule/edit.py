"""Changes staff make to a workshop: its details, capacity and status.

Each public function is one use case: it opens the write transaction, locks the
workshop row, re-checks the rules inside the lock, makes the change, queues the
emails through booking.mail inside the same transaction and raises a DomainError
when a rule refuses the request (nothing is then written). `edit_workshop` does
details, capacity and status together, all or nothing; the others are its parts
on their own, for the staff pages.
"""

from collections.abc import Callable

import sqlalchemy as sa

from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.models import Registration, Workshop, utcnow
from booking.models.payment import BY_CENTRE
from booking.models.registration import ACTIVE, CONFIRMED, PENDING_PAYMENT
from booking.models.registration import CANCELLED as REG_CANCELLED
from booking.models.workshop import CANCELLED, DRAFT, PUBLISHED, SCHEDULED
from booking.services.booking.payment_terms import refund_line, with_given_back_at_centre
from booking.services.booking.places import (
    booked_babies_outside,
    has_run,
    has_started,
    lock_workshop,
    refuse_leaving_booked_babies_out,
    release_before_close,
)
from booking.services.booking.waitlist import apply_capacity_change, promote_waitlist
from booking.services.catalogue.centres import publish_with_workshop
from booking.services.courses.absences import end_registration_absences
from booking.services.courses.makeups import drop_makeups_into
from booking.services.errors import Conflict, Invalid
from booking.services.notices.emails import (
    notify_makeup_cancelled,
    notify_workshop_cancelled,
)
from booking.services.notices.instructor_emails import note_instructor_changed
from booking.services.payments import ledger
from booking.services.schedule import fields as rules
from booking.services.schedule.clashes import planned_sessions, refuse_clashes
from booking.services.schedule.queries import active_counts, workshop_sessions
from booking.services.schedule.workshop_input import clean_workshop_changes

NO_SUCH_WORKSHOP = "There is no such workshop."
STATUSES = (PUBLISHED, DRAFT, CANCELLED)


def lock_workshop_to_change(workshop_id: int) -> Workshop:
    """The workshop, row-locked for the rest of the transaction; NotFound when there is
    none, Conflict once it is cancelled (a cancelled workshop no longer changes)."""
    workshop = lock_workshop(workshop_id, NO_SUCH_WORKSHOP)
    refuse_if_cancelled(workshop)
    return workshop


def refuse_if_cancelled(workshop: Workshop) -> None:
    """Conflict when the workshop is cancelled."""
    if workshop.status == CANCELLED:
        raise Conflict("This workshop has been cancelled; it can no longer be changed.")


def edit_workshop(
    workshop_id: int,
    *,
    fields: dict | None = None,
    capacity: int | None = None,
    status: str | None = None,
    cancel_reason: str | None = None,
    allow_clash: bool = False,
    precondition: Callable[[], None] | None = None,
) -> Workshop:
    """Change a workshop's details, capacity and status in one transaction: all of it
    or, when any rule refuses any part, none of it.

    `fields` holds details as update_workshop takes them; `capacity` (None: unchanged)
    follows change_capacity (waiting parents move up; CapacityRefused below the people
    holding seats) and is the capacity the minimum is checked against; `status` is
    published, draft or cancelled (None: unchanged), by the rules of publish_workshop,
    unpublish_workshop and cancel_workshop, checked on the locked row before anything
    changes. A workshop is cancelled on its own (Invalid with other changes), with an
    optional `cancel_reason` (Invalid without status cancelled). A new instructor who
    is already teaching (or travelling) when one of its sessions to come runs is refused
    with Clash unless `allow_clash`; the instructors of a published class given to
    another are emailed (`note_instructor_changed`). Nothing to change returns the
    workshop as it is. `precondition` runs once the workshop is locked, before anything
    is judged or changed; what it raises refuses the whole change (the API's If-Match).
    """
    fields = dict(fields or {})
    if status is not None and status not in STATUSES:
        raise Invalid(
            "The status must be published, draft or cancelled.",
            {"status": "Use published, draft or cancelled."},
        )
    if cancel_reason is not None and status != CANCELLED:
        raise Invalid(
            "A cancel_reason goes with status cancelled.",
            {"cancel_reason": "Only with status cancelled."},
        )
    if status == CANCELLED and (fields or capacity is not None):
        raise Invalid(
            "Cancel a workshop on its own, without other changes.",
            {"status": "Send cancelled without other fields."},
        )
    with write_transaction():
        workshop = lock_workshop(workshop_id, NO_SUCH_WORKSHOP)
        if precondition is not None:
            precondition()
        if not fields and capacity is None and status is None:
            return workshop
        refuse_if_cancelled(workshop)
        reason = ""
        if status == PUBLISHED:
            _refuse_publishing_without_sessions(workshop)
        elif status == DRAFT:
            _refuse_draft_while_booked(workshop)
        elif status == CANCELLED:
            reason = _clean_reason(cancel_reason or "", "cancel_reason")
            _refuse_cancelling_what_has_started(workshop)
        teacher, was_published = workshop.instructor_id, workshop.status == PUBLISHED
        if fields or capacity is not None:
            _change_details(workshop, fields, capacity, allow_clash)
        if status == PUBLISHED:
            _refuse_publishing_without_an_instructor(workshop)  # one given here counts
        if status in (PUBLISHED, DRAFT) and workshop.status != status:
            workshop.status = status
            workshop.updated_at = utcnow()
            if status == PUBLISHED:
                publish_with_workshop(workshop.centre_id)
        elif status == CANCELLED:
            apply_workshop_cancellation(workshop, reason)
        # Told as the class now stands: given away and published at once, it is the
        # new instructor's published class.
        note_instructor_changed(workshop, teacher, was_published=was_published)
    return workshop


def _refuse_publishing_without_sessions(workshop: Workshop) -> None:
    if workshop.status != PUBLISHED and not any(
        s.status == SCHEDULED for s in workshop_sessions(workshop.id)
    ):
        raise Conflict("A workshop needs at least one scheduled session to be published.")


def _refuse_publishing_without_an_instructor(workshop: Workshop) -> None:
    """A workshop is led by an instructor (a copy whose instructor has left the centre
    has none until staff choose one); families would book a class nobody teaches."""
    if workshop.status != PUBLISHED and workshop.instructor_id is None:
        raise Conflict(
            "Choose the instructor who leads this class before publishing it.",
            {"instructor_id": "Choose an instructor."},
        )


def _refuse_draft_while_booked(workshop: Workshop) -> None:
    if workshop.status == DRAFT:
        return
    confirmed, waiting = active_counts(workshop.id)
    if confirmed or waiting:
        raise Conflict(
            f"It cannot go back to draft: {confirmed} booked and {waiting} waiting. "
            "Cancel the workshop instead (everyone is told), or cancel or move "
            "their registrations first.",
            {"status": "People are booked or waiting."},
        )
    now = utcnow()
    visitors = sum(
        s.makeups_taken for s in workshop_sessions(workshop.id)
        if s.status == SCHEDULED and s.starts_at > now
    )
    if visitors:
        raise Conflict(
            f"It cannot go back to draft: {visitors} make-up "
            f"visitor{'' if visitors == 1 else 's'} booked into its sessions to come. "
            "Cancel the workshop instead (everyone is told).",
            {"status": "Make-up visitors are booked."},
        )


def _clean_reason(reason: str, field: str) -> str:
    try:
        return rules.cancel_reason(reason)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {field: str(exc)}) from exc


def _change_details(
    workshop: Workshop, fields: dict, new_capacity, allow_clash: bool = False
) -> None:
    """On a locked workshop: the details (a new instructor checked for clashes), then the
    capacity (promoting waiting parents), or the waiting list promoted when late joining
    now runs to a later session or the age range changed; held places released too late
    for a shorter late joining are released earlier (`release_before_close`)."""
    changes = clean_workshop_changes(workshop, fields, new_capacity)
    reopened = changes.get("late_join_until", workshop.late_join_until) > (
        workshop.late_join_until or 1
    )
    # A waiting baby skipped as too young or too old may fit the new range (rule 6).
    ages_changed = any(
        name in changes and changes[name] != getattr(workshop, name)
        for name in ("min_age_weeks", "max_age_weeks")
    )
    new_instructor = changes.get("instructor_id", workshop.instructor_id)
    instructor_changed = new_instructor != workshop.instructor_id
    outside_before = booked_babies_outside(workshop) if ages_changed else {}
    for name, value in changes.items():
        setattr(workshop, name, value)
    if ages_changed:  # a range narrowed under a booked baby is refused (rule 2)
        refuse_leaving_booked_babies_out(workshop, outside_before, fields=[
            name for name in ("min_age_weeks", "max_age_weeks") if name in changes
        ])
    if "late_join_until" in changes:
        release_before_close(workshop)
    workshop.updated_at = utcnow()
    db.session.flush()
    if instructor_changed and new_instructor is not None:
        _refuse_instructor_clashes(workshop, allow_clash)
    if new_capacity is not None:
        apply_capacity_change(workshop, new_capacity)
    elif reopened or ages_changed:
        promote_waitlist(workshop.id)


def _refuse_instructor_clashes(workshop: Workshop, allow_clash: bool) -> None:
    """Clash when the workshop's (new) instructor teaches elsewhere, or cannot travel in
    time, during one of its scheduled sessions still to come. Rooms do not change with the
    instructor, so they are not checked again (a session's room clash kept on purpose
    stays kept)."""
    now = utcnow()
    to_come = [
        s for s in workshop_sessions(workshop.id) if s.status == SCHEDULED and s.starts_at > now
    ]
    refuse_clashes(
        planned_sessions(
            workshop,
            [(s.starts_at, s.ends_at) for s in to_come],
            "",  # no room: an instructor's clash or travel only
            session_ids=[s.id for s in to_come],
            numbers=[s.number for s in to_come],
        ),
        allow_clash=allow_clash,
        field="instructor_id",
    )


def update_workshop(workshop_id: int, *, allow_clash: bool = False, **fields) -> Workshop:
    """Change a workshop's details (not its kind, and capacity only via change_capacity).

    Fields: title, description, what_to_bring, min_age_weeks, max_age_weeks, price,
    cancellation_cutoff_hours, instructor_id (an instructor at the workshop's centre),
    min_places, decision_at (an aware datetime), run_confirmed, late_join_until, and
    payment, deposit and refund_fee (booking.services.schedule.payment_fields; refused
    as a Conflict where the families booked forbid it). A new instructor busy during a
    session to come is refused with Clash unless `allow_clash`; both instructors of a
    published class are emailed (`note_instructor_changed`).
    """
    with write_transaction():
        workshop = lock_workshop_to_change(workshop_id)
        teacher, was_published = workshop.instructor_id, workshop.status == PUBLISHED
        _change_details(workshop, fields, None, allow_clash)
        note_instructor_changed(workshop, teacher, was_published=was_published)
    return workshop


def publish_workshop(workshop_id: int) -> Workshop:
    """Make a draft workshop bookable; it needs at least one scheduled session and an
    instructor. An unpublished centre is published with it."""
    with write_transaction():
        workshop = lock_workshop_to_change(workshop_id)
        if workshop.status == PUBLISHED:
            return workshop
        _refuse_publishing_without_sessions(workshop)
        _refuse_publishing_without_an_instructor(workshop)
        workshop.status = PUBLISHED
        workshop.updated_at = utcnow()
        publish_with_workshop(workshop.centre_id)
    return workshop


def unpublish_workshop(workshop_id: int) -> Workshop:
    """Take a published workshop back to draft; refused while anyone is booked or waiting."""
    with write_transaction():
        workshop = lock_workshop_to_change(workshop_id)
        if workshop.status == DRAFT:
            return workshop
        _refuse_draft_while_booked(workshop)
        workshop.status = DRAFT
        workshop.updated_at = utcnow()
    return workshop


def why_not_cancellable(workshop: Workshop) -> str | None:
    """Why the workshop can no longer be cancelled, in words; None while it can be.
    Cancelling cancels every session and booking and refunds in full: not for a workshop
    whose families have already had sessions of it."""
    if has_run(workshop):
        return (
            "This class has already run (its last session is over), so it can no "
            "longer be cancelled. Refund a family by hand from its payment if needed."
        )
    if has_started(workshop):
        return (
            "This class has started: its families have already had sessions of it, so it "
            "can no longer be cancelled as a whole. Cancel its remaining sessions one by "
            "one instead: everyone is told, and each family who paid online chooses a "
            "make-up or that week's share back."
        )
    return None


def _refuse_cancelling_what_has_started(workshop: Workshop) -> None:
    why_not = why_not_cancellable(workshop)
    if why_not:
        raise Conflict(why_not)


def cancel_workshop(workshop_id: int, reason: str = "") -> Workshop:
    """Cancel a workshop: every registration and session cancelled, everyone told. A
    workshop that has already run (its last session over) is refused with Conflict: its
    families would be told of a cancellation, and refunded, for classes they had."""
    reason = _clean_reason(reason, "reason")
    with write_transaction():
        workshop = lock_workshop_to_change(workshop_id)
        _refuse_cancelling_what_has_started(workshop)
        apply_workshop_cancellation(workshop, reason)
    return workshop


def apply_workshop_cancellation(workshop: Workshop, reason: str = "") -> list[Registration]:
    """Inside an open write transaction, on a locked workshop: cancel its registrations
    and sessions and tell everyone. Absences from its sessions stop counting (their
    unused credits withdrawn) and make-ups booked into them are removed, their
    credits usable again. Everything paid online is refunded in full (refund rows,
    carried out after the commit; a cancelled session's share still awaiting the
    family's choice is made at once) and unpaid holds end. Returns the registrations
    it ended."""
    require_transaction("Cancelling a workshop")
    now = utcnow()
    if workshop.status == DRAFT:
        workshop.cancelled_while_draft = True  # never shown: its cancellation is not either
    registrations = list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop.id)
            .where(Registration.status.in_(ACTIVE))
            .order_by(Registration.id)
        )
    )
    paid = ledger.registrations_that_paid(workshop.id)
    refund_texts = {}  # what each family's email says comes back to them
    held = {r.id for r in registrations if r.status == PENDING_PAYMENT}
    for registration in registrations:
        if registration.status == CONFIRMED:
            end_registration_absences(registration.id, now)
            text = ""
            if registration.id in paid:
                refunds = ledger.refund_registration(
                    registration.id,
                    reason=f"The centre cancelled {workshop.title}"[:200],
                    initiated_by=BY_CENTRE,
                )
                text = refund_line(refunds, 0)
            if ledger.paid_at_centre_of(registration, workshop):
                text = with_given_back_at_centre(text, by_policy=False)
            if text:
                refund_texts[registration.id] = text
        elif registration.status == PENDING_PAYMENT:
            ledger.abandon_open_payments(registration.id)
        registration.status = REG_CANCELLED
        registration.cancelled_at = now
        registration.cancel_reason = reason or "The centre cancelled the workshop."
        registration.invite_sequence += 1
    for session in workshop_sessions(workshop.id):
        if session.status != CANCELLED:
            session.status = CANCELLED
            session.revision += 1
            session.updated_at = session.cancelled_at = now
    dropped = drop_makeups_into(workshop_id=workshop.id, now=now)
    workshop.confirmed_count = 0
    workshop.status = CANCELLED
    workshop.updated_at = now
    db.session.flush()
    notify_workshop_cancelled(
        workshop, registrations, reason=reason, refund_texts=refund_texts, held_ids=held,
        visitors=len(dropped),
    )
    tell_makeups_dropped(dropped, "the class was cancelled")
    return registrations


def tell_makeups_dropped(dropped, why: str) -> None:
    """Email each parent whose make-up was removed (inside the caller's transaction)."""
    for makeup in dropped:
        notify_makeup_cancelled(makeup, why=why)
