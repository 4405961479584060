"""A parent's own data, gathered for them to take away (GDPR access and portability)."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import (
    Absence,
    ApiToken,
    Attendance,
    Baby,
    Centre,
    Evaluation,
    HealthConsent,
    HealthRecord,
    InstructorProfile,
    Invitation,
    MakeupBooking,
    MakeupCredit,
    OutboxMessage,
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
from booking.models.centre import CURRENCIES
from booking.models.registration import ACTIVE
from booking.services.errors import NotFound
from booking.services.payments import ledger
from booking.services.payments.money import format_money
from booking.timefmt import iso_local

EXPORT_FORMAT = 1


def _utc(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _account(user: User) -> dict:
    roles = [{"role": "parent"}]
    if user.is_admin:
        roles.append({"role": "admin"})
    centres = {}
    if user.memberships:
        ids = {m.centre_id for m in user.memberships}
        centres = {
            c.id: c for c in db.session.scalars(sa.select(Centre).where(Centre.id.in_(ids)))
        }
    for membership in sorted(user.memberships, key=lambda m: (m.role, m.centre_id)):
        centre = centres.get(membership.centre_id)
        roles.append(
            {
                "role": membership.role,
                "centre": {"slug": centre.slug, "name": centre.name} if centre else None,
                "since": _utc(membership.created_at),
            }
        )
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "created_at": _utc(user.created_at),
        "roles": roles,
        "private_calendar_feed": user.feed_token_hash is not None,
    }


def _instructor_profile(user_id: int) -> dict | None:
    profile = db.session.scalar(
        sa.select(InstructorProfile).where(InstructorProfile.user_id == user_id)
    )
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "bio": profile.bio,
        "qualification": profile.qualification,
        "topics": profile.topic_slugs,
    }


def _health(record: HealthRecord | None) -> dict | None:
    """A baby's health answers as the parent gave them, each with its question as asked."""
    if record is None:
        return None
    return {
        "answers": [
            {
                "question": answer.get("text", ""),
                "answer": "yes" if answer.get("yes") else "no",
                "details": answer.get("details", ""),
            }
            for answer in record.answers or []
        ],
        "other": record.other,
        "consent_version": record.consent_key,
        "consented_at": _utc(record.consented_at),
        "updated_at": _utc(record.updated_at),
        "revision": record.revision,
    }


def _consents(baby_ids: list[int]) -> dict[int, list[dict]]:
    """Each baby's consents to share its health answers: with which centre, to which
    version of the text, and when."""
    found: dict[int, list[dict]] = {}
    if not baby_ids:
        return found
    rows = db.session.execute(
        sa.select(HealthConsent, Centre.name)
        .outerjoin(Centre, Centre.id == HealthConsent.centre_id)
        .where(HealthConsent.baby_id.in_(baby_ids))
        .order_by(HealthConsent.id)
    )
    for consent, centre_name in rows:
        found.setdefault(consent.baby_id, []).append(
            {
                "shared_with": centre_name or "nobody (kept on the account only)",
                "consent_version": consent.consent_key,
                "consented_at": _utc(consent.consented_at),
            }
        )
    return found


def _babies(user_id: int) -> list[dict]:
    babies = list(
        db.session.scalars(sa.select(Baby).where(Baby.parent_id == user_id).order_by(Baby.id))
    )
    records = {}
    if babies:
        records = {
            record.baby_id: record
            for record in db.session.scalars(
                sa.select(HealthRecord).where(HealthRecord.baby_id.in_([b.id for b in babies]))
            )
        }
    consents = _consents([b.id for b in babies])
    return [
        {
            "id": baby.id,
            "name": baby.name,
            "date_of_birth": _day(baby.date_of_birth),
            "due_date": _day(baby.due_date),
            "immunisation_date": _day(baby.immunisation_date),
            "notes": baby.notes,
            "created_at": _utc(baby.created_at),
            "health": _health(records.get(baby.id)),
            "health_consents": consents.get(baby.id, []),
        }
        for baby in babies
    ]


