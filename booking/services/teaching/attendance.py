"""A session's register: who is booked, their ages that day, and attendance marks.

A baby making up a missed week here (a make-up visitor) is marked on the same register:
the mark is recorded against their place on the course the week was missed from, for
this session, so it follows the baby wherever the week was made up.

Only the workshop's instructor may see or mark it (NotFound for anyone else). With
the babies' health flags (doll today, needs clearance, allergies) for a viewer who
may see them, make-up attendees included.

Attendance is marked only once a session has started or starts within the hour
(`attendance_open`); the register page and the "Today" check-in obey the same rule.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Attendance,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import ABSENT, CANCELLED, CONFIRMED, PRESENT
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.services.courses.makeups import visitor_places
from booking.services.courses.queries import RegisterExtras, register_extras, told_away_ids
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.health.access import may_see_health
from booking.services.teaching.roster import (
    HealthLine,
    RosterEntry,
    health_lines,
    own_workshop,
    roster_entries,
    workshop_registrations,
)
from booking.timefmt import format_local

ATTENDANCE_CHOICES = (PRESENT, ABSENT)
# Attendance can be marked from this long before a session starts.
OPENS_BEFORE = timedelta(hours=1)


def attendance_opens_at(session: WorkshopSession) -> datetime:
    """When attendance for a session can first be marked: an hour before it starts."""
    return session.starts_at - OPENS_BEFORE


def attendance_open(session: WorkshopSession, now: datetime | None = None) -> bool:
    """Whether attendance can be marked now: the session is not cancelled and has
    started or starts within the hour."""
    return not session.is_cancelled and (now or utcnow()) >= attendance_opens_at(session)


@dataclass
class Register:
    """The attendance register of one session."""

    session: WorkshopSession
    workshop: Workshop
    entries: list[RosterEntry]
    marks: dict[int, str]
    extras: RegisterExtras | None = None
    show_health: bool = False
    # Make-up attendees' health at a glance, by make-up booking id.
    makeup_health: dict[int, HealthLine] = field(default_factory=dict)
    # Whether attendance can be marked now (see `attendance_open`).
    open: bool = False
    # Bookings of the class cancelled since they were marked at this session (a family
    # who left part-way): listed with their mark, which can no longer be changed.
    former: list[RosterEntry] = field(default_factory=list)

    @property
    def opens_at(self) -> datetime:
        """When attendance for this session can first be marked."""
        return attendance_opens_at(self.session)

    @property
    def present_count(self) -> int:
        """Babies of this register marked present: booked, since cancelled, or making
        up a week here."""
        listed = {e.registration.id for e in self.entries + self.former}
        if self.extras is not None:
            listed |= {m.registration_id for m in self.extras.makeups if m.registration_id}
        return sum(1 for rid, status in self.marks.items() if status == PRESENT and rid in listed)


def _own_session(session_id: int, instructor_id: int) -> tuple[WorkshopSession, Workshop]:
    session = db.session.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("We could not find that session among your classes.")
    workshop = own_workshop(session.workshop_id, instructor_id)
    session = next(s for s in workshop.sessions if s.id == session_id)
    return session, workshop


def session_register(
    session_id: int, instructor_id: int, *, health_for: User | None = None
) -> Register:
    """The attendance register of one of the instructor's sessions, with absences, doll
    days and make-up attendees; with health flags when `health_for` may see them."""
    session, workshop = _own_session(session_id, instructor_id)
    tz_name = workshop.centre.timezone
    marks = dict(
        db.session.execute(
            sa.select(Attendance.registration_id, Attendance.status).where(
                Attendance.session_id == session.id
            )
        ).all()
    )
    registrations = [  # a family who joined the course after this week was not at it
        r for r in workshop_registrations(workshop.id, (CONFIRMED,))
        if r.was_booked_by(session.ends_at) or r.id in marks  # (a mark made stays shown)
    ]
    entries = roster_entries(registrations, [session], workshop)
    extras = register_extras(session, tz_name)
    booked = {e.registration.id for e in entries}
    gone = [
        r for r in workshop_registrations(workshop.id, (CANCELLED,))
        if r.id in marks and r.id not in booked
    ] if marks else []
    register = Register(session, workshop, entries, marks, extras)
    register.former = roster_entries(gone, [session], workshop) if gone else []
    register.open = attendance_open(session) and workshop.status != WORKSHOP_CANCELLED
    if health_for is not None and may_see_health(health_for, workshop):
        register.show_health = True
        makeups = [m for m in extras.makeups if m.registration is not None]
        places = [(e.registration, e.baby) for e in entries]
        places += [(m.registration, m.baby) for m in makeups]
        lines = health_lines(places, [session], tz_name, workshop.centre_id)
        for entry in entries:  # not a cancelled booking's: the baby is no longer theirs
            entry.health = lines[entry.registration.id]
        register.makeup_health = {m.makeup_id: lines[m.registration.id] for m in makeups}
    return register


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


def _markable_session(session_id: int, instructor_id: int) -> tuple[WorkshopSession, Workshop]:
    """The instructor's session, if attendance can be marked now; Conflict otherwise."""
    session, workshop = _own_session(session_id, instructor_id)
    if session.is_cancelled or workshop.status == WORKSHOP_CANCELLED:
        raise Conflict("This session was cancelled, so there is no attendance to mark.")
    if not attendance_open(session):
        opens = format_local(attendance_opens_at(session), workshop.centre.timezone)
        raise Conflict(
            "Attendance opens an hour before the session starts: you can mark it "
            f"from {opens}."
        )
    return session, workshop


