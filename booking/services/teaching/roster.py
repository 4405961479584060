"""What an instructor needs to run a class: rosters, ages, registers and attendance.

Every function takes the instructor's id and answers NotFound for a workshop or
session that is not theirs, so nobody learns that someone else's class exists.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Attendance,
    Baby,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import ABSENT, CONFIRMED, PRESENT, WAITLISTED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.services.accounts.access import require_centre_staff
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.notices.emails import notify_instructor_message
from booking.timefmt import format_day, format_local, to_local

ATTENDANCE_CHOICES = (PRESENT, ABSENT)
RECENT_DAYS = 60
SUBJECT_MAX = 150
BODY_MAX = 5000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class WorkshopSummary:
    """A line of the instructor's list: a workshop with its numbers."""

    workshop: Workshop
    confirmed: int
    waiting: int
    next_session: WorkshopSession | None


@dataclass
class RosterEntry:
    """One registration on a roster, with the baby's age at each session."""

    registration: Registration
    ages: list[int | None] = field(default_factory=list)
    age_at_first: int | None = None
    position: int | None = None

    @property
    def baby(self) -> Baby | None:
        return self.registration.baby

    @property
    def parent(self) -> User | None:
        return self.registration.parent

    @property
    def baby_name(self) -> str:
        """The baby's name, or a note that the record was erased."""
        return self.baby.name if self.baby is not None else "(details removed)"

    @property
    def notes(self) -> list[tuple[str, str]]:
        """What the instructor (and staff of the class) may read about this place, as
        (label, text): the booking's notes, then the baby's health answers."""
        found = []
        if self.registration.notes:
            found.append(("", self.registration.notes))
        if self.baby is not None and self.baby.notes:
            found.append(("Baby", self.baby.notes))
        return found


@dataclass
class Roster:
    """A workshop with its sessions, confirmed places and waiting list."""

    workshop: Workshop
    sessions: list[WorkshopSession]
    confirmed: list[RosterEntry]
    waiting: list[RosterEntry]


@dataclass
class Register:
    """The attendance register of one session."""

    session: WorkshopSession
    workshop: Workshop
    entries: list[RosterEntry]
    marks: dict[int, str]

    @property
    def present_count(self) -> int:
        return sum(1 for status in self.marks.values() if status == PRESENT)


def session_day(session: WorkshopSession, tz_name: str) -> date:
    """The calendar day a session falls on, in the centre's zone."""
    return to_local(session.starts_at, tz_name).date()


def age_weeks(baby: Baby | None, day: date) -> int | None:
    """A baby's age in whole weeks on a day; None when the baby's record is gone."""
    if baby is None:
        return None
    return baby.age_weeks_on(day)


def _workshop_query():
    return sa.select(Workshop).options(
        joinedload(Workshop.centre),
        joinedload(Workshop.instructor),
        selectinload(Workshop.sessions),
    )


def _own_workshop(workshop_id: int, instructor_id: int) -> Workshop:
    workshop = db.session.scalar(_workshop_query().where(Workshop.id == workshop_id))
    if workshop is None or workshop.instructor_id != instructor_id:
        raise NotFound("We could not find that workshop among your classes.")
    return workshop


def _registrations(workshop_id: int, statuses: tuple[str, ...]) -> list[Registration]:
    order = (
        Registration.status,
        sa.func.coalesce(Registration.waitlisted_at, Registration.created_at),
        Registration.id,
    )
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop_id, Registration.status.in_(statuses))
            .options(joinedload(Registration.baby), joinedload(Registration.parent))
            .order_by(*order)
        )
    )


def _first_day(workshop: Workshop, sessions: list[WorkshopSession]) -> date | None:
    """The local day of the first session that will run (as booking measures ages)."""
    tz_name = workshop.centre.timezone
    if workshop.first_starts_at is not None:
        return to_local(workshop.first_starts_at, tz_name).date()
    return session_day(sessions[0], tz_name) if sessions else None


