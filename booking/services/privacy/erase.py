"""Privacy of families: export, erasure on request, and anonymisation after a retention time.

Erasure and expiry anonymise rather than delete: registrations, attendance and
babies stay as rows, so booking counts and the numbers of babies by age remain
true, while nothing in them still names or identifies a family. Payments and refunds
stay too, as the accounts must (amounts, currency, dates, the provider's references):
they hold no personal data of their own, and the registration they belong to is left
pointing at an anonymised account and an anonymised baby.

Health data (special category, GDPR Art. 9) is not anonymised but deleted: a baby's
health answers, the parent's "Ready for <day>?" answers, and the instructor's
clearance of a booking (its note, and even when it was given, since a clearance says
the baby had a condition needing a doctor's word). A baby's due date goes with its
name: being born early is health data too.

What a family took home and said about a course goes too: their home-practice sheets
are deleted, and their course evaluations keep only the numbers (confidence before
and after, for the course's figures), losing the words and the consent to show them.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    ApiToken,
    Baby,
    Evaluation,
    HealthConsent,
    HealthForm,
    HealthRecord,
    InstructorProfile,
    Invitation,
    MakeupBooking,
    OutboxMessage,
    PasswordResetToken,
    Payment,
    PracticeSheet,
    Refund,
    Registration,
    SessionReadiness,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.outbox import FAILED, REDACTED_SUBJECT, SENT
from booking.models.payment import BY_PARENT, BY_STAFF
from booking.models.registration import (
    ACTIVE,
    CANCELLED,
    CONFIRMED,
    HOLDS_PLACE,
    PENDING_PAYMENT,
)
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.passwords import check_password
from booking.services.accounts.roles import withdraw_invitations_sent_by
from booking.services.booking.places import cancellation_cutoff, lock_workshop, release_place
from booking.services.booking.waitlist import promote_waitlist
from booking.services.courses.absences import end_registration_absences
from booking.services.courses.makeups import drop_parent_makeups
from booking.services.errors import Invalid, NotFound
from booking.services.payments import ledger

ERASED_BABY_NAME = "Erased"
ERASED_ACCOUNT_NAME = "Erased account"
ERASED_INSTRUCTOR_NAME = "Former instructor"
ERASED_CANCEL_REASON = "Account deleted"
# What an erased person's names become in the reasons written on their refunds, and
# what a reason staff typed by hand becomes (free text about a family may identify it).
NAME_REMOVED = "(name removed)"
ERASED_STAFF_REFUND_REASON = "Refund by the centre"


def erased_email(user_id: int) -> str:
    """The address an erased account is left with: unique, and never deliverable."""
    return f"erased-{user_id}@invalid"


def _anonymise_baby(baby: Baby) -> None:
    """No name, notes, due date or immunisation date; the birth month is kept for
    counts by age. (The baby's health answers are deleted by the caller.)"""
    baby.name = ERASED_BABY_NAME
    baby.name_key = baby.anonymised_key()
    baby.date_of_birth = baby.date_of_birth.replace(day=1)
    baby.due_date = None
    baby.immunisation_date = None
    baby.notes = ""


# A booking with no clearance: what erasure and expiry leave.
NO_CLEARANCE = {
    "cleared_at": None,
    "cleared_by_id": None,
    "clearance_note": "",
    "cleared_fingerprint": "",
}


def _has_clearance():
    """SQL: the registration still holds something of a clearance."""
    return sa.or_(
        Registration.cleared_at.is_not(None),
        Registration.cleared_by_id.is_not(None),
        Registration.clearance_note != "",
        Registration.cleared_fingerprint != "",
    )


def _forget_health(baby_ids: list[int], registrations) -> None:
    """Delete the babies' health answers, and the "Ready for <day>?" answers and
    clearances of the given registrations (a select of their ids)."""
    if baby_ids:
        db.session.execute(sa.delete(HealthRecord).where(HealthRecord.baby_id.in_(baby_ids)))
        db.session.execute(
            sa.delete(HealthConsent).where(HealthConsent.baby_id.in_(baby_ids))
        )
    db.session.execute(
        sa.delete(SessionReadiness).where(SessionReadiness.registration_id.in_(registrations))
    )
    db.session.execute(
        sa.update(Registration)
        .where(Registration.id.in_(registrations), _has_clearance())
        .values(**NO_CLEARANCE)
        .execution_options(synchronize_session=False)
    )


# An evaluation with no words: what erasure and expiry leave (the numbers stay).
NO_WORDS = {"helped": "", "public": False}


def _has_words():
    """SQL: the evaluation still holds the family's words or their consent to show them."""
    return sa.or_(Evaluation.helped != "", Evaluation.public.is_(True))


def _forget_learning(user_id: int, registrations) -> None:
    """Delete the person's home-practice sheets, and take the words (and the consent to
    show them) out of the evaluations of the given registrations (a select of ids)."""
    db.session.execute(
        sa.delete(PracticeSheet).where(
            sa.or_(
                PracticeSheet.parent_id == user_id,
                PracticeSheet.registration_id.in_(registrations),
            )
        )
    )
    db.session.execute(
        sa.update(Evaluation)
        .where(Evaluation.registration_id.in_(registrations), _has_words())
        .values(**NO_WORDS)
        .execution_options(synchronize_session=False)
    )


def _unsign_work(user_id: int) -> None:
    """An instructor's or staff member's clearances stay with the bookings they cleared,
    and a centre's health questions with the centre, without naming who did it."""
    db.session.execute(
        sa.update(Registration)
        .where(Registration.cleared_by_id == user_id)
        .values(cleared_by_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(HealthForm)
        .where(HealthForm.created_by_id == user_id)
        .values(created_by_id=None)
        .execution_options(synchronize_session=False)
    )


def _still_running(now: datetime):
    return sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > now)


def _refuse_erasure_if_needed(user: User, now: datetime) -> None:
    """The last admin, and an instructor with classes to come, cannot just vanish."""
    if user.is_admin:
        admins = db.session.scalars(
            sa.select(User.id)
            .where(User.is_admin.is_(True), User.deleted_at.is_(None))
            .with_for_update()
        ).all()
        if not set(admins) - {user.id}:
            raise Invalid(
                "This is the only admin account, so it cannot be deleted. "
                "Make someone else an admin first."
            )
    teaching = db.session.scalar(
        sa.select(sa.func.count(Workshop.id)).where(
            Workshop.instructor_id == user.id,
            # Drafts too, as when the centre takes the role away: one published later
            # would have nobody to teach it.
            Workshop.status != WORKSHOP_CANCELLED,
            _still_running(now),
        )
    )
    if teaching:
        classes = "class" if teaching == 1 else "classes"
        raise Invalid(
            f"You lead {teaching} {classes} still to run. Ask the centre to give "
            f"{'it' if teaching == 1 else 'them'} to another instructor first, so the "
            "families booked are not left without one."
        )


def _cancel_active_registrations(user_id: int, now: datetime) -> list[int]:
    """Cancel the user's places and waiting entries in classes still to run.

    Workshops are locked in id order (as every other use case does) before
    their registrations are re-read, and with them those the person visits with a
    make-up still to come. Returns the ids of workshops where a place was freed (a
    booking's, or a make-up's seat). Nobody is emailed here: the person is leaving.
    """
    workshop_ids = set(db.session.scalars(
        sa.select(Registration.workshop_id)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(
            Registration.parent_id == user_id,
            Registration.status.in_(ACTIVE),
            _still_running(now),
        )
        .distinct()
    ))
    # Classes the person visits with a make-up still to come: the seat each takes is
    # freed too (`drop_parent_makeups`), so they are locked here, in the same order.
    visited = set(db.session.scalars(
        sa.select(WorkshopSession.workshop_id)
        .join(MakeupBooking, MakeupBooking.session_id == WorkshopSession.id)
        .where(MakeupBooking.parent_id == user_id, WorkshopSession.starts_at > now)
        .distinct()
    ))
    freed = []
    for workshop_id in sorted(workshop_ids | visited):
        workshop = lock_workshop(workshop_id)
        if workshop_id in visited and workshop_id not in freed:
            freed.append(workshop_id)
        registrations = db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.workshop_id == workshop_id,
                Registration.parent_id == user_id,
                Registration.status.in_(ACTIVE),
            )
            .execution_options(populate_existing=True)
        ).all()
        for registration in registrations:
            if registration.status in HOLDS_PLACE:
                release_place(workshop, held_place=registration.held_place)
                if workshop_id not in freed:
                    freed.append(workshop_id)
            if registration.status == CONFIRMED:
                end_registration_absences(registration.id, now)
                cutoff = cancellation_cutoff(workshop)
                if cutoff is None or now < cutoff:
                    ledger.refund_registration(
                        registration.id,
                        reason="Account deleted before the cut-off",
                        initiated_by=BY_PARENT,
                        keep=workshop.refund_fee,
                    )
            elif registration.status == PENDING_PAYMENT:
                ledger.abandon_open_payments(registration.id)
            registration.status = CANCELLED
            registration.cancelled_at = now
            registration.cancel_reason = ERASED_CANCEL_REASON
            registration.invite_sequence += 1
    db.session.flush()
    return freed


