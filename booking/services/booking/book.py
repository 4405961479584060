"""The booking engine: booking a place and cancelling one (PRODUCT.md booking rules 1-7).

Every use case is one write transaction that locks the workshop's row first,
takes or frees places with a conditional UPDATE and writes its emails into the
outbox before committing. Waiting-list operations live in
`booking.services.booking.waitlist`.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache, wraps

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, make_transient_to_detached

from booking.db import note_committed, write_transaction
from booking.extensions import db
from booking.models import Baby, Registration, User, Workshop
from booking.models.payment import BY_PARENT, BY_STAFF
from booking.models.registration import (
    CANCELLED,
    CONFIRMED,
    HOLDS_PLACE,
    PENDING_PAYMENT,
    WAITLISTED,
)
from booking.services.accounts.babies import find_or_add_baby, get_baby
from booking.services.booking.payment_terms import (
    no_refund_line,
    refund_line,
    with_given_back_at_centre,
)
from booking.services.booking.places import (
    age_weeks_now,
    baby_live_in,
    baby_visiting,
    bookable_workshop,
    booking_closed_reason,
    cancellation_cutoff,
    centre_timezone,
    eligibility,
    has_run,
    held_release_due,
    live_in_workshop,
    lock_workshop,
    release_place,
    require_int,
    take_place,
    utc_now,
    visiting_text,
)
from booking.services.booking.referrals import claim_held_place, record_code_use
from booking.services.booking.waitlist import promote_waitlist, waitlist_position
from booking.services.catalogue.params import MAX_ID
from booking.services.courses.absences import withdraw_future_absences
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound
from booking.services.health.questions import (
    consent_key_of,
    latest_form_version,
    latest_safety_note,
    note_fingerprint,
    safety_note,
)
from booking.services.notices.emails import (
    note_booking_confirmed,
    note_waitlisted,
    notify_booking_cancelled,
)
from booking.services.notices.payment_emails import notify_hold_released
from booking.services.payments import gateway, ledger
from booking.timefmt import format_local

CONSENT_MESSAGE = "Please confirm you have read the health and safety note."
NOTE_CHANGED = (
    "The centre changed its health and safety note while this page was open. Please read "
    "it again below and tick the box if you agree."
)


class NotEligible(Invalid):
    """The baby's age does not fit the workshop; carries the baby's age today."""

    code = "not_eligible"

    def __init__(self, message: str, age_weeks_now: int | None, fields: dict | None = None):
        super().__init__(message, fields)
        self.age_weeks_now = age_weeks_now


@dataclass
class BookingResult:
    """The registration a booking produced (or found), and its waiting-list position.

    `status`, `baby_name` and `workshop_title` are read inside the transaction, so the
    page can say what happened without loading the committed (expired) rows again.
    """

    registration: Registration
    created: bool
    position: int | None
    baby: Baby | None = None
    workshop: Workshop | None = None
    status: str = ""
    baby_name: str = ""
    workshop_title: str = ""
    registration_id: int = 0

    @property
    def confirmed(self) -> bool:
        """Whether the booking holds a confirmed place."""
        return (self.status or self.registration.status) == CONFIRMED

    @property
    def awaiting_payment(self) -> bool:
        """Whether a place is held for the parent until they pay."""
        return (self.status or self.registration.status) == PENDING_PAYMENT


def _result(
    registration: Registration,
    created: bool,
    position: int | None,
    baby: Baby,
    workshop: Workshop,
) -> BookingResult:
    """The result, with what the page shows read while the rows are still loaded."""
    return BookingResult(
        registration,
        created,
        position,
        baby,
        workshop,
        status=registration.status,
        baby_name=baby.name,
        workshop_title=workshop.title,
        registration_id=registration.id,
    )


def _active_registration(workshop_id: int, baby_id: int) -> Registration | None:
    given = {"workshop_id": workshop_id, "baby_id": baby_id}
    return db.session.scalar(live_in_workshop("baby_id"), given)


def _existing(registration: Registration, baby: Baby, workshop: Workshop) -> BookingResult:
    return _result(registration, False, waitlist_position(registration), baby, workshop)


def _resolve_baby(parent_id: int, baby_id, baby_name, baby_dob, baby_due_date=None) -> Baby:
    if baby_id not in (None, ""):
        return get_baby(parent_id, baby_id)
    if not baby_name and baby_dob is None:
        message = "Choose one of your babies, or give a new baby's name and date of birth."
        raise Invalid(message, {"baby_id": message})
    if baby_dob is None:
        message = "Enter the date of birth as YYYY-MM-DD."
        raise Invalid(message, {"baby_dob": message})
    if not isinstance(baby_dob, date):
        raise Invalid("Enter the date of birth as YYYY-MM-DD.", {"baby_dob": "Enter a date."})
    return find_or_add_baby(parent_id, baby_name, baby_dob, baby_due_date)


@cache
def _with_the_workshop() -> tuple:
    """What a booking reads with the workshop it locks: the version of the centre's
    latest health form, whose consent the booking records, the id of the baby's live
    registration in it, if any (parameter `baby_id`), and the week the baby is booked to
    visit it with a make-up, if any (parameter `now`; `baby_visiting`).

    On PostgreSQL these are read in the snapshot the statement began with, before it
    waited for the lock, so `book_place` takes the registration's id only as a hint:
    - an id found is read again once the lock is held (that booking may have been
      cancelled meanwhile, and this one then goes ahead);
    - none found, a booking of the same baby committed meanwhile (a second tab) is still
      met when this one inserts its own: the unique index of live registrations refuses
      it, the transaction (or its savepoint) is rolled back and the booking runs again, which
      reads that booking under the lock and answers with it (`_again_if_booked_meanwhile`);
    - a booking with a referral code reads again anyway, since the code its twin used
      would be refused before anything is inserted."""
    return (
        latest_form_version(Workshop.centre_id), baby_live_in(Workshop), baby_visiting(Workshop),
        latest_safety_note(Workshop.centre_id),
    )


@cache
def _account_statement():
    """The booking parent's account, read fresh and shared-locked (see below), with the
    baby chosen (parameter `baby_id`) if it is one of theirs (and not one anonymised after
    the retention time, kept for counts only)."""
    return (
        sa.select(User, Baby)
        .outerjoin(Baby, sa.and_(
            Baby.id == sa.bindparam("baby_id"),
            Baby.parent_id == User.id,
            Baby.name_key != Baby.anonymised_key_sql(),
        ))
        .where(User.id == sa.bindparam("parent_id"))
        .options(lazyload(User.memberships))
        .with_for_update(read=True, of=User)
        .execution_options(populate_existing=True)
    )


_INSERT_REGISTRATION = Registration.__table__.insert()
_REGISTRATION_COLUMNS = tuple(column.key for column in Registration.__table__.columns)


def _insert_registration(values: dict) -> Registration:
    """Insert a new registration with a plain INSERT and keep it in the session as if it
    had been loaded: the session's flush of one new object costs about twice as much,
    while the class's lock is held. Each column has its default in Python or none, so
    the INSERT's parameters are the whole row and the object reads nothing again."""
    result = db.session.connection().execute(_INSERT_REGISTRATION, values)
    inserted = result.last_inserted_params()
    registration = Registration(**{key: inserted.get(key) for key in _REGISTRATION_COLUMNS})
    registration.id = result.inserted_primary_key[0]
    make_transient_to_detached(registration)
    db.session.add(registration)
    return registration


