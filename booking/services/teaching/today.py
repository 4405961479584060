"""An instructor's "Today": the sessions they teach today and tomorrow, each day
counted in its centre's own zone, with who is coming.

Each session is its register (`attendance.session_register`): confirmed babies with
their age that day, make-up visitors, absences told ahead, and health flags for a
viewer who may see them. Here they are only split into who is coming and who told
us they would miss it, and the session says whether attendance is open.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, User, Workshop, WorkshopSession, utcnow
from booking.models.registration import PRESENT
from booking.models.workshop import PUBLISHED
from booking.services.accounts.access import taught_by
from booking.services.teaching.attendance import Register, session_register
from booking.services.teaching.roster import RosterEntry
from booking.timefmt import to_local

TODAY, TOMORROW = "Today", "Tomorrow"
# Wide enough to hold today and tomorrow in every zone on Earth.
_WINDOW_BEFORE, _WINDOW_AFTER = timedelta(days=2), timedelta(days=3)


@dataclass
class TodaySession:
    """One session of "Today": its register, the day it falls on, and who is coming."""

    register: Register
    day: str
    coming: list[RosterEntry] = field(default_factory=list)
    away: list[RosterEntry] = field(default_factory=list)

    @property
    def session(self) -> WorkshopSession:
        return self.register.session

    @property
    def workshop(self) -> Workshop:
        return self.register.workshop

    @property
    def open(self) -> bool:
        """Whether attendance can be marked now."""
        return self.register.open

    @property
    def opens_at(self) -> datetime:
        """When attendance can first be marked."""
        return self.register.opens_at

    @property
    def expected(self) -> int:
        """How many babies are expected: booked and coming, plus make-up visitors."""
        return len(self.coming) + len(self.register.extras.makeups)

    def present(self, entry: RosterEntry) -> bool:
        """Whether the baby of a roster line is checked in."""
        return self.register.marks.get(entry.registration.id) == PRESENT

    @property
    def checked_in(self) -> int:
        """How many of the booked babies coming are checked in."""
        return sum(1 for e in self.coming if self.present(e))

    @property
    def makeups_checked_in(self) -> int:
        """How many of the make-up visitors are checked in."""
        marks = self.register.marks
        return sum(
            1 for m in self.register.extras.makeups
            if m.registration_id is not None and marks.get(m.registration_id) == PRESENT
        )

    @property
    def anyone_to_check_in(self) -> bool:
        """Whether "All present" would mark anyone: a baby coming (booked, or making up
        a week) without a mark."""
        marks = self.register.marks
        ids = [e.registration.id for e in self.coming]
        ids += [m.registration_id for m in self.register.extras.makeups if m.registration_id]
        return any(rid not in marks for rid in ids)


def _candidate_sessions(instructor_id: int, now: datetime) -> list[tuple[int, str]]:
    """(session id, centre zone) of the instructor's published workshops around now."""
    return list(
        db.session.execute(
            sa.select(WorkshopSession.id, Centre.timezone, WorkshopSession.starts_at)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .join(Centre, Centre.id == Workshop.centre_id)
            .where(
                taught_by(instructor_id),
                Workshop.status == PUBLISHED,
                WorkshopSession.starts_at >= now - _WINDOW_BEFORE,
                WorkshopSession.starts_at < now + _WINDOW_AFTER,
            )
            .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        ).all()
    )


def teaching_today(
    instructor_id: int, *, health_for: User | None = None, now: datetime | None = None
) -> list[TodaySession]:
    """The instructor's sessions of today and tomorrow (local days of each centre), in
    time order, each with its register split into babies coming and babies whose
    parent told us ahead they would miss it; health flags when `health_for` may see
    them."""
    now = now or utcnow()
    found = []
    for session_id, tz_name, starts_at in _candidate_sessions(instructor_id, now):
        today = to_local(now, tz_name).date()
        day = to_local(starts_at, tz_name).date()
        if day not in (today, today + timedelta(days=1)):
            continue
        register = session_register(session_id, instructor_id, health_for=health_for)
        absent = register.extras.absent_ids
        found.append(
            TodaySession(
                register,
                TODAY if day == today else TOMORROW,
                coming=[e for e in register.entries if e.registration.id not in absent],
                away=[e for e in register.entries if e.registration.id in absent],
            )
        )
    return found