def _names_pattern(names: list[str]) -> re.Pattern | None:
    """A pattern matching any word of the given names (two letters or more)."""
    words = sorted(
        {word for name in names for word in re.findall(r"\w+", name or "") if len(word) > 1},
        key=len,
        reverse=True,
    )
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)


def _scrub_payment_records(user_id: int, names: list[str]) -> None:
    """Payments and refunds stay for the accounts, without anything naming the family:
    a refund reason staff typed is replaced by a neutral one, and the person's and their
    babies' names are taken out of any other reason. Reasons the registrations were
    cancelled for (staff may have typed them too) are cleared, except the erasure's own."""
    pattern = _names_pattern(names)
    refunds = db.session.scalars(
        sa.select(Refund)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Registration, Registration.id == Payment.registration_id)
        .where(Registration.parent_id == user_id)
    )
    for refund in refunds:
        if refund.initiated_by == BY_STAFF:
            refund.reason = ERASED_STAFF_REFUND_REASON
        elif pattern is not None:
            refund.reason = pattern.sub(NAME_REMOVED, refund.reason or "")[:200]
    db.session.execute(
        sa.update(Registration)
        .where(
            Registration.parent_id == user_id,
            Registration.cancel_reason != "",
            Registration.cancel_reason != ERASED_CANCEL_REASON,
        )
        .values(cancel_reason="")
        .execution_options(synchronize_session=False)
    )