def _confirmed_ids(session: WorkshopSession) -> set[int]:
    """The confirmed places of the session's workshop held by the time it ended (and
    any already marked there, so a mark can be put right)."""
    marked = sa.select(Attendance.id).where(
        Attendance.session_id == session.id, Attendance.registration_id == Registration.id
    ).exists()
    return set(
        db.session.scalars(
            sa.select(Registration.id).where(
                Registration.workshop_id == session.workshop_id,
                Registration.status == CONFIRMED,
                sa.or_(Registration.booked_by(session.ends_at), marked),
            )
        )
    )


def _save_marks(session_id: int, marks: dict[int, str]) -> None:
    """Insert or update attendance rows, one statement for all of them."""
    now = utcnow()
    rows = [
        {"registration_id": rid, "session_id": session_id, "status": status, "marked_at": now}
        for rid, status in marks.items()
    ]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Attendance).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Attendance.registration_id, Attendance.session_id],
        set_={"status": stmt.excluded.status, "marked_at": stmt.excluded.marked_at},
    )
    db.session.execute(stmt)


def mark_attendance(session_id: int, instructor_id: int, marks: dict) -> int:
    """Record present or absent for the confirmed registrations of a session, and for
    its make-up visitors (by the place on the course the week was missed from).

    `marks` maps registration ids to 'present' or 'absent' (an empty value leaves
    that baby unmarked). All marks are saved in one transaction or none are.
    Refused (Conflict) for a cancelled session and before attendance opens, an hour
    before the session starts. Returns the number of marks saved.
    """
    with write_transaction():
        session, workshop = _markable_session(session_id, instructor_id)
        parsed = _parse_marks(marks, _confirmed_ids(session) | visitor_places(session.id))
        if parsed:
            _save_marks(session.id, parsed)
    return len(parsed)


def mark_all_present(session_id: int, instructor_id: int) -> int:
    """Mark every confirmed baby of a session present who has no mark yet and whose
    parent did not tell us ahead that they would miss it (`told_away_ids`), and every
    make-up visitor
    with no mark yet (marks already made, present or absent, stay as they are). Same
    rules as mark_attendance. Returns how many were marked."""
    with write_transaction():
        session, workshop = _markable_session(session_id, instructor_id)
        told_absent = told_away_ids(session.id)
        marked = set(
            db.session.scalars(
                sa.select(Attendance.registration_id).where(Attendance.session_id == session.id)
            )
        )
        coming = (_confirmed_ids(session) - told_absent | visitor_places(session.id)) - marked
        if coming:
            _save_marks(session.id, dict.fromkeys(sorted(coming), PRESENT))
    return len(coming)