def _entries(registrations, sessions, workshop) -> list[RosterEntry]:
    tz_name = workshop.centre.timezone
    days = [session_day(s, tz_name) for s in sessions]
    first = _first_day(workshop, list(workshop.sessions))
    entries = [
        RosterEntry(
            r,
            [age_weeks(r.baby, d) for d in days],
            age_weeks(r.baby, first) if first is not None else None,
        )
        for r in registrations
    ]
    entries.sort(key=lambda e: (e.baby_name.casefold(), e.registration.id))
    return entries


def instructor_workshops(instructor_id: int, now: datetime | None = None) -> dict:
    """The instructor's workshops: 'upcoming' (not yet over) and 'recent' (ended lately).

    Each is a list of WorkshopSummary with places taken and the waiting-list length,
    loaded in three queries whatever the number of workshops.
    """
    now = now or utcnow()
    recent_from = now - timedelta(days=RECENT_DAYS)
    workshops = list(
        db.session.scalars(
            _workshop_query()
            .where(
                Workshop.instructor_id == instructor_id,
                sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at >= recent_from),
            )
            .order_by(Workshop.first_starts_at, Workshop.id)
        ).unique()
    )
    waiting = dict(
        db.session.execute(
            sa.select(Registration.workshop_id, sa.func.count())
            .where(
                Registration.workshop_id.in_([w.id for w in workshops]),
                Registration.status == WAITLISTED,
            )
            .group_by(Registration.workshop_id)
        ).all()
    ) if workshops else {}
    upcoming, recent = [], []
    for workshop in workshops:
        next_session = next(
            (s for s in workshop.sessions if s.ends_at >= now and not s.is_cancelled), None
        )
        summary = WorkshopSummary(
            workshop, workshop.confirmed_count, waiting.get(workshop.id, 0), next_session
        )
        if workshop.last_ends_at is None or workshop.last_ends_at >= now:
            upcoming.append(summary)
        else:
            recent.append(summary)
    recent.reverse()
    return {"upcoming": upcoming, "recent": recent}


def _build_roster(workshop: Workshop) -> Roster:
    sessions = list(workshop.sessions)
    registrations = _registrations(workshop.id, (CONFIRMED, WAITLISTED))
    confirmed = _entries([r for r in registrations if r.status == CONFIRMED], sessions, workshop)
    waiting = _entries([r for r in registrations if r.status == WAITLISTED], [], workshop)
    waiting.sort(key=lambda e: _waiting_key(e.registration))
    for position, entry in enumerate(waiting, start=1):
        entry.position = position
    return Roster(workshop, sessions, confirmed, waiting)


def _waiting_key(registration: Registration):
    return (registration.waitlisted_at or registration.created_at, registration.id)


def workshop_roster(workshop_id: int, instructor_id: int) -> Roster:
    """The roster of one of the instructor's workshops: confirmed babies with their
    age at every session, their parents' contacts and notes, and the waiting list."""
    return _build_roster(_own_workshop(workshop_id, instructor_id))


def staff_roster(workshop_id: int, user: User) -> Roster:
    """The same roster for staff of the workshop's centre (or an admin).

    Raises NotFound for an unknown workshop and Forbidden for anyone else.
    """
    workshop = db.session.scalar(_workshop_query().where(Workshop.id == workshop_id))
    if workshop is None:
        raise NotFound("There is no such workshop.")
    require_centre_staff(
        user, workshop.centre_id, "Only staff of this workshop's centre may see its registrations."
    )
    return _build_roster(workshop)