def _forget_emails(old_email: str, new_email: str) -> None:
    """Unsent emails to the person are dropped; sent ones keep no content."""
    db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.recipient == old_email, OutboxMessage.status != SENT
        )
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.recipient == old_email)
        .values(recipient=new_email, subject=REDACTED_SUBJECT, body_text="", body_html="", ics=None)
    )


def _forget_invitations(user_id: int, old_email: str) -> None:
    """Invitations sent to the person's address are deleted; those they sent or used
    stay for the others, no longer naming them (those still waiting are withdrawn)."""
    db.session.execute(sa.delete(Invitation).where(Invitation.email == old_email))
    withdraw_invitations_sent_by(user_id)  # their links stopped working with them
    for column in (Invitation.invited_by_id, Invitation.used_by_id):
        db.session.execute(
            sa.update(Invitation)
            .where(column == user_id)
            .values({column: None})
            .execution_options(synchronize_session=False)
        )


def erase_user(user_id: int) -> None:
    """Erase a person's personal data, keeping anonymous booking counts (one transaction).

    Places in classes still to run are cancelled and each freed place goes to
    the waiting list at once (those promoted are emailed); absences from those
    places and make-ups still to come stop holding seats; what was paid online
    for them is refunded by the workshop's policy (refund rows); babies keep only
    their month of birth; their health answers, the "Ready for <day>?" answers and
    the clearances of their bookings are deleted, and so are their home-practice
    sheets; their course evaluations keep only the numbers (no words, no consent
    to show them); registrations lose their notes
    and the reasons typed for their cancellation; payments and refunds stay for the
    accounts, with no name in their reasons (see _scrub_payment_records); the
    account loses its name, email, phone, password, roles, tokens and sessions;
    clearances it gave as an instructor or staff stay, no longer naming it; emails
    not yet sent to it are dropped, and invitations sent to its address deleted
    (those it sent or used no longer name it). Refused for the last admin and for an
    instructor who still leads classes to run (published or draft).
    """
    with write_transaction():
        # FOR NO KEY UPDATE: bookings inserting rows that refer to the user still pass.
        user = db.session.get(
            User, user_id, with_for_update={"key_share": True}, populate_existing=True
        )
        if user is None or user.deleted_at is not None:
            raise NotFound("We could not find that account.")
        now = utcnow()
        _refuse_erasure_if_needed(user, now)
        old_email = user.email

        freed = _cancel_active_registrations(user.id, now)
        drop_parent_makeups(user.id, now)
        for workshop_id in sorted(freed):  # all locked already, in id order
            promote_waitlist(workshop_id)
        db.session.execute(
            sa.update(Registration)
            .where(Registration.parent_id == user.id, Registration.notes != "")
            .values(notes="")
        )
        babies = list(db.session.scalars(sa.select(Baby).where(Baby.parent_id == user.id)))
        _scrub_payment_records(user.id, [user.name, *(baby.name for baby in babies)])
        baby_ids = [baby.id for baby in babies]
        own_registrations = sa.select(Registration.id).where(
            sa.or_(
                Registration.parent_id == user.id,
                Registration.baby_id.in_(baby_ids) if baby_ids else sa.false(),
            )
        )
        _forget_health(baby_ids, own_registrations)
        _forget_learning(user.id, own_registrations)
        _unsign_work(user.id)
        for baby in babies:
            _anonymise_baby(baby)
        profile = db.session.scalar(
            sa.select(InstructorProfile).where(InstructorProfile.user_id == user.id)
        )
        if profile is not None:
            profile.display_name = ERASED_INSTRUCTOR_NAME
            profile.bio = profile.qualification = profile.topics = ""
        db.session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))
        db.session.execute(
            sa.delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id)
        )
        user.memberships.clear()

        user.email = erased_email(user.id)
        user.name = ERASED_ACCOUNT_NAME
        user.phone = ""
        user.password_hash = ""
        user.feed_token_hash = None
        user.is_admin = False
        user.deleted_at = now
        user.session_version += 1
        db.session.flush()
        _forget_emails(old_email, user.email)
        _forget_invitations(user.id, old_email)
    current_app.logger.info("erased account %s", user_id)


