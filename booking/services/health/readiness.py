""""Ready for <day>?" before each session, and who practises on a doll that day.

The reminder before each session carries a link (a signed token naming the booking
and the session, so no login is needed from the email). One tap answers:
- well: the baby comes and is massaged; a lasting not-today health answer (a healing
  fracture) still shows on the register, marked "parent says well today: please
  check", for the instructor to ask about;
- unwell: the session becomes an absence with a make-up credit, as "we can't come"
  does (a single class cannot be made up: the answer is recorded for the instructor);
- immunised: the baby comes to watch, and the parent practises on a doll.
The answer can be changed until the session starts.

A make-up visit (a baby making up a missed week in another course's session) is asked
the same from its own link (`makeup_readiness_token`, naming the make-up and the
session it visits). Its answer is kept, as the visitor's attendance is, against the
place the week was missed from, for the visited session; "can't come" cancels the
make-up instead (`booking.services.health.makeup_readiness`).

What reaches an email or the parent's "Ready" page is only whether the baby watches
while the parent practises on a doll (and, for immunisations, why): never a health
answer, its flag or its details (`doll_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from babel.dates import format_date

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.context import DOLL, IMMUNISATIONS, ReadyLink
from booking.mail.outbox import absolute_url
from booking.models import (
    Absence,
    Baby,
    Centre,
    MakeupBooking,
    MakeupCredit,
    Registration,
    SessionReadiness,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.health import NOT_TODAY, READINESS, READY_IMMUNISED, READY_UNWELL, READY_WELL
from booking.models.registration import CONFIRMED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.booking.places import cancellation_cutoff, lock_workshop, utc_now
from booking.services.courses.absences import report_absence, take_back_absence
from booking.services.courses.queries import is_doll_session
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.health.answers import record_at
from booking.services.health.flags import AnswersAt
from booking.services.signed_links import (
    read_ids,
    read_stamped_ids,
    sign_ids,
    sign_stamped_ids,
)
from booking.timefmt import LOCALE, to_local

SALT = "session-readiness"
MAKEUP_SALT = "makeup-readiness"
LINK_GONE = "This link is not valid. Open the class from your bookings page instead."
MAKEUP_GONE = (
    "This make-up session is no longer booked (it was cancelled), so there is nothing to "
    "answer. Your make-up credits are on your bookings page."
)
CLOSED = "This session is no longer on, so there is nothing to answer."
STARTED = "This session has started, so there is nothing to answer."
SESSION_CANCELLED = "This session was cancelled, so there is nothing to answer."
CLASS_CANCELLED = "This class was cancelled, so there is nothing to answer."


def readiness_token(registration_id: int, session_id: int) -> str:
    """The token in a reminder's "Ready for <day>?" link for one booking and session."""
    return sign_ids(SALT, registration_id, session_id)


def read_token(token: str) -> tuple[int, int]:
    """The booking and session a token names; NotFound for anything else."""
    registration_id, session_id = read_ids(SALT, token, 2, LINK_GONE)
    return registration_id, session_id


def made_stamp(makeup: MakeupBooking) -> str:
    """When a make-up was booked, as its link names it (see `makeup_readiness_token`)."""
    return makeup.created_at.strftime("%Y%m%dT%H%M%S%f") if makeup.created_at else ""


def makeup_readiness_token(makeup: MakeupBooking) -> str:
    """The token in a make-up reminder's "Ready for <day>?" link: the make-up, the
    session it visits and when it was booked (SQLite can give a cancelled make-up's id
    to another family's next one: that one is not this link's). Its own salt: never a
    booking's token, nor the other way."""
    return sign_stamped_ids(MAKEUP_SALT, made_stamp(makeup), makeup.id, makeup.session_id)


def read_makeup_token(token: str) -> tuple[int, int, str]:
    """The make-up, session and booking time a make-up token names; NotFound for
    anything else."""
    (makeup_id, session_id), stamp = read_stamped_ids(MAKEUP_SALT, token, 2, LINK_GONE)
    return makeup_id, session_id, stamp


def ready_day(starts_at: datetime, tz_name: str) -> str:
    """The weekday a session falls on in the centre's zone: 'Thursday'."""
    return format_date(to_local(starts_at, tz_name).date(), "EEEE", locale=LOCALE)


def ready_url(registration_id: int, session_id: int) -> str:
    """The absolute "Ready for <day>?" link of one booking's session, for an email."""
    return absolute_url(f"/ready/{readiness_token(registration_id, session_id)}")


def makeup_ready_url(makeup: MakeupBooking) -> str:
    """The absolute "Ready for <day>?" link of a make-up visit, for its reminder."""
    return absolute_url(f"/ready/makeups/{makeup_readiness_token(makeup)}")