class _BookedMeanwhile(Conflict):
    """The unique index of live registrations refused the new one: a booking of the same
    baby committed while this one waited for the class's lock, unseen by the statement
    that waited (PostgreSQL: see `_with_the_workshop`)."""

    def __init__(self):
        message = "This baby is already booked in this class."
        super().__init__(message, {"baby_id": message})


# Runs of a booking that met a booking of the same baby committed meanwhile: the run
# after one reads that booking under the lock and answers with it, so a second is needed
# only when a third tab committed meanwhile too.
BOOKING_RUNS = 3
_LIVE_BOOKING_INDEX = "uq_registration_active_baby"
_SQLITE_LIVE_BOOKING = "UNIQUE constraint failed: registration.workshop_id, registration.baby_id"


def _a_twin_booking(error: sa.exc.IntegrityError) -> bool:
    """Whether the INSERT was refused by the unique index of live registrations (a
    booking of the same baby in the class), rather than by any other rule, which is an
    error to report, not a booking to answer with."""
    diag = getattr(error.orig, "diag", None)  # psycopg names the constraint
    if diag is not None:
        return diag.constraint_name == _LIVE_BOOKING_INDEX
    return _SQLITE_LIVE_BOOKING in str(error.orig)


def _again_if_booked_meanwhile(use_case):
    """Run `use_case` again when it met a booking committed meanwhile: its transaction
    (or, within another use case's, its savepoint) was rolled back, and the next run
    reads that booking under the lock and answers with it (created False). Cheaper than
    a savepoint around every booking's INSERT for a race that needs a second tab or a
    double submit."""

    @wraps(use_case)
    def run(**kwargs):
        for _ in range(BOOKING_RUNS - 1):
            try:
                return use_case(**kwargs)
            except _BookedMeanwhile:
                continue
        return use_case(**kwargs)

    return run