def erase_own_account(user_id: int, password: str) -> None:
    """A person deletes their own account, proving it is them with their password."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that account.")
    if not check_password(user.password_hash, password or ""):
        message = "That is not your current password."
        raise Invalid(message, {"password": message})
    erase_user(user_id)


@dataclass(frozen=True)
class PurgeCounts:
    """How many records one run of purge-expired anonymised."""

    babies: int = 0
    registrations: int = 0
    emails: int = 0
    cutoff: datetime | None = None
    # Health records deleted: babies' health answers, "Ready for <day>?" answers and
    # bookings' clearances.
    health: int = 0
    # Evaluations that lost the family's words, and home-practice sheets deleted.
    evaluations: int = 0
    sheets: int = 0

    @property
    def total(self) -> int:
        return (
            self.babies + self.registrations + self.emails + self.health
            + self.evaluations + self.sheets
        )


MAX_RETENTION_DAYS = 36_500


def _retention_days(days) -> int:
    if days is None:
        days = current_app.config.get("PURGE_AFTER_DAYS", 365)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise Invalid(
            "The retention time must be a whole number of days, from 1 to "
            f"{MAX_RETENTION_DAYS} (100 years)."
        )
    return days


def _purge_health(expired_workshops, cutoff: datetime) -> int:
    """Delete the health answers of anonymised babies, and the "Ready for <day>?"
    answers and clearances of bookings in expired workshops; returns how many."""
    anonymised = sa.select(Baby.id).where(Baby.name_key == Baby.anonymised_key_sql())
    # Answers given for a baby who never went on to book: kept no longer than the
    # retention time after they were last changed.
    never_booked = sa.select(Baby.id).where(
        ~sa.select(Registration.id).where(Registration.baby_id == Baby.id).exists()
    )
    stale = sa.select(HealthRecord.baby_id).where(
        HealthRecord.baby_id.in_(never_booked), HealthRecord.updated_at < cutoff
    )
    gone = sa.union(anonymised, stale).subquery()
    gone_ids = sa.select(gone.c[0])
    db.session.execute(sa.delete(HealthConsent).where(HealthConsent.baby_id.in_(gone_ids)))
    records = db.session.execute(
        sa.delete(HealthRecord).where(HealthRecord.baby_id.in_(gone_ids))
    ).rowcount
    expired = sa.select(Registration.id).where(Registration.workshop_id.in_(expired_workshops))
    readiness = db.session.execute(
        sa.delete(SessionReadiness).where(SessionReadiness.registration_id.in_(expired))
    ).rowcount
    clearances = db.session.execute(
        sa.update(Registration)
        .where(Registration.workshop_id.in_(expired_workshops), _has_clearance())
        .values(**NO_CLEARANCE)
        .execution_options(synchronize_session=False)
    ).rowcount
    return records + readiness + clearances


def _purge_learning(expired_workshops) -> tuple[int, int]:
    """Take the words out of the evaluations of expired workshops and delete the
    home-practice sheets of their sessions; returns (evaluations, sheets)."""
    evaluations = db.session.execute(
        sa.update(Evaluation)
        .where(Evaluation.workshop_id.in_(expired_workshops), _has_words())
        .values(**NO_WORDS)
        .execution_options(synchronize_session=False)
    ).rowcount
    expired_registrations = sa.select(Registration.id).where(
        Registration.workshop_id.in_(expired_workshops)
    )
    expired_sessions = sa.select(WorkshopSession.id).where(
        WorkshopSession.workshop_id.in_(expired_workshops)
    )
    sheets = db.session.execute(
        sa.delete(PracticeSheet).where(
            sa.or_(
                PracticeSheet.registration_id.in_(expired_registrations),
                PracticeSheet.session_id.in_(expired_sessions),
            )
        )
    ).rowcount
    return evaluations, sheets


def purge_counts(now: datetime | None = None, days: int | None = None) -> PurgeCounts:
    """Anonymise what is older than the retention time, and say how much (idempotent).

    The cut-off is `days` (default PURGE_AFTER_DAYS) before `now`. Registrations
    in workshops whose last session ended before it lose their notes and
    cancellation reason. A baby is anonymised once it has such a registration
    and none in a workshop that ended after the cut-off (or is still to come,
    or cannot be dated); its due date goes and its health answers are deleted.
    Registrations in expired workshops also lose their "Ready for <day>?" answers
    and their clearance (note, time, who gave it); their evaluations lose the
    family's words (the numbers stay) and their home-practice sheets are deleted.
    Sent emails older than the cut-off, and emails given up on written before it, lose
    their content. Things already anonymised
    are not counted again.
    """
    cutoff = (now or utcnow()) - timedelta(days=_retention_days(days))
    with write_transaction():
        expired_workshops = sa.select(Workshop.id).where(Workshop.last_ends_at < cutoff)
        registrations = db.session.execute(
            sa.update(Registration)
            .where(
                Registration.workshop_id.in_(expired_workshops),
                sa.or_(Registration.notes != "", Registration.cancel_reason != ""),
            )
            .values(notes="", cancel_reason="")
            .execution_options(synchronize_session=False)
        ).rowcount

        has_expired = (
            sa.select(Registration.id)
            .where(
                Registration.baby_id == Baby.id,
                Registration.workshop_id.in_(expired_workshops),
            )
            .exists()
        )
        has_recent = (
            sa.select(Registration.id)
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(
                Registration.baby_id == Baby.id,
                sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at >= cutoff),
            )
            .exists()
        )
        babies = db.session.scalars(
            sa.select(Baby)
            .where(has_expired, ~has_recent, Baby.name_key != Baby.anonymised_key_sql())
            .with_for_update(of=Baby)
        ).all()
        for baby in babies:
            _anonymise_baby(baby)
        db.session.flush()
        health = _purge_health(expired_workshops, cutoff)
        evaluations, sheets = _purge_learning(expired_workshops)

        emails = db.session.execute(
            sa.update(OutboxMessage)
            .where(
                sa.or_(
                    sa.and_(OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff),
                    # Given up on (never sent): as old by when it was written.
                    sa.and_(OutboxMessage.status == FAILED, OutboxMessage.created_at < cutoff),
                ),
                OutboxMessage.subject != REDACTED_SUBJECT,
            )
            .values(subject=REDACTED_SUBJECT, body_text="", body_html="", ics=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return PurgeCounts(
        len(babies), registrations, emails, cutoff, health, evaluations, sheets
    )


def purge_expired(now: datetime | None = None, days: int | None = None) -> int:
    """Anonymise babies', bookings', evaluations' and emails' personal data past the
    retention time, and delete the health data and home-practice sheets that went with
    them.

    Returns how many records were anonymised; a second run right after returns 0.
    """
    return purge_counts(now, days).total
