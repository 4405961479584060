"""What an instructor needs to run a class: rosters, ages and the roster CSV
(registers and attendance: booking.services.teaching.attendance; messages to a
class: booking.services.teaching.messages).

Every function takes the instructor's id and answers NotFound for a workshop or
session that is not theirs, so nobody learns that someone else's class exists.

Health flags (doll today, needs clearance, allergies) are loaded only for a viewer who
may see them (`booking.services.health.access.may_see_health`: the class's instructor
and the centre's staff); the roster CSV carries their short labels, never the
parent's own words.
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
from booking.models.health import READY_UNWELL, READY_WELL
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.services.accounts.access import require_centre_staff, taught_by
from booking.services.booking.places import age_text, eligibility
from booking.services.booking.waiting import NOBODY_WAITING, waiting_counts
from booking.services.errors import NotFound
from booking.services.health.access import may_see_health
from booking.services.health.answers import shared_records
from booking.services.health.flags import HealthSummary, summary
from booking.services.health.readiness import doll_reasons, readiness_of
from booking.timefmt import format_day, format_local, to_local

RECENT_DAYS = 60
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class WorkshopSummary:
    """A line of the instructor's list: a workshop with its numbers."""

    workshop: Workshop
    confirmed: int
    waiting: int  # waiting babies who fit the class's ages (`waiting.waiting_counts`)
    next_session: WorkshopSession | None


@dataclass
class HealthLine:
    """A booking's health at a glance, for the class's instructor and the centre's
    staff only: the summary of the baby's answers (flags, clearance), who cleared
    it, and per session why the baby watches while the parent practises on a doll,
    or that the parent said the baby is unwell that day."""

    summary: HealthSummary
    cleared_by: str = ""
    doll: dict[int, list[str]] = field(default_factory=dict)
    unwell: set[int] = field(default_factory=set)
    # Sessions the parent called "well" while a lasting not-today answer stands: the
    # instructor checks before massage (see readiness.doll_reasons).
    check: set[int] = field(default_factory=set)

    @property
    def cleared(self) -> bool:
        """Answers that need a doctor's word, cleared as they stand now."""
        s = self.summary
        return bool(s.clearance) and not s.needs_clearance and s.cleared_at is not None

    def cleared_on(self, tz_name: str) -> date | None:
        """The local day the booking was last cleared."""
        cleared_at = self.summary.cleared_at
        return to_local(cleared_at, tz_name).date() if cleared_at is not None else None

    def doll_note(self, session_id: int) -> str:
        """The reasons for a doll session, as a phrase ("immunisations, unwell or
        fever"); "" when the baby is massaged as usual."""
        return ", ".join(r[:1].lower() + r[1:] for r in self.doll.get(session_id, []))