def _require_active_account(parent_id: int, baby_id=None) -> Baby | None:
    """Refuse to book for an account that is deleted (or being deleted right now).

    FOR SHARE on the account's row: an erasure in progress holds the row and this
    waits for it, then sees `deleted_at`; an erasure that starts later waits for
    this booking and cancels it with the account's other places. Taken before the
    workshop's lock, in the same order as erasure, so the two cannot deadlock. The
    whole row is read (fresh), so the booking's email finds its recipient loaded.
    Returns the baby chosen, read with it, when `baby_id` is the id (an int) of one of
    the account's babies; None otherwise (`get_baby` then answers).
    """
    chosen = baby_id if isinstance(baby_id, int) and 0 < baby_id <= MAX_ID else None
    row = db.session.execute(
        _account_statement(), {"parent_id": parent_id, "baby_id": chosen}
    ).first()
    if row is None or row[0].deleted_at is not None:
        raise Forbidden("This account has been deleted, so it cannot book.")
    return row[1]


def _referred_from_the_waiting_list(
    registration: Registration, workshop: Workshop, baby: Baby, code: str
) -> BookingResult:
    """A family already waiting for a place, then given a referral code (by a health
    visitor, say): the code takes a held place for the same booking, confirmed at once
    as any referred booking. A code that cannot be used changes nothing (Invalid)."""
    fit = eligibility(baby, workshop)
    if not fit.eligible:
        raise NotEligible(fit.reason, age_weeks_now(baby, at=workshop), {"baby_id": fit.reason})
    now = utc_now()
    code_id = claim_held_place(workshop, code, now)
    registration.status, registration.confirmed_at = CONFIRMED, now
    registration.held_place = True
    db.session.flush()
    record_code_use(code_id, registration.id)
    note_booking_confirmed(registration)
    note_committed("booking.confirmed")
    return _result(registration, True, None, baby, workshop)