def _session(session: WorkshopSession, tz: str) -> dict:
    return {
        "number": session.number,
        "starts_at": iso_local(session.starts_at, tz),
        "ends_at": iso_local(session.ends_at, tz),
        "room": session.room,
        "status": session.status,
    }


def _readiness(registration_ids: list[int]) -> dict[int, list[dict]]:
    """The parent's "Ready for <day>?" answers, by registration (one query)."""
    if not registration_ids:
        return {}
    rows = db.session.execute(
        sa.select(SessionReadiness, WorkshopSession, Centre.timezone)
        .join(WorkshopSession, WorkshopSession.id == SessionReadiness.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(SessionReadiness.registration_id.in_(registration_ids))
        .order_by(WorkshopSession.starts_at, SessionReadiness.id)
    )
    found: dict[int, list[dict]] = {}
    for answer, session, tz in rows:
        found.setdefault(answer.registration_id, []).append(
            {
                "session_number": session.number,
                "starts_at": iso_local(session.starts_at, tz),
                "status": answer.status,
                "answered_at": _utc(answer.answered_at),
            }
        )
    return found


def _clearance(registration: Registration) -> dict | None:
    """The instructor's clearance of an answer that needed a doctor's word, if given."""
    if registration.cleared_at is None:
        return None
    return {"cleared_at": _utc(registration.cleared_at), "note": registration.clearance_note}


def _registrations(user_id: int) -> tuple[list[dict], dict[int, Registration]]:
    registrations = list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.parent_id == user_id)
            .options(
                selectinload(Registration.baby),
                selectinload(Registration.workshop).selectinload(Workshop.centre),
                selectinload(Registration.workshop).selectinload(Workshop.sessions),
            )
            .order_by(Registration.created_at, Registration.id)
        )
    )
    readiness = _readiness([r.id for r in registrations])
    rows = []
    for registration in registrations:
        workshop = registration.workshop
        centre = workshop.centre
        baby = registration.baby
        rows.append(
            {
                "id": registration.id,
                "baby": {"id": baby.id, "name": baby.name} if baby else None,
                "workshop": {"id": workshop.id, "title": workshop.title, "kind": workshop.kind},
                "centre": {
                    "slug": centre.slug,
                    "name": centre.name,
                    "town": centre.town,
                    "timezone": centre.timezone,
                },
                "sessions": [_session(s, centre.timezone) for s in workshop.sessions],
                "status": registration.status,
                "held_place": registration.held_place,
                "created_at": _utc(registration.created_at),
                "confirmed_at": _utc(registration.confirmed_at),
                "waitlisted_at": _utc(registration.waitlisted_at),
                "cancelled_at": _utc(registration.cancelled_at),
                "cancel_reason": registration.cancel_reason,
                "consent_at": _utc(registration.consent_at),
                "consent_version": registration.consent_key,
                "health_confirmed_at": _utc(registration.health_confirmed_at),
                "clearance": _clearance(registration),
                "readiness": readiness.get(registration.id, []),
                "reminder_sent_at": _utc(registration.reminder_sent_at),
                "hold_expires_at": _utc(registration.hold_expires_at),
                "offered_at": _utc(registration.offered_at),
                "paid_at_centre_at": _utc(registration.paid_at_centre_at),
                "paid_at_centre_minor": registration.paid_at_centre_minor,
                "paid_at_centre": _paid_at_centre(registration, workshop, centre.currency),
                "notes": registration.notes,
            }
        )
    return rows, {r.id: r for r in registrations}


def _paid_at_centre(registration: Registration, workshop: Workshop,
                    currency: str) -> dict | None:
    """What the centre marked paid there for a booking, as payments are written: minor
    units with the currency, and the same amount as text."""
    amount = ledger.paid_at_centre_of(registration, workshop)
    if not amount:
        return None
    return {"amount": amount, "amount_text": format_money(amount, currency),
            "currency": currency}


