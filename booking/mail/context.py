"""What an email about a booking needs, loaded with explicit queries.

Relationships are `lazy="raise_on_sql"`, so nothing here follows one: every row is
fetched by id (the identity map makes repeated fetches free) and the result is a
plain object the templates read without touching the database again.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from booking import timefmt
from booking.extensions import db
from booking.mail.outbox import absolute_url
from booking.models import (
    Baby,
    Centre,
    InstructorProfile,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.services.booking.places import SUGGESTIONS, centre_of, suggest_classes
from booking.templating import format_price

# How a class is paid for (PRODUCT.md): free, at the centre, online, or a deposit online
# and the rest at the centre.
FREE, AT_CENTRE, ONLINE, DEPOSIT = "free", "at_centre", "online", "deposit"


@dataclass(frozen=True)
class SessionLine:
    """One session as an email shows it, in the centre's zone with the zone named."""

    id: int
    number: int
    total: int
    when: str
    date: str
    room: str
    cancelled: bool
    is_course: bool

    @property
    def label(self) -> str:
        """'Week 2 of 5' for a course, 'Session' for a single class."""
        if self.is_course and self.total > 1:
            return f"Week {self.number} of {self.total}"
        return "Session"


@dataclass
class WorkshopInfo:
    """A workshop, its centre, its sessions and its instructor, ready to show."""

    workshop: Workshop
    centre: Centre
    sessions: list[SessionLine]
    instructor: User | None
    instructor_name: str
    class_url: str
    zone_note: str
    first: SessionLine | None = None
    payment: str = ""

    @property
    def starts(self) -> str:
        """When the first session that will run starts ('' if none will)."""
        return self.first.when if self.first else ""


@dataclass
class BookingInfo:
    """A registration with everything an email about it shows."""

    registration: Registration
    info: WorkshopInfo
    parent: User | None
    baby: Baby | None
    bookings_url: str
    invite_url: str
    extra: dict = field(default_factory=dict)

    @property
    def baby_name(self) -> str:
        """The baby's name, or a neutral word when the baby has been removed."""
        return self.baby.name if self.baby is not None else "your baby"

    @property
    def greeting_name(self) -> str:
        """The parent's name for 'Dear ...'."""
        return self.parent.name if self.parent is not None else "there"


def payment_text(mode: str, price, currency: str, deposit=None) -> str:
    """What a parent pays and how, with amounts in the centre's currency (Babel):
    'Free: there is nothing to pay.' or 'Pay £45.00 at the centre.'"""
    if mode == FREE or not price:
        return "Free: there is nothing to pay."
    amount = format_price(price, currency)
    if mode == ONLINE:
        return f"{amount}, paid online when you booked."
    if mode == DEPOSIT and deposit and 0 < deposit < price:
        return (
            f"{amount}: a deposit of {format_price(deposit, currency)} paid online when "
            f"you booked, and {format_price(price - deposit, currency)} to pay at the centre."
        )
    return f"Pay {amount} at the centre."


def workshop_payment_mode(workshop: Workshop) -> str:
    """A workshop's payment mode: free without a price; otherwise paid at the centre,
    the only way a workshop is paid for today."""
    return FREE if not workshop.price else AT_CENTRE


def describe_session(session: WorkshopSession, centre: Centre, total: int, is_course: bool):
    """A session's line: 'Tue 1 Dec 2026, 10:00-11:00 GMT' in the centre's zone."""
    tz = centre.timezone
    start = timefmt.format_local(session.starts_at, tz, with_zone=False)
    end = timefmt.format_local_time(session.ends_at, tz)
    zone = timefmt.zone_abbrev(session.starts_at, tz)
    return SessionLine(
        id=session.id,
        number=session.number,
        total=total,
        when=f"{start}\u2013{end} {zone}",
        date=timefmt.format_local_date(session.starts_at, tz),
        room=session.room or "",
        cancelled=session.is_cancelled,
        is_course=is_course,
    )


def load_sessions(workshop_id: int) -> list[WorkshopSession]:
    """A workshop's sessions in order."""
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
    )


def instructor_display_name(user: User | None) -> str:
    """The instructor's public name (profile display name, else account name)."""
    if user is None:
        return "your instructor"
    name = db.session.scalar(
        sa.select(InstructorProfile.display_name).where(InstructorProfile.user_id == user.id)
    )
    return name or user.name


def workshop_info(workshop: Workshop | int) -> WorkshopInfo:
    """Load a workshop's centre, sessions and instructor for an email."""
    if db.session.new or db.session.dirty:
        db.session.flush()
    workshop_id = workshop if isinstance(workshop, int) else workshop.id
    workshop = db.session.get(Workshop, workshop_id)
    centre = centre_of(workshop)
    rows = load_sessions(workshop.id)
    if "sessions" in sa.inspect(workshop).unloaded:
        # Kept on the workshop, so the invite built next in this transaction reuses them.
        set_committed_value(workshop, "sessions", rows)
    lines = [describe_session(s, centre, len(rows), workshop.is_course) for s in rows]
    instructor = db.session.get(User, workshop.instructor_id) if workshop.instructor_id else None
    first = next((line for line in lines if not line.cancelled), None)
    return WorkshopInfo(
        workshop=workshop,
        centre=centre,
        sessions=lines,
        instructor=instructor,
        instructor_name=instructor_display_name(instructor),
        class_url=absolute_url(f"/classes/{workshop.id}"),
        zone_note=f"Times are local to {centre.name} ({centre.timezone}).",
        first=first,
        payment=payment_text(workshop_payment_mode(workshop), workshop.price, centre.currency),
    )


def booking_info(registration: Registration, info: WorkshopInfo | None = None) -> BookingInfo:
    """Load what an email about one registration shows."""
    if registration.id is None or db.session.new or db.session.dirty:
        db.session.flush()
    info = info or workshop_info(registration.workshop_id)
    parent = db.session.get(User, registration.parent_id) if registration.parent_id else None
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    return BookingInfo(
        registration=registration,
        info=info,
        parent=parent,
        baby=baby,
        bookings_url=absolute_url("/account/bookings"),
        invite_url=absolute_url(f"/account/bookings/{registration.id}/invite.ics"),
    )


def can_email(user: User | None) -> bool:
    """Only live accounts with an address get email."""
    return user is not None and user.deleted_at is None and bool(user.email)


def alternatives_for(
    booking: BookingInfo, now: datetime | None = None, limit: int = SUGGESTIONS
) -> list[WorkshopInfo]:
    """Classes that would suit the booking's baby instead of its own (closed or
    cancelled): see `suggest_classes`."""
    others = suggest_classes(
        booking.baby,
        booking.info.centre,
        booking.info.workshop.id,
        now or datetime.now(UTC),
        limit,
    )
    return [workshop_info(w) for w in others]
