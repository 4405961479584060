"""Read-only views of absences, make-up credits, make-ups and immunisation days.

Used by the parent's bookings page, the instructor's register and roster, and
the private calendar feed. Nothing here writes.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from booking.calendar.data import SessionData
from booking.extensions import db
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
)
from booking.models.health import READY_UNWELL
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import KIND_COURSE, PUBLISHED, SCHEDULED
from booking.services.booking.places import age_text, eligibility, utc_now
from booking.services.notices.queries import sessions_data
from booking.timefmt import format_local, to_local

# 48 hours after a jab at any time of its day: until the end of the second day after.
NO_MASSAGE_DAYS_AFTER = 2
DOLL_NOTE = "Immunisations this week: come and practise on a doll this week."


def is_doll_session(baby: Baby | None, session: WorkshopSession, tz_name: str) -> bool:
    """Whether a session may start within 48 hours after the baby's immunisations.

    The immunisation date has no time, and a jab late that day leaves no massage until
    late two days later: so a session on that day, the next day or the day after (in
    the centre's zone) is a "watch and practise on a doll" session.
    """
    if baby is None or baby.immunisation_date is None:
        return False
    local_day = to_local(session.starts_at, tz_name).date()
    return 0 <= (local_day - baby.immunisation_date).days <= NO_MASSAGE_DAYS_AFTER


def session_seats(session: WorkshopSession, workshop: Workshop) -> int:
    """Free seats of a session for a make-up, from loaded rows."""
    return max(0, workshop.places_left + session.absences - session.makeups_taken)


@dataclass
class SessionLine:
    """One session of a parent's confirmed course, as the bookings page lists it."""

    session: SessionData
    absent: bool
    doll: bool
    can_report: bool
    can_take_back: bool = False


@dataclass
class CreditOption:
    """A session where a make-up credit could be used, with its free seats."""

    session: WorkshopSession
    workshop: Workshop
    seats: int


@dataclass
class CreditLine:
    """An unused, unexpired make-up credit and where it could be used."""

    credit: MakeupCredit
    baby_name: str
    timezone: str
    options: list[CreditOption] = field(default_factory=list)
    # The course its week was missed from, and the centre where it can be used: a
    # family with credits from two courses tells them apart.
    missed_from: str = ""
    centre_name: str = ""


@dataclass
class MakeupLine:
    """A make-up session the parent has booked."""

    makeup: MakeupBooking
    session: WorkshopSession
    workshop: Workshop
    baby_name: str
    doll: bool
    can_cancel: bool = False


@dataclass
class ParentMakeups:
    """Everything about absences and make-ups on a parent's bookings page."""

    sessions: dict[int, list[SessionLine]] = field(default_factory=dict)
    credits: list[CreditLine] = field(default_factory=list)
    makeups: list[MakeupLine] = field(default_factory=list)


def _credit_options(
    credits: Sequence[tuple[MakeupCredit, int]], booked: set, now: datetime,
    visiting: set = frozenset(),
) -> dict[int, list[CreditOption]]:
    """Where each credit could be used, by credit id, from one query: the same week of
    another published course at the credit's centre, scheduled before the credit expires,
    with a free seat, that the baby fits. `credits` pairs each credit with the workshop its
    week was missed from; `booked` holds the parent's (baby id, workshop id) pairs with an
    active place, since a baby cannot make up in its own other course; `visiting` the
    (baby id, session id) pairs of their make-ups to come, since a baby takes one seat
    in a session."""
    if not credits:
        return {}
    rows = db.session.execute(
        sa.select(WorkshopSession, Workshop)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(
            Workshop.centre_id.in_({credit.centre_id for credit, _ in credits}),
            Workshop.kind == KIND_COURSE,
            Workshop.status == PUBLISHED,
            WorkshopSession.number.in_({credit.week_number for credit, _ in credits}),
            WorkshopSession.status == SCHEDULED,
            WorkshopSession.starts_at > now,
            WorkshopSession.starts_at <= max(credit.expires_at for credit, _ in credits),
        )
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    ).all()
    found: dict[int, list[CreditOption]] = {}
    for credit, origin_workshop_id in credits:
        baby = credit.baby
        options = found[credit.id] = []
        for session, workshop in rows:
            if (
                workshop.centre_id != credit.centre_id
                or workshop.id == origin_workshop_id
                or session.number != credit.week_number
                or session.starts_at > credit.expires_at
            ):
                continue
            seats = session_seats(session, workshop)
            taken = baby is not None and (
                (baby.id, workshop.id) in booked or (baby.id, session.id) in visiting
            )
            if seats <= 0 or taken or not eligibility(baby, workshop).eligible:
                continue
            options.append(CreditOption(session, workshop, seats))
    return found


def _running(registration: Registration, now: datetime) -> bool:
    workshop = registration.workshop
    return (
        registration.status == CONFIRMED
        and workshop.status == PUBLISHED
        and workshop.last_ends_at is not None
        and workshop.last_ends_at > now
    )


@dataclass(frozen=True)
class _ParentStatements:
    absences: sa.CompoundSelect
    credits: sa.Select
    makeups: sa.Select


@cache
def _parent_statements() -> _ParentStatements:
    """What `parent_makeups` reads on every bookings page, built once, with the parent
    and the time as parameters: the parent's absences, their credits still to use, and
    their make-ups still to come."""
    parent_id, now = sa.bindparam("parent_id"), sa.bindparam("now")
    has_any = sa.or_(
        sa.select(MakeupCredit.id).where(MakeupCredit.parent_id == parent_id).exists(),
        sa.select(MakeupBooking.id).where(MakeupBooking.parent_id == parent_id).exists(),
    )
    return _ParentStatements(
        # The absences, and one row of nulls if the parent has any credit or make-up at
        # all: most have none, and then the two reads below are not needed.
        absences=sa.union_all(
            sa.select(Absence.registration_id, Absence.session_id).where(
                Absence.parent_id == parent_id
            ),
            sa.select(sa.null(), sa.null()).where(has_any),
        ),
        # Each credit with the workshop its week was missed from and its centre's zone
        # (and their names, to tell credits apart).
        credits=sa.select(MakeupCredit, WorkshopSession.workshop_id, Centre.timezone,
                          Workshop.title, Centre.name)
        .join(Absence, Absence.id == MakeupCredit.absence_id)
        .join(WorkshopSession, WorkshopSession.id == Absence.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == MakeupCredit.centre_id)
        .where(
            MakeupCredit.parent_id == parent_id,
            MakeupCredit.used_at.is_(None),
            MakeupCredit.expires_at > now,
        )
        .options(joinedload(MakeupCredit.baby))
        .order_by(MakeupCredit.expires_at, MakeupCredit.id),
        makeups=sa.select(MakeupBooking, WorkshopSession, Workshop)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(MakeupBooking.parent_id == parent_id, WorkshopSession.ends_at > now)
        .options(joinedload(MakeupBooking.baby), joinedload(Workshop.centre))
        .order_by(WorkshopSession.starts_at),
    )


def parent_makeups(
    parent_id: int,
    now: datetime | None = None,
    registrations: Iterable[Registration] | None = None,
    sessions: Mapping[int, Sequence[SessionData]] | None = None,
) -> ParentMakeups:
    """A parent's course sessions (with absences and doll days), credits and make-ups.

    `registrations`: the parent's registrations already loaded with their workshop (its
    centre) and baby (the bookings page has them), among which the confirmed ones of
    classes still running are taken; read here when not given. `sessions`: their
    workshops' sessions by workshop id, if loaded already.
    """
    now = now or utc_now()
    result = ParentMakeups()
    if registrations is None:
        registrations = db.session.scalars(
            sa.select(Registration)
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(
                Registration.parent_id == parent_id,
                Registration.status == CONFIRMED,
                Workshop.status == PUBLISHED,
                Workshop.last_ends_at > now,
            )
            .options(
                selectinload(Registration.workshop).selectinload(Workshop.centre),
                selectinload(Registration.baby),
            )
        )
        registrations = [r for r in registrations if _running(r, now)]
    else:
        registrations = [
            r for r in registrations if r.parent_id == parent_id and _running(r, now)
        ]
    if sessions is None or any(r.workshop_id not in sessions for r in registrations):
        sessions = sessions_data(r.workshop_id for r in registrations)
    statements = _parent_statements()
    given = {"parent_id": parent_id, "now": now}
    absent = {tuple(row) for row in db.session.execute(statements.absences, given)}
    has_credits_or_makeups = (None, None) in absent
    absent.discard((None, None))
    for registration in registrations:
        workshop = registration.workshop
        tz_name = workshop.centre.timezone
        result.sessions[registration.id] = [
            SessionLine(
                session=s,
                absent=(registration.id, s.id) in absent,
                doll=is_doll_session(registration.baby, s, tz_name),
                can_report=workshop.is_course
                and s.status == SCHEDULED
                and s.starts_at > now
                and (registration.id, s.id) not in absent,
                can_take_back=s.status == SCHEDULED
                and s.starts_at > now
                and (registration.id, s.id) in absent,
            )
            for s in sessions[workshop.id]
            if s.ends_at > now
        ]
    credits = db.session.execute(statements.credits, given).all() if has_credits_or_makeups else []
    booked = set()
    if credits:
        booked = {
            (baby_id, workshop_id)
            for baby_id, workshop_id in db.session.execute(
                sa.select(Registration.baby_id, Registration.workshop_id).where(
                    Registration.parent_id == parent_id,
                    Registration.status.in_((CONFIRMED, WAITLISTED)),
                )
            )
        }
    rows = db.session.execute(statements.makeups, given).all() if has_credits_or_makeups else []
    visiting = {(makeup.baby_id, session.id) for makeup, session, _ in rows}
    options = _credit_options(
        [(credit, origin) for credit, origin, *_ in credits], booked, now, visiting
    )
    for credit, _, tz_name, title, centre_name in credits:
        name = credit.baby.name if credit.baby else "Baby removed"
        line = CreditLine(credit, name, tz_name, missed_from=title, centre_name=centre_name)
        line.options = options[credit.id]
        result.credits.append(line)
    for makeup, session, workshop in rows:
        result.makeups.append(
            MakeupLine(
                makeup,
                session,
                workshop,
                makeup.baby.name if makeup.baby else "Baby removed",
                is_doll_session(makeup.baby, session, workshop.centre.timezone),
                can_cancel=session.starts_at > now,
            )
        )
    return result


@dataclass
class MakeupAttendee:
    """A baby making up a missed week in this session, as a register lists them: with
    the age that day as read ("12 weeks, 8 weeks corrected"), and the booking of the
    course the week was missed from (whose health clearance applies)."""

    baby_name: str
    age_weeks: int | None
    parent_name: str
    doll: bool
    parent_phone: str = ""
    baby_notes: str = ""
    makeup_id: int | None = None
    age_text: str = ""
    baby: Baby | None = None
    registration: Registration | None = None

    @property
    def registration_id(self) -> int | None:
        """The booking the visitor's attendance is recorded against: the place on the
        course the week was missed from, whatever became of it since (None once its
        details were removed)."""
        return self.registration.id if self.registration is not None else None


@dataclass
class RegisterExtras:
    """What a session's register shows beyond the course's own bookings."""

    absent_ids: set[int]
    doll_ids: set[int]
    makeups: list[MakeupAttendee]


def told_away_ids(session_id: int) -> set[int]:
    """Registrations whose parent told us ahead that the baby will miss the session: an
    absence (a course's week), or "unwell" answered to "Ready for <day>?" (a single
    class records no absence: it has no make-up)."""
    return set(
        db.session.scalars(
            sa.select(Absence.registration_id).where(Absence.session_id == session_id)
            .union(
                sa.select(SessionReadiness.registration_id).where(
                    SessionReadiness.session_id == session_id,
                    SessionReadiness.status == READY_UNWELL,
                )
            )
        )
    )


def register_extras(session: WorkshopSession, tz_name: str) -> RegisterExtras:
    """Absences (and "unwell" answers), doll days and make-up attendees (with age that
    day) for one session."""
    absent_ids = told_away_ids(session.id)
    doll_ids = set()
    for registration in db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.workshop_id == session.workshop_id,
            Registration.status == CONFIRMED,
        )
        .options(joinedload(Registration.baby))
    ):
        if is_doll_session(registration.baby, session, tz_name):
            doll_ids.add(registration.id)
    day = to_local(session.starts_at, tz_name).date()
    makeups = []
    for makeup, origin in db.session.execute(
        sa.select(MakeupBooking, Registration)
        .outerjoin(MakeupCredit, MakeupCredit.id == MakeupBooking.credit_id)
        .outerjoin(Absence, Absence.id == MakeupCredit.absence_id)
        .outerjoin(Registration, Registration.id == Absence.registration_id)
        .where(MakeupBooking.session_id == session.id)
        .options(joinedload(MakeupBooking.baby), joinedload(MakeupBooking.parent))
        .order_by(MakeupBooking.id)
    ):
        baby, parent = makeup.baby, makeup.parent
        makeups.append(
            MakeupAttendee(
                baby.name if baby is not None else "(details removed)",
                baby.age_weeks_on(day) if baby is not None else None,
                parent.name if parent is not None else "—",
                is_doll_session(baby, session, tz_name),
                parent.phone if parent is not None else "",
                baby.notes if baby is not None else "",
                makeup_id=makeup.id,
                age_text=age_text(baby, day),
                baby=baby,
                registration=origin,
            )
        )
    return RegisterExtras(absent_ids, doll_ids, makeups)


