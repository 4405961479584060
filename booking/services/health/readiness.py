""""Ready for <day>?" before each session, and who practises on a doll that day.

The reminder before each session carries a link (a signed token naming the booking
and the session, so no login is needed from the email). One tap answers:
- well: the baby comes and is massaged (it outweighs a not-today health answer for
  that session: the parent has just told us how the baby is);
- unwell: the session becomes an absence with a make-up credit, as "we can't come"
  does (a single class cannot be made up: the answer is recorded for the instructor);
- immunised: the baby comes to watch, and the parent practises on a doll.
The answer can be changed until the session starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    HealthRecord,
    MakeupCredit,
    Registration,
    SessionReadiness,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.health import NOT_TODAY, READINESS, READY_IMMUNISED, READY_UNWELL, READY_WELL
from booking.models.registration import CONFIRMED
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.booking.places import lock_workshop
from booking.services.courses.absences import report_absence, take_back_absence
from booking.services.courses.queries import is_doll_session
from booking.services.errors import Conflict, Invalid, NotFound

SALT = "session-readiness"
LINK_GONE = "This link is not valid. Open the class from your bookings page instead."


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def readiness_token(registration_id: int, session_id: int) -> str:
    """The token in a reminder's "Ready for <day>?" link for one booking and session."""
    return _serializer().dumps([registration_id, session_id])


def read_token(token: str) -> tuple[int, int]:
    """The booking and session a token names; NotFound for anything else."""
    try:
        value = _serializer().loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(LINK_GONE) from exc
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise NotFound(LINK_GONE)
    return value[0], value[1]


@dataclass
class ReadyQuestion:
    """What the "Ready for <day>?" page shows."""

    registration: Registration
    session: WorkshopSession
    workshop: Workshop
    baby: Baby | None
    status: str | None
    open: bool
    absent: bool


def ready_question(registration_id: int, session_id: int, parent_id: int | None = None,
                   now: datetime | None = None) -> ReadyQuestion:
    """The booking's session and the answer given so far; NotFound when the booking or
    session does not match (or is not the parent's, when `parent_id` is given)."""
    now = now or utcnow()
    registration = db.session.get(Registration, registration_id)
    session = db.session.get(WorkshopSession, session_id)
    if (
        registration is None
        or session is None
        or session.workshop_id != registration.workshop_id
        or (parent_id is not None and registration.parent_id != parent_id)
    ):
        raise NotFound(LINK_GONE)
    workshop = db.session.get(Workshop, registration.workshop_id)
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    status = db.session.scalar(
        sa.select(SessionReadiness.status).where(
            SessionReadiness.registration_id == registration.id,
            SessionReadiness.session_id == session.id,
        )
    )
    absent = db.session.scalar(
        sa.select(Absence.id).where(
            Absence.registration_id == registration.id, Absence.session_id == session.id
        )
    ) is not None
    is_open = (
        registration.status == CONFIRMED
        and session.status == SCHEDULED
        and workshop.status == PUBLISHED
        and session.starts_at > now
    )
    return ReadyQuestion(registration, session, workshop, baby, status, is_open, absent)


@dataclass
class ReadyResult:
    """What one answer did: the status kept, and the credit an absence earned."""

    status: str
    credit: MakeupCredit | None = None
    note: str = ""


def answer_readiness(registration_id: int, session_id: int, status: str,
                     parent_id: int | None = None) -> ReadyResult:
    """Record the parent's answer for one session of a confirmed booking.

    Unwell makes the session an absence with a make-up credit (for a course); moving
    from unwell to well or immunised takes that absence back while the seat is still
    free. Refused once the session has started.
    """
    if status not in READINESS:
        raise Invalid("Choose one of the answers.")
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            raise NotFound(LINK_GONE)
        lock_workshop(registration.workshop_id)
        question = ready_question(registration_id, session_id, parent_id)
        if not question.open:
            raise Invalid(
                "This session has started or is no longer on, so there is nothing to "
                "answer."
            )
        registration = question.registration
        owner = registration.parent_id
        result = ReadyResult(status)
        if status == READY_UNWELL and question.workshop.is_course and not question.absent:
            result.credit = report_absence(
                parent_id=owner, registration_id=registration.id, session_id=session_id
            )
        elif status == READY_UNWELL and not question.workshop.is_course:
            result.note = (
                "A single class cannot be made up. You can cancel it from your bookings "
                "page before the cut-off, or contact the centre."
            )
        elif status != READY_UNWELL and question.absent:
            try:
                take_back_absence(
                    parent_id=owner, registration_id=registration.id, session_id=session_id
                )
            except Conflict as exc:
                raise Conflict(exc.message) from exc
        row = db.session.scalar(
            sa.select(SessionReadiness).where(
                SessionReadiness.registration_id == registration.id,
                SessionReadiness.session_id == session_id,
            )
        )
        if row is None:
            db.session.add(
                SessionReadiness(
                    registration_id=registration.id, session_id=session_id, status=status
                )
            )
        else:
            row.status, row.answered_at = status, utcnow()
        db.session.flush()
    return result


def readiness_of(registration_ids, session_ids) -> dict[tuple[int, int], str]:
    """Answers given for these bookings and sessions, by (registration id, session id)."""
    registration_ids, session_ids = list(registration_ids), list(session_ids)
    if not registration_ids or not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            SessionReadiness.registration_id, SessionReadiness.session_id,
            SessionReadiness.status,
        ).where(
            SessionReadiness.registration_id.in_(registration_ids),
            SessionReadiness.session_id.in_(session_ids),
        )
    )
    return {(r, s): status for r, s, status in rows}


def doll_reasons(
    baby: Baby | None,
    record: HealthRecord | None,
    readiness: str | None,
    session: WorkshopSession,
    tz_name: str,
) -> list[str]:
    """Why the baby watches and the parent practises on a doll in this session: the
    immunisation date, the parent's answer for the day, or a not-today health answer
    (unless the parent has since said the baby is well that day). Empty: massage as
    usual."""
    reasons = []
    if is_doll_session(baby, session, tz_name) or readiness == READY_IMMUNISED:
        reasons.append("Immunisations")
    if readiness != READY_WELL and record is not None:
        reasons += [
            a.get("flag") or a.get("text", "")
            for a in record.answers or []
            if a.get("yes") and a.get("kind") == NOT_TODAY
        ]
    return reasons