def csv_cell(value) -> str:
    """A value as a CSV cell that spreadsheets will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def roster_csv(roster: Roster) -> str:
    """The roster as CSV: a header row, then one row per confirmed registration."""
    tz_name = roster.workshop.centre.timezone
    header = ["Baby name", "Date of birth", "Age in weeks at first session"]
    for s in roster.sessions:
        label = f"Age in weeks at session {s.number} ({format_day(session_day(s, tz_name))})"
        if s.is_cancelled:
            label += " - cancelled"
        header.append(label)
    header += ["Parent name", "Email", "Phone", "Consent given", "Notes", "Baby notes"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for entry in roster.confirmed:
        baby, parent, reg = entry.baby, entry.parent, entry.registration
        row = [
            entry.baby_name,
            baby.date_of_birth.isoformat() if baby is not None else "",
            entry.age_at_first,
            *entry.ages,
            parent.name if parent is not None else "",
            parent.email if parent is not None else "",
            parent.phone if parent is not None else "",
            format_local(reg.consent_at, tz_name) if reg.consent_at else "",
            reg.notes,
            baby.notes if baby is not None else "",
        ]
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


def _own_session(session_id: int, instructor_id: int) -> tuple[WorkshopSession, Workshop]:
    session = db.session.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("We could not find that session among your classes.")
    workshop = _own_workshop(session.workshop_id, instructor_id)
    session = next(s for s in workshop.sessions if s.id == session_id)
    return session, workshop


def session_register(session_id: int, instructor_id: int) -> Register:
    """The attendance register of one of the instructor's sessions."""
    session, workshop = _own_session(session_id, instructor_id)
    registrations = _registrations(workshop.id, (CONFIRMED,))
    entries = _entries(registrations, [session], workshop)
    marks = dict(
        db.session.execute(
            sa.select(Attendance.registration_id, Attendance.status).where(
                Attendance.session_id == session.id
            )
        ).all()
    )
    return Register(session, workshop, entries, marks)


def _parse_marks(marks: dict, allowed_ids: set[int]) -> dict[int, str]:
    parsed, errors = {}, {}
    for key, status in marks.items():
        try:
            registration_id = int(key)
        except (TypeError, ValueError):
            errors[str(key)] = "Not a registration."
            continue
        if registration_id not in allowed_ids:
            errors[str(key)] = "Not a confirmed place on this session."
        elif status in ("", None):
            continue
        elif status not in ATTENDANCE_CHOICES:
            errors[str(key)] = "Choose present or absent."
        else:
            parsed[registration_id] = status
    if errors:
        raise Invalid("Some marks could not be saved; nothing was changed.", errors)
    return parsed


def mark_attendance(session_id: int, instructor_id: int, marks: dict) -> int:
    """Record present or absent for confirmed registrations of a session.

    `marks` maps registration ids to 'present' or 'absent' (an empty value leaves
    that baby unmarked). All marks are saved in one transaction or none are.
    Returns the number of marks saved.
    """
    with write_transaction():
        session, workshop = _own_session(session_id, instructor_id)
        if session.is_cancelled or workshop.status == WORKSHOP_CANCELLED:
            raise Conflict("This session was cancelled, so there is no attendance to mark.")
        allowed = set(
            db.session.scalars(
                sa.select(Registration.id).where(
                    Registration.workshop_id == workshop.id, Registration.status == CONFIRMED
                )
            )
        )
        parsed = _parse_marks(marks, allowed)
        if not parsed:
            return 0
        now = utcnow()
        rows = [
            {"registration_id": rid, "session_id": session.id, "status": status, "marked_at": now}
            for rid, status in parsed.items()
        ]
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Attendance).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Attendance.registration_id, Attendance.session_id],
            set_={"status": stmt.excluded.status, "marked_at": stmt.excluded.marked_at},
        )
        db.session.execute(stmt)
    return len(parsed)


def _clean_message(subject: str | None, body: str | None) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    errors = {}
    if not subject:
        errors["subject"] = "Enter a subject."
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = f"Use at most {SUBJECT_MAX} characters."
    if not body:
        errors["body"] = "Enter a message."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Use at most {BODY_MAX} characters."
    if errors:
        raise Invalid("The message needs a subject and a text.", errors)
    return subject, body


def message_workshop(
    workshop_id: int,
    instructor_id: int,
    subject: str,
    body: str,
    include_waiting: bool = False,
) -> int:
    """Email everyone booked on one of the instructor's workshops (and, if asked, those
    waiting) through the outbox: one email per parent, however many babies they
    booked. Returns the number of emails queued."""
    subject, body = _clean_message(subject, body)
    statuses = (CONFIRMED, WAITLISTED) if include_waiting else (CONFIRMED,)
    with write_transaction():
        workshop = _own_workshop(workshop_id, instructor_id)
        if workshop.status == WORKSHOP_CANCELLED:
            raise Conflict("This workshop was cancelled; its parents have already been told.")
        registrations = _registrations(workshop.id, statuses)
        queued = notify_instructor_message(workshop, subject, body, registrations)
    return len(queued)