def _attendance(registrations: dict[int, Registration]) -> list[dict]:
    """Each mark, named by the class it was made in: a week made up in another course
    is that course's session, in its centre's zone."""
    if not registrations:
        return []
    rows = db.session.execute(
        sa.select(Attendance, WorkshopSession, Workshop.title, Centre.timezone)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(Attendance.registration_id.in_(registrations))
        .order_by(WorkshopSession.starts_at, Attendance.id)
    )
    result = []
    for attendance, session, title, tz_name in rows:
        registration = registrations[attendance.registration_id]
        result.append(
            {
                "registration_id": attendance.registration_id,
                "workshop": title,
                "session_number": session.number,
                "session_starts_at": iso_local(session.starts_at, tz_name),
                "makeup": session.workshop_id != registration.workshop_id,
                "status": attendance.status,
                "marked_at": _utc(attendance.marked_at),
            }
        )
    return result


def _refund(refund: Refund, currency: str) -> dict:
    return {
        "amount": refund.amount,
        "amount_text": format_money(refund.amount, currency),
        "status": refund.status,
        "reason": refund.reason,
        "created_at": _utc(refund.created_at),
        "done_at": _utc(refund.done_at),
        "provider_reference": refund.stripe_refund_id,
    }


def _payments(registrations: dict[int, Registration]) -> list[dict]:
    """The payments asked of the person online, with their refunds (one query)."""
    if not registrations:
        return []
    rows = db.session.execute(
        sa.select(Payment, Refund)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(Payment.registration_id.in_(registrations))
        .order_by(Payment.created_at, Payment.id, Refund.id)
    ).all()
    payments: dict[int, dict] = {}
    for payment, refund in rows:
        entry = payments.get(payment.id)
        if entry is None:
            workshop = registrations[payment.registration_id].workshop
            entry = payments[payment.id] = {
                "reference": payment.reference,
                "registration_id": payment.registration_id,
                "workshop": {"id": workshop.id, "title": workshop.title},
                "centre": workshop.centre.name,
                "purpose": payment.purpose,
                "amount": payment.amount,
                "amount_text": format_money(payment.amount, payment.currency),
                "currency": payment.currency,
                "status": payment.status,
                "refunded": payment.refunded,
                "created_at": _utc(payment.created_at),
                "paid_at": _utc(payment.paid_at),
                "provider_reference": payment.stripe_payment_intent_id,
                "refunds": [],
            }
        if refund is not None:
            entry["refunds"].append(_refund(refund, payment.currency))
    return list(payments.values())


def _practice_sheets(user_id: int) -> list[dict]:
    """The home-practice sheets the family was sent, as they were sent."""
    sheets = db.session.scalars(
        sa.select(PracticeSheet)
        .where(PracticeSheet.parent_id == user_id)
        .order_by(PracticeSheet.session_day, PracticeSheet.week_number, PracticeSheet.id)
    )
    return [
        {
            "workshop_title": sheet.workshop_title,
            "week_number": sheet.week_number,
            "title": sheet.title,
            "session_day": _day(sheet.session_day),
            "created_at": _utc(sheet.created_at),
        }
        for sheet in sheets
    ]


def _evaluations(user_id: int) -> list[dict]:
    """The family's evaluations of the courses they took (asked, and answered or not)."""
    rows = db.session.execute(
        sa.select(Evaluation, Workshop.title)
        .join(Registration, Registration.id == Evaluation.registration_id)
        .join(Workshop, Workshop.id == Evaluation.workshop_id)
        .where(Registration.parent_id == user_id)
        .order_by(Evaluation.asked_at, Evaluation.id)
    )
    return [
        {
            "workshop": title,
            "confidence_before": evaluation.confidence_before,
            "confidence_after": evaluation.confidence_after,
            "helped": evaluation.helped,
            "public": evaluation.public,
            "answered_at": _utc(evaluation.answered_at),
        }
        for evaluation, title in rows
    ]