@dataclass
class RosterEntry:
    """One registration on a roster, with the baby's age at each session (in whole
    weeks, and as read: "12 weeks, 8 weeks corrected") and, for who may see them,
    the baby's health flags."""

    registration: Registration
    ages: list[int | None] = field(default_factory=list)
    age_at_first: int | None = None
    position: int | None = None
    # Waiting, but the baby no longer fits the class's ages (skipped when a place
    # comes free, and numbered nowhere): why, in words.
    unfit: str = ""
    age_texts: list[str] = field(default_factory=list)
    age_text_first: str = ""
    corrected_at_first: int | None = None
    health: HealthLine | None = None

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
        (label, text): the booking's notes, then the baby's. Health answers are in
        `health`, for who may see them."""
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
    show_health: bool = False


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
    workshop = db.session.scalar(
        _workshop_query().where(Workshop.id == workshop_id, taught_by(instructor_id))
    )
    if workshop is None:
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


def corrected_weeks(baby: Baby | None, day: date | None) -> int | None:
    """A baby's corrected age in whole weeks on a day; None when not born 3 or more
    weeks early (or unknown)."""
    if baby is None or day is None:
        return None
    return baby.corrected_age_weeks_on(day)


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
            age_texts=[age_text(r.baby, d) for d in days],
            age_text_first=age_text(r.baby, first) if first is not None else "",
            corrected_at_first=corrected_weeks(r.baby, first),
        )
        for r in registrations
    ]
    entries.sort(key=lambda e: (e.baby_name.casefold(), e.registration.id))
    return entries


def instructor_workshops(instructor_id: int, now: datetime | None = None) -> dict:
    """The instructor's workshops: 'upcoming' (not yet over) and 'recent' (ended lately).

    Each is a list of WorkshopSummary with places taken and the waiting-list length
    (the babies who fit the class's ages), loaded in four queries whatever the number
    of workshops, three when nobody waits.
    """
    now = now or utcnow()
    recent_from = now - timedelta(days=RECENT_DAYS)
    workshops = list(
        db.session.scalars(
            _workshop_query()
            .where(
                taught_by(instructor_id),
                sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at >= recent_from),
            )
            .order_by(Workshop.first_starts_at, Workshop.id)
        ).unique()
    )
    registrations_waiting = dict(
        db.session.execute(
            sa.select(Registration.workshop_id, sa.func.count())
            .where(
                Registration.workshop_id.in_([w.id for w in workshops]),
                Registration.status == WAITLISTED,
            )
            .group_by(Registration.workshop_id)
        ).all()
    ) if workshops else {}
    # The line as parents are told it: babies who fit the class's ages, read once for
    # the classes with anyone waiting.
    waiting = waiting_counts(workshops, upper=registrations_waiting)
    upcoming, recent = [], []
    for workshop in workshops:
        next_session = next(
            (s for s in workshop.sessions if s.ends_at >= now and not s.is_cancelled), None
        )
        summary = WorkshopSummary(
            workshop,
            workshop.confirmed_count,
            waiting.get(workshop.id, NOBODY_WAITING).fit,
            next_session,
        )
        if workshop.last_ends_at is None or workshop.last_ends_at >= now:
            upcoming.append(summary)
        else:
            recent.append(summary)
    recent.reverse()
    return {"upcoming": upcoming, "recent": recent}


def _user_names(user_ids) -> dict[int, str]:
    """Users' names by id (who cleared bookings), in one query."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def health_lines(places, sessions, tz_name: str, centre_id: int) -> dict[int, HealthLine]:
    """The health at a glance of bookings, by registration id, from (registration,
    baby) pairs: flags and clearance, and per session of `sessions` (cancelled ones
    left out) the reasons for a doll session and an "unwell" answer. A bounded number
    of queries, whatever the number of bookings. Callers show it only to a viewer
    `may_see_health` allows."""
    places = list(places)
    live = [s for s in sessions if not s.is_cancelled]
    records = shared_records((baby.id for _, baby in places if baby is not None), centre_id)
    ready = readiness_of([r.id for r, _ in places], [s.id for s in live])
    names = _user_names(r.cleared_by_id for r, _ in places)
    lines = {}
    for registration, baby in places:
        record = records.get(baby.id) if baby is not None else None
        line = HealthLine(summary(registration, record), names.get(registration.cleared_by_id, ""))
        for s in live:
            answer = ready.get((registration.id, s.id))
            if answer == READY_UNWELL:
                line.unwell.add(s.id)
            reasons = doll_reasons(baby, record, answer, s, tz_name)
            if reasons:
                line.doll[s.id] = reasons
                if answer == READY_WELL and "Immunisations" not in reasons:
                    line.check.add(s.id)
        lines[registration.id] = line
    return lines


def add_health(entries: list[RosterEntry], sessions, tz_name: str, centre_id: int) -> None:
    """Give roster lines their health at a glance (see `health_lines`)."""
    lines = health_lines(
        [(e.registration, e.baby) for e in entries], sessions, tz_name, centre_id
    )
    for entry in entries:
        entry.health = lines[entry.registration.id]


def _build_roster(workshop: Workshop, health_for: User | None = None) -> Roster:
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
    # Numbered as the parents are told (`waitlist.waitlist_positions`): among the babies
    # who fit; the others are named as skipped.
    in_line = 0
    for entry in waiting:
        fit = eligibility(entry.baby, workshop)
        if fit.eligible:
            in_line += 1
            entry.position = in_line
        else:
            entry.unfit = fit.reason or ""
    roster = Roster(workshop, sessions, confirmed, waiting, held)
    if health_for is not None and may_see_health(health_for, workshop):
        roster.show_health = True
        add_health(confirmed + held, sessions, workshop.centre.timezone, workshop.centre_id)
    return roster


def _waiting_key(registration: Registration):
    return (registration.waitlisted_at or registration.created_at, registration.id)


def workshop_roster(
    workshop_id: int, instructor_id: int, *, health_for: User | None = None
) -> Roster:
    """The roster of one of the instructor's workshops: confirmed babies with their
    age at every session, their parents' contacts and notes, and the waiting list;
    with the babies' health flags when `health_for` may see them."""
    return _build_roster(own_workshop(workshop_id, instructor_id), health_for)


def staff_roster(workshop_id: int, user: User, *, health_for: User | None = None) -> Roster:
    """The same roster for staff of the workshop's centre (or an admin); health flags
    only with `health_for`, and only when that user may see them.

    Raises NotFound for an unknown workshop and Forbidden for anyone else.
    """
    workshop = db.session.scalar(_workshop_query().where(Workshop.id == workshop_id))
    if workshop is None:
        raise NotFound("There is no such workshop.")
    require_centre_staff(
        user, workshop.centre_id, "Only staff of this workshop's centre may see its registrations."
    )
    return _build_roster(workshop, health_for)


def own_registration_workshop(registration_id: int, instructor_id: int) -> int:
    """The workshop id of a booking on one of the instructor's workshops; NotFound for
    any other booking."""
    workshop_id = db.session.scalar(
        sa.select(Registration.workshop_id)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(Registration.id == registration_id, taught_by(instructor_id))
    )
    if workshop_id is None:
        raise NotFound("We could not find that booking among your classes.")
    return workshop_id


@dataclass
class Glance:
    """Bookings of a workshop at a glance for the back office: each baby's age at the
    first session and, for a viewer who may see them, health flags (by registration
    id)."""

    show_health: bool
    ages: dict[int, str] = field(default_factory=dict)
    health: dict[int, HealthLine] = field(default_factory=dict)


def bookings_at_a_glance(workshop: Workshop, tz_name: str, places, viewer: User) -> Glance:
    """Ages (corrected where it applies) and, when `viewer` may see them, the health
    flags of (registration, baby) pairs of a workshop, for the staff's bookings page;
    waiting entries get an age only."""
    places = list(places)
    first = (
        to_local(workshop.first_starts_at, tz_name).date() if workshop.first_starts_at else None
    )
    glance = Glance(may_see_health(viewer, workshop))
    glance.ages = {
        r.id: age_text(baby, first) for r, baby in places if first is not None and baby
    }
    if glance.show_health:
        booked = [(r, baby) for r, baby in places if r.status != WAITLISTED]
        glance.health = health_lines(booked, [], tz_name, workshop.centre_id)
    return glance


def csv_cell(value) -> str:
    """A value as a CSV cell that spreadsheets will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def roster_csv(roster: Roster) -> str:
    """The roster as CSV: a header row, then one row per confirmed registration, with
    the parent's phone and (on a roster loaded with health) the flags' short labels;
    never the parent's own words about the baby's health."""
    tz_name = roster.workshop.centre.timezone
    header = ["Baby name", "Date of birth", "Age in weeks at first session"]
    for s in roster.sessions:
        label = f"Age in weeks at session {s.number} ({format_day(session_day(s, tz_name))})"
        if s.is_cancelled:
            label += " - cancelled"
        header.append(label)
    header += ["Parent name", "Email", "Phone", "Consent given", "Notes", "Baby notes",
               "Corrected age in weeks at first session", "Flags"]
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
            entry.corrected_at_first,
            "; ".join(entry.health.summary.labels) if entry.health is not None else "",
        ]
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
