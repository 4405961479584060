"""The plain data that invites and emails are built from.

A use case loads these with its own query (see `booking.services.notices.queries`)
and hands them to `booking.calendar.invite` and `booking.mail`, which read nothing
else: no session, no relationship, no lazy load. They are frozen, so a builder
cannot change what the use case decided.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from booking.models.workshop import CANCELLED


@dataclass(frozen=True)
class CentreData:
    """A centre as emails and invites show it."""

    id: int
    name: str
    timezone: str
    currency: str
    full_address: str
    contact_email: str
    contact_phone: str
    accessibility_notes: str


class SessionData(NamedTuple):
    """One session of a workshop, its times in UTC. A named tuple (as frozen as the
    rest): a feed builds hundreds of them straight from its rows."""

    id: int
    workshop_id: int
    number: int
    starts_at: datetime
    ends_at: datetime
    room: str
    status: str
    revision: int
    updated_at: datetime
    # The week's plan title ("Week 2: tummy, for wind and colic"), "" when none.
    plan_title: str = ""

    @property
    def is_cancelled(self) -> bool:
        """Whether the session has been cancelled."""
        return self.status == CANCELLED


@dataclass(frozen=True)
class PersonData:
    """A parent or an instructor: who an email goes to and an invite names."""

    id: int
    name: str
    email: str
    deleted: bool = False

    @property
    def can_email(self) -> bool:
        """Only live accounts with an address get email."""
        return not self.deleted and bool(self.email)


@dataclass(frozen=True)
class BabyData:
    """The baby a booking is for."""

    id: int
    name: str


@dataclass(frozen=True)
class WorkshopData:
    """A workshop with its centre, its sessions in order and its instructor."""

    id: int
    title: str
    status: str
    is_course: bool
    what_to_bring: str
    price: Decimal
    cancellation_cutoff_hours: int
    confirmed_count: int
    capacity: int
    centre: CentreData
    sessions: tuple[SessionData, ...]
    instructor: PersonData | None = None
    instructor_name: str = "your instructor"
    payment_mode: str = "at_centre"
    deposit: int | None = None  # minor units
    refund_fee: int = 0  # minor units

    def session(self, session_id: int) -> SessionData | None:
        """One of the workshop's sessions by id, or None."""
        return next((s for s in self.sessions if s.id == session_id), None)


@dataclass(frozen=True)
class BookingData:
    """A registration with its parent, baby and workshop."""

    id: int
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    invite_sequence: int
    workshop: WorkshopData
    parent: PersonData | None = None
    baby: BabyData | None = None
    missed: frozenset[int] = frozenset()  # sessions the family said they will miss


@dataclass(frozen=True)
class MakeupData:
    """A baby making up a missed week, and the parent who booked it."""

    parent: PersonData | None
    baby: BabyData | None
    id: int | None = None  # the make-up booking's (its invites' UID, with `made_at`)
    made_at: datetime | None = None  # when it was booked: ids can come again on SQLite
    invite_sequence: int = 0  # updates sent beyond its session's revision

    @property
    def key(self) -> str:
        """What names this make-up booking for good (its invites' UID, its reminders):
        its id and when it was made, since SQLite gives a deleted row's id again."""
        stamp = self.made_at.strftime("%Y%m%dT%H%M%S%f") if self.made_at else ""
        return f"{self.id}-{stamp}" if stamp else str(self.id)

    @property
    def baby_name(self) -> str:
        """The baby's name, or a neutral word when the baby has been removed."""
        return self.baby.name if self.baby is not None else "your baby"
