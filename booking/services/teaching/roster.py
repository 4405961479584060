"""What an instructor needs to run a class: rosters, ages and the roster CSV
(registers and attendance: booking.services.teaching.attendance; messages to a
class: booking.services.teaching.messages).

Every function takes the instructor's id and answers NotFound for a workshop or
session that is not theirs, so nobody learns that someone else's class exists.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from booking.extensions import db
from booking.models import (
    Baby,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.services.accounts.access import require_centre_staff
from booking.services.errors import NotFound
from booking.timefmt import format_day, format_local, to_local

RECENT_DAYS = 60
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
    """A workshop with its sessions, confirmed places and waiting list, and the places
    held while a parent pays (booked, or offered from the waiting list): they are not
    on the register or in the CSV until paid, and go to the next family if unpaid."""

    workshop: Workshop
    sessions: list[WorkshopSession]
    confirmed: list[RosterEntry]
    waiting: list[RosterEntry]
    held: list[RosterEntry] = field(default_factory=list)


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


def own_workshop(workshop_id: int, instructor_id: int) -> Workshop:
    """One of the instructor's workshops, with its centre and sessions; NotFound for any
    other, so nobody learns that someone else's class exists."""
    workshop = db.session.scalar(_workshop_query().where(Workshop.id == workshop_id))
    if workshop is None or workshop.instructor_id != instructor_id:
        raise NotFound("We could not find that workshop among your classes.")
    return workshop


def workshop_registrations(workshop_id: int, statuses: tuple[str, ...]) -> list[Registration]:
    """A workshop's registrations with those statuses, with babies and parents loaded."""
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


def roster_entries(registrations, sessions, workshop) -> list[RosterEntry]:
    """Roster lines: each baby's age at each of `sessions` and at the first, by name."""
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
    registrations = workshop_registrations(workshop.id, (CONFIRMED, PENDING_PAYMENT, WAITLISTED))
    confirmed = roster_entries(
        [r for r in registrations if r.status == CONFIRMED], sessions, workshop
    )
    held = roster_entries([r for r in registrations if r.status == PENDING_PAYMENT], [], workshop)
    held.sort(key=lambda e: (e.registration.hold_expires_at or e.registration.created_at,
                             e.registration.id))
    waiting = roster_entries([r for r in registrations if r.status == WAITLISTED], [], workshop)
    waiting.sort(key=lambda e: _waiting_key(e.registration))
    for position, entry in enumerate(waiting, start=1):
        entry.position = position
    return Roster(workshop, sessions, confirmed, waiting, held)


def _waiting_key(registration: Registration):
    return (registration.waitlisted_at or registration.created_at, registration.id)


def workshop_roster(workshop_id: int, instructor_id: int) -> Roster:
    """The roster of one of the instructor's workshops: confirmed babies with their
    age at every session, their parents' contacts and notes, and the waiting list."""
    return _build_roster(own_workshop(workshop_id, instructor_id))


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