def roster_flags(workshop_id: int) -> dict[int, dict]:
    """Per session of a workshop: absent registration ids, doll-day registration ids and
    the number of make-up attendees, for the instructor's roster."""
    workshop = db.session.get(Workshop, workshop_id)
    centre = db.session.get(Centre, workshop.centre_id)
    sessions = list(
        db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
        )
    )
    absences = defaultdict(set)
    for registration_id, session_id in db.session.execute(
        sa.select(Absence.registration_id, Absence.session_id).where(
            Absence.session_id.in_([s.id for s in sessions])
        )
    ):
        absences[session_id].add(registration_id)
    registrations = list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop_id, Registration.status == CONFIRMED)
            .options(joinedload(Registration.baby))
        )
    )
    flags = {}
    for session in sessions:
        flags[session.id] = {
            "absent": absences[session.id],
            "doll": {
                r.id for r in registrations if is_doll_session(r.baby, session, centre.timezone)
            },
            "makeups": session.makeups_taken,
        }
    return flags


def doll_session_times(registration: Registration) -> list[str]:
    """When the registration's baby has a session within 48 hours after immunisations,
    in the centre's local time (for the reminder email)."""
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    if baby is None or baby.immunisation_date is None:
        return []
    workshop = db.session.get(Workshop, registration.workshop_id)
    tz_name = db.session.get(Centre, workshop.centre_id).timezone
    sessions = db.session.scalars(
        sa.select(WorkshopSession)
        .where(
            WorkshopSession.workshop_id == workshop.id,
            WorkshopSession.status == SCHEDULED,
        )
        .order_by(WorkshopSession.number)
    )
    return [
        format_local(s.starts_at, tz_name)
        for s in sessions
        if is_doll_session(baby, s, tz_name)
    ]