def makeup_place(makeup_id: int) -> Registration | None:
    """The place (on the course the week was missed from) whose absence earned the
    make-up's credit: what the visit's answer, like its attendance, is kept against."""
    return db.session.scalar(
        sa.select(Registration)
        .join(Absence, Absence.registration_id == Registration.id)
        .join(MakeupCredit, MakeupCredit.absence_id == Absence.id)
        .join(MakeupBooking, MakeupBooking.credit_id == MakeupCredit.id)
        .where(MakeupBooking.id == makeup_id)
    )


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
    centre: Centre | None = None
    total: int = 1
    doll: str = ""
    not_today: bool = False
    started: bool = False
    # A make-up visit: the make-up booking and its credit (`registration` is then the
    # place the week was missed from, on another course); `cancelled` once "can't
    # come" has cancelled it.
    makeup: MakeupBooking | None = None
    credit: MakeupCredit | None = None
    cancelled: bool = False

    @property
    def timezone(self) -> str:
        """The centre's zone, in which the page shows the session."""
        return self.centre.timezone if self.centre is not None else "UTC"

    @property
    def day(self) -> str:
        """'Thursday', in the centre's zone."""
        return ready_day(self.session.starts_at, self.timezone)

    @property
    def baby_name(self) -> str:
        """The baby's name, or a neutral phrase when the baby has been removed."""
        return self.baby.name if self.baby is not None else "Your baby"

    @property
    def cancel_cutoff_passed(self) -> bool:
        """Too late for the parent to cancel the booking themselves."""
        cutoff = cancellation_cutoff(self.workshop)
        return cutoff is not None and utc_now() >= cutoff

    @property
    def week_label(self) -> str:
        """'Week 2 of 5' for a course, '' for a single class."""
        if self.workshop.is_course and self.total > 1:
            return f"Week {self.session.number} of {self.total}"
        return ""

    @property
    def answer(self) -> str | None:
        """The answer as it stands: an absence from a course session (however it was
        reported) reads as unwell; an unwell answer whose absence has since been taken
        back reads as no answer."""
        if self.workshop.is_course:
            if self.absent:
                return READY_UNWELL
            if self.status == READY_UNWELL:
                return None
        return self.status

    @property
    def closed_reason(self) -> str:
        """Why nothing can be answered any more ('' while it can)."""
        if self.open:
            return ""
        if self.cancelled:
            return "This make-up session is cancelled, so there is nothing more to answer."
        if self.workshop.status == WORKSHOP_CANCELLED:
            return CLASS_CANCELLED
        if self.session.status != SCHEDULED:
            return SESSION_CANCELLED
        if self.makeup is None and self.registration.status != CONFIRMED:
            return "This booking is no longer confirmed, so there is nothing to answer."
        if self.started:
            return STARTED
        return CLOSED

    @property
    def ask_health_update(self) -> bool:
        """The parent says the baby is well while the health answers still hold a
        not-today "yes": they are asked to update those answers if it has changed."""
        return self.answer == READY_WELL and self.not_today


def _not_today(record: AnswersAt | None) -> bool:
    """Whether a baby's health answers hold a "yes" that means no massage while it lasts."""
    return record is not None and any(
        a.get("yes") and a.get("kind") == NOT_TODAY for a in record.answers or []
    )


def ready_question(registration_id: int, session_id: int, parent_id: int | None = None,
                   now: datetime | None = None) -> ReadyQuestion:
    """The booking's session and the answer given so far; NotFound when the booking or
    session does not match (or is not the parent's, when `parent_id` is given)."""
    now = now or utcnow()
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    session = db.session.get(WorkshopSession, session_id, populate_existing=True)
    if (
        registration is None
        or session is None
        or session.workshop_id != registration.workshop_id
        or (parent_id is not None and registration.parent_id != parent_id)
    ):
        raise NotFound(LINK_GONE)
    workshop = db.session.get(Workshop, registration.workshop_id)
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
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
    return question_for(registration, session, workshop, baby, now,
                        is_open=is_open, absent=absent)


def question_for(place: Registration, session: WorkshopSession, workshop: Workshop,
                 baby: Baby | None, now: datetime, *, is_open: bool, absent: bool,
                 **more) -> ReadyQuestion:
    """The page's question for `place`'s answer about `session` (of `workshop`; a
    make-up visit's is another course's), with the answer given so far, the number of
    the class's sessions and what the parent may be told of a doll; `more`: the
    question's make-up fields."""
    centre = db.session.get(Centre, workshop.centre_id)
    status = db.session.scalar(
        sa.select(SessionReadiness.status).where(
            SessionReadiness.registration_id == place.id,
            SessionReadiness.session_id == session.id,
        )
    )
    total = db.session.scalar(
        sa.select(sa.func.count(WorkshopSession.id)).where(
            WorkshopSession.workshop_id == workshop.id
        )
    )
    record = record_at(baby.id if baby is not None else None, workshop.centre_id)
    return ReadyQuestion(
        place, session, workshop, baby, status, is_open, absent,
        centre=centre,
        total=total or 1,
        doll=doll_kind(baby, record, status, session, centre.timezone),
        not_today=_not_today(record),
        started=session.starts_at <= now,
        **more,
    )