@_again_if_booked_meanwhile
def book_place(
    *,
    parent_id: int,
    workshop_id: int,
    baby_id: int | None = None,
    baby_name: str | None = None,
    baby_dob: date | None = None,
    baby_due_date: date | None = None,
    consent: bool = False,
    referral_code: str | None = None,
    note_seen: str | None = None,
) -> BookingResult:
    """Book a place for a baby, or join the waiting list when the workshop is full.

    In a workshop paid online (the whole fee or a deposit) the place is held as
    `pending_payment` until PAYMENT_HOLD_MINUTES from now, with the payment to make;
    it becomes confirmed when the payment succeeds (`booking.services.payments`).
    A repeated or simultaneous booking for the same baby returns the existing
    registration with `created` False. With `referral_code` the booking takes
    one of the workshop's held places (even when the public places are gone)
    and uses the code, in this same transaction (for a baby already on the waiting
    list, that booking is confirmed in the held place); a code that cannot be used
    raises Invalid with one message whatever the reason, and changes nothing.
    `note_seen` is the `note_fingerprint` of the health-and-safety note the page showed
    beside the consent box (None when no page did): a booking after the centre changed
    it is refused (Conflict, under `consent`), so consent is recorded only to words read.
    """
    with write_transaction():
        chosen = _require_active_account(parent_id, baby_id)
        workshop_id = require_int(workshop_id, "The class")
        if not consent:
            raise Invalid(CONSENT_MESSAGE, {"consent": CONSENT_MESSAGE})
        # The baby first (a new one, or a due date filled in), then the workshop's lock:
        # the order in which correcting a baby's details then promotes waiting lists.
        baby = chosen or _resolve_baby(parent_id, baby_id, baby_name, baby_dob, baby_due_date)
        db.session.flush()
        workshop, form_version, live_id, visiting, latest_note = bookable_workshop(
            workshop_id, *_with_the_workshop(), baby_id=baby.id, now=utc_now()
        )
        if note_seen and note_seen != note_fingerprint(safety_note(latest_note)):
            # The consent recorded names the note in force: not one the parent never saw.
            raise Conflict(NOTE_CHANGED, {"consent": NOTE_CHANGED})
        closed = booking_closed_reason(workshop)
        if closed:
            raise Invalid(closed)
        if workshop.pays_online and not referral_code and not gateway.enabled():
            raise Invalid(
                "This class is paid online when you book, and online payment is not "
                "available right now. Please contact the centre to book a place."
            )
        if held_release_due(workshop, utc_now()):
            # Held places past their release time that `run-decisions` has not released
            # yet: the waiting list gets them first, then this booking what is left.
            promote_waitlist(workshop.id)
        if live_id is not None or referral_code:
            existing = _active_registration(workshop.id, baby.id)  # read under the lock
            if existing is not None and referral_code and existing.status == WAITLISTED:
                return _referred_from_the_waiting_list(existing, workshop, baby, referral_code)
            if existing is not None:
                return _existing(existing, baby, workshop)
        fit = eligibility(baby, workshop)
        if not fit.eligible:
            raise NotEligible(fit.reason, age_weeks_now(baby, at=workshop), {"baby_id": fit.reason})
        if visiting is not None:
            # A baby booked on a course does not also visit it (nor the other way round:
            # courses.makeups), or its sessions would count the baby twice.
            message = (
                f"{visiting_text(baby.name, visiting)} To book the whole course, first "
                "cancel that make-up on your bookings page: its credit can then be used again."
            )
            raise Conflict(message, {"baby_id": message})
        # Read once the lock is held: waiting-list places are ordered by this time.
        now = utc_now()
        values = {
            "workshop_id": workshop.id,
            "baby_id": baby.id,
            "parent_id": parent_id,
            "consent_at": now,
            "consent_key": consent_key_of(workshop.centre_id, form_version),
        }
        code_id = None
        if referral_code:
            # Referred families' places are confirmed at once: any fee is
            # settled with the centre, whatever the workshop's payment mode.
            code_id = claim_held_place(workshop, referral_code, now)
            values.update(status=CONFIRMED, confirmed_at=now, held_place=True)
        elif take_place(workshop):
            if workshop.pays_online:
                values.update(status=PENDING_PAYMENT, hold_expires_at=ledger.hold_deadline(now))
            else:
                values.update(status=CONFIRMED, confirmed_at=now)
        else:
            values.update(status=WAITLISTED, waitlisted_at=now)
        try:
            registration = _insert_registration(values)
        except sa.exc.IntegrityError as exc:
            if not _a_twin_booking(exc):
                raise
            raise _BookedMeanwhile() from exc
        if code_id is not None:
            record_code_use(code_id, registration.id)
        position = waitlist_position(registration)
        # The emails are notes here, rendered after commit: the lock is not held for them.
        if registration.status == CONFIRMED:
            note_booking_confirmed(registration)
        elif registration.status == PENDING_PAYMENT:
            ledger.open_payment(registration, workshop, workshop.centre)
        else:
            note_waitlisted(registration, position)
        result = _result(registration, True, position, baby, workshop)
        note_committed(f"booking.{registration.status}")
    return result