# What an email written from a note (`booking.mail.deferred`) is about, in words, for the
# seconds before it is written.
NOTE_SUBJECTS = {"booking_confirmed": "Booking confirmed", "waitlisted": "On the waiting list"}


def _subject(message: OutboxMessage) -> str:
    """The email's subject; a note not written as an email says what it is about
    ("Booking confirmed"), and while it is still to be written, that it is."""
    if message.body_text is None and message.kind and not message.subject:
        about = NOTE_SUBJECTS.get(message.kind, message.kind.replace("_", " ").capitalize())
        return f"{about} (being written)" if message.status == "pending" else about
    return message.subject


def _emails(email: str) -> list[dict]:
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [
        {
            "subject": _subject(message),
            "status": message.status,
            "created_at": _utc(message.created_at),
            "sent_at": _utc(message.sent_at),
        }
        for message in messages
    ]


def _api_tokens(user_id: int) -> list[dict]:
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    )
    return [
        {
            "name": token.name,
            "created_at": _utc(token.created_at),
            "last_used_at": _utc(token.last_used_at),
            "revoked_at": _utc(token.revoked_at),
        }
        for token in tokens
    ]


def _invitations(email: str) -> list[dict]:
    """Invitations to a role sent to the person's address (not who sent them)."""
    invitations = db.session.scalars(
        sa.select(Invitation).where(Invitation.email == email).order_by(Invitation.id)
    )
    return [
        {
            "role": invitation.role,
            "centre": invitation.centre.name if invitation.centre else None,
            "created_at": _utc(invitation.created_at),
            "expires_at": _utc(invitation.expires_at),
            "used_at": _utc(invitation.used_at),
            "withdrawn_at": _utc(invitation.revoked_at),
        }
        for invitation in invitations
    ]


def _session_facts(session: WorkshopSession, workshop: Workshop, tz: str) -> dict:
    return {
        "workshop_id": workshop.id,
        "workshop": workshop.title,
        "session_number": session.number,
        "starts_at": iso_local(session.starts_at, tz),
    }