@dataclass
class ReadyResult:
    """What one answer did: the status kept, and the credit an absence earned."""

    status: str
    credit: MakeupCredit | None = None
    note: str = ""
    ask_health_update: bool = False
    # The question as it stood once answered, when it can no longer be read (a make-up
    # cancelled by "we can't come").
    question: ReadyQuestion | None = None


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
            raise Invalid(question.closed_reason)
        registration = question.registration
        owner = registration.parent_id
        result = ReadyResult(status, ask_health_update=status == READY_WELL
                             and question.not_today)
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
        record_answer(registration.id, session_id, status)
    return result


def record_answer(registration_id: int, session_id: int, status: str) -> None:
    """Inside the caller's write transaction (the workshop locked): keep a place's
    answer for one session, replacing the one given before."""
    row = db.session.scalar(
        sa.select(SessionReadiness).where(
            SessionReadiness.registration_id == registration_id,
            SessionReadiness.session_id == session_id,
        )
    )
    if row is None:
        db.session.add(
            SessionReadiness(
                registration_id=registration_id, session_id=session_id, status=status
            )
        )
    else:
        row.status, row.answered_at = status, utcnow()
    db.session.flush()


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
    record: AnswersAt | None,
    readiness: str | None,
    session: WorkshopSession,
    tz_name: str,
) -> list[str]:
    """Why the baby watches and the parent practises on a doll in this session: the
    immunisation date, the parent's answer for the day, or a not-today health answer
    (marked for the instructor to check when the parent has said the baby is well
    that day). Empty: massage as usual."""
    reasons = []
    if is_doll_session(baby, session, tz_name) or readiness == READY_IMMUNISED:
        reasons.append("Immunisations")
    if record is not None:
        not_today = [
            a.get("flag") or a.get("text", "")
            for a in record.answers or []
            if a.get("yes") and a.get("kind") == NOT_TODAY
        ]
        if readiness == READY_WELL:
            # The parent's "well" for the day does not undo a lasting answer (a
            # healing fracture): the instructor sees both and checks with them.
            not_today = [f"{reason} (parent says well today: please check)" for reason in not_today]
        reasons += not_today
    return reasons


def doll_kind(
    baby: Baby | None,
    record: AnswersAt | None,
    readiness: str | None,
    session: WorkshopSession,
    tz_name: str,
) -> str:
    """What a parent may be told about practising on a doll in this session, without
    any health answer: IMMUNISATIONS (the immunisation date or their own answer for the
    day), DOLL (a not-today health answer, whose reason is never repeated outside the
    class), or '' (massage as usual)."""
    if is_doll_session(baby, session, tz_name) or readiness == READY_IMMUNISED:
        return IMMUNISATIONS
    if readiness == READY_WELL or not doll_reasons(baby, record, readiness, session, tz_name):
        # The parent has said the baby is well that day: the instructor checks.
        return ""
    return DOLL


def ready_link(registration_id: int, session_id: int) -> ReadyLink:
    """The "Ready for <day>?" link of one booking's session for its reminder, and
    whether the baby watches and the parent practises on a doll that session."""
    registration = db.session.get(Registration, registration_id)
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    return _link(registration, db.session.get(WorkshopSession, session_id), baby,
                 ready_url(registration.id, session_id))


def makeup_ready_link(makeup: MakeupBooking) -> ReadyLink:
    """The "Ready for <day>?" link of a make-up visit for its reminder, and whether the
    baby watches while the parent practises on a doll in the session visited."""
    baby = db.session.get(Baby, makeup.baby_id) if makeup.baby_id else None
    return _link(makeup_place(makeup.id), db.session.get(WorkshopSession, makeup.session_id),
                 baby, makeup_ready_url(makeup))


def _link(place: Registration | None, session: WorkshopSession, baby: Baby | None,
          url: str) -> ReadyLink:
    """A reminder's link to `url` about `session`, with `place`'s answer for it (none
    for a make-up whose place is gone) deciding what it says of a doll."""
    workshop = db.session.get(Workshop, session.workshop_id)
    tz_name = db.session.get(Centre, workshop.centre_id).timezone
    readiness = (
        readiness_of([place.id], [session.id]).get((place.id, session.id)) if place else None
    )
    record = record_at(baby.id if baby is not None else None, workshop.centre_id)
    return ReadyLink(
        day=ready_day(session.starts_at, tz_name),
        url=url,
        session_id=session.id,
        doll=doll_kind(baby, record, readiness, session, tz_name),
    )