def cancel_state(registration: Registration, workshop: Workshop, now=None) -> tuple[bool, str]:
    """Whether the parent may cancel this registration now, and if not, why not."""
    now = now or utc_now()
    if registration.status == CANCELLED:
        return False, "This booking is already cancelled."
    if registration.status in (WAITLISTED, PENDING_PAYMENT):
        return True, ""
    cutoff = cancellation_cutoff(workshop)
    if cutoff is not None and now >= cutoff:
        when = format_local(cutoff, centre_timezone(workshop))
        return False, (
            f"The cut-off for cancelling was {when}. Please contact the centre if you "
            "cannot come."
        )
    return True, ""


def cancel_registration(
    registration_id: int, *, actor_id: int, on_behalf: bool = False, reason: str = ""
) -> Registration:
    """Cancel a booking, a place held for payment, or a waiting-list entry.

    A parent may cancel their own confirmed place until the cut-off, and a held
    place or a waiting entry at any time; with `on_behalf` (the caller has checked
    staff rights) any time. A freed place goes to the waiting list in the same
    transaction. What was paid online is refunded by the workshop's policy, in the
    same transaction (a refund row): in full less its refund fee before the cut-off,
    nothing after it (staff may still refund by hand); the email says what is refunded.
    Cancelling an already cancelled booking changes nothing.
    """
    with write_transaction():
        registration = db.session.get(Registration, require_int(registration_id, "The booking"))
        if registration is None or (not on_behalf and registration.parent_id != actor_id):
            raise NotFound("We could not find that booking on your account.")
        workshop = lock_workshop(registration.workshop_id)
        db.session.refresh(registration)
        if registration.status == CANCELLED:
            return registration
        if not on_behalf:
            allowed, why_not = cancel_state(registration, workshop)
            if not allowed:
                raise Invalid(why_not)
        previous = registration.status
        now = utc_now()
        if previous == CONFIRMED and has_run(workshop, now):
            # The family was told of a cancellation, and their calendar lost the
            # sessions they came to, for a class they had.
            raise Conflict(
                "This class has already run, so its bookings can no longer be cancelled. "
                "Refund the family by hand from its payment if needed."
            )
        registration.status = CANCELLED
        registration.cancelled_at = now
        registration.cancel_reason = (reason or "").strip()[:200]
        registration.invite_sequence += 1
        if previous in HOLDS_PLACE:
            release_place(workshop, held_place=registration.held_place)
        refund_text = ""
        if previous == CONFIRMED:
            withdraw_future_absences(registration)
            cutoff = cancellation_cutoff(workshop)
            if cutoff is None or now < cutoff:
                refunds = ledger.refund_registration(
                    registration.id,
                    reason="Cancelled before the cut-off",
                    initiated_by=BY_STAFF if on_behalf else BY_PARENT,
                    keep=workshop.refund_fee,
                )
                refund_text = refund_line(refunds, workshop.refund_fee)
            else:
                refund_text = no_refund_line(registration.id, by_centre=on_behalf)
            if ledger.paid_at_centre_of(registration, workshop):
                refund_text = with_given_back_at_centre(refund_text, by_policy=True)
        db.session.flush()
        if previous == PENDING_PAYMENT:
            ledger.abandon_open_payments(registration.id)
            notify_hold_released(registration, reason="by_centre" if on_behalf else "cancelled")
        else:
            notify_booking_cancelled(
                registration, was_confirmed=previous == CONFIRMED, refund_text=refund_text,
                by_centre=on_behalf,
            )
        if previous in HOLDS_PLACE:
            promote_waitlist(workshop.id)
    return registration