def _through_session(statement: sa.Select, session_id) -> sa.Select:
    """The statement joined to the session `session_id` names, its workshop and centre."""
    return (
        statement.join(WorkshopSession, WorkshopSession.id == session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
    )


def _absences(user_id: int) -> list[dict]:
    """The sessions the parent said their baby would miss."""
    rows = db.session.execute(
        _through_session(
            sa.select(Absence, WorkshopSession, Workshop, Centre.timezone), Absence.session_id
        )
        .where(Absence.parent_id == user_id)
        .order_by(WorkshopSession.starts_at, Absence.id)
    )
    return [
        {
            "registration_id": absence.registration_id,
            **_session_facts(session, workshop, tz),
            "said_at": _utc(absence.created_at),
        }
        for absence, session, workshop, tz in rows
    ]


def _makeup_credits(user_id: int) -> list[dict]:
    """The make-up credits the parent earned, used or not."""
    rows = db.session.execute(
        sa.select(MakeupCredit, Centre.name, Baby.name)
        .join(Centre, Centre.id == MakeupCredit.centre_id)
        .outerjoin(Baby, Baby.id == MakeupCredit.baby_id)
        .where(MakeupCredit.parent_id == user_id)
        .order_by(MakeupCredit.id)
    )
    return [
        {
            "id": credit.id,
            "centre": centre,
            "baby": baby,
            "week_number": credit.week_number,
            "earned_at": _utc(credit.created_at),
            "expires_at": _utc(credit.expires_at),
            "used_at": _utc(credit.used_at),
        }
        for credit, centre, baby in rows
    ]


def _makeups(user_id: int) -> list[dict]:
    """The make-up sessions the parent booked, in other courses."""
    rows = db.session.execute(
        _through_session(
            sa.select(MakeupBooking, WorkshopSession, Workshop, Centre.timezone, Baby.name),
            MakeupBooking.session_id,
        )
        .outerjoin(Baby, Baby.id == MakeupBooking.baby_id)
        .where(MakeupBooking.parent_id == user_id)
        .order_by(WorkshopSession.starts_at, MakeupBooking.id)
    )
    return [
        {
            "credit_id": makeup.credit_id,
            "baby": baby,
            **_session_facts(session, workshop, tz),
            "booked_at": _utc(makeup.created_at),
        }
        for makeup, session, workshop, tz, baby in rows
    ]


def export_user_data(user_id: int) -> dict:
    """Everything held about a person and their babies, as JSON-ready data.

    Record times are ISO 8601 in UTC; session times carry the centre's UTC
    offset, as the API shows them. Amounts are whole minor units (pence, cents) of
    the payment's currency, with the same amount as text ("£60.00") beside them.
    Each baby's health answers come with each question as it was asked and the
    version of the health-and-safety text agreed to; each booking with its
    clearance (when an instructor gave one) and "Ready for <day>?" answers; the
    sessions they said they would miss, the make-up credits earned and the make-up
    sessions booked; the home-practice sheets sent and the course evaluations asked,
    with the answers;
    the invitations to a role sent to their address.
    Secrets (password hash, token hashes) are never included, only the fact that
    they exist.
    """
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that account.")
    registrations, by_id = _registrations(user.id)
    return {
        "format_version": EXPORT_FORMAT,
        "exported_at": _utc(utcnow()),
        "account": _account(user),
        "instructor_profile": _instructor_profile(user.id),
        "babies": _babies(user.id),
        "registrations": registrations,
        "attendance": _attendance(by_id),
        "absences": _absences(user.id),
        "makeup_credits": _makeup_credits(user.id),
        "makeups": _makeups(user.id),
        "payments": _payments(by_id),
        "practice_sheets": _practice_sheets(user.id),
        "evaluations": _evaluations(user.id),
        "emails": _emails(user.email),
        "api_tokens": _api_tokens(user.id),
        "invitations": _invitations(user.email),
    }


def held_data_summary(user_id: int) -> dict:
    """How much is held about a person, in numbers, for the privacy page."""

    def count(statement) -> int:
        return db.session.scalar(statement) or 0

    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("We could not find that account.")
    return {
        "babies": count(sa.select(sa.func.count(Baby.id)).where(Baby.parent_id == user_id)),
        "registrations": count(
            sa.select(sa.func.count(Registration.id)).where(Registration.parent_id == user_id)
        ),
        "active_registrations": count(
            sa.select(sa.func.count(Registration.id))
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(
                Registration.parent_id == user_id,
                Registration.status.in_(ACTIVE),
                sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > utcnow()),
            )
        ),
        "emails": count(
            sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.recipient == user.email)
        ),
        "payments": count(
            sa.select(sa.func.count(Payment.id))
            .join(Registration, Registration.id == Payment.registration_id)
            .where(Registration.parent_id == user_id)
        ),
        "paid_at_centre": count(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.parent_id == user_id, Registration.paid_at_centre_at.is_not(None)
            )
        ),
    }


def paid_at_centre_to_come(user_id: int) -> list[str]:
    """What the person paid at a centre for places in classes not finished ("£60.00 at
    Riverside Family Hub for Baby massage (Ada)"): deleting the account cancels those
    places, but only the centre can give that money back, so the page says so first."""
    rows = db.session.execute(
        sa.select(Registration, Workshop, Centre.name, Centre.country, Baby.name)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .where(
            Registration.parent_id == user_id,
            Registration.status.in_(ACTIVE),
            Registration.paid_at_centre_at.is_not(None),
            sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > utcnow()),
        )
        .order_by(Workshop.first_starts_at, Registration.id)
    ).all()
    lines = []
    for registration, workshop, centre_name, country, baby_name in rows:
        amount = ledger.paid_at_centre_of(registration, workshop)
        if amount:
            money = format_money(amount, CURRENCIES.get(country, "GBP"))
            who = f" ({baby_name})" if baby_name else ""
            lines.append(f"{money} at {centre_name} for {workshop.title}{who}")
    return lines
