"""The plain data emails and invites are built from, one query per kind of row.

A workshop comes with its centre, its instructor (and public name) and its sessions
in order, read in one joined query; a booking adds its parent and baby to the same
query. Callers have flushed, so what is read is what the use case just wrote.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased, lazyload

from booking.calendar.data import (
    BabyData,
    BookingData,
    CentreData,
    MakeupData,
    PersonData,
    SessionData,
    WorkshopData,
)
from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    Centre,
    InstructorProfile,
    MakeupBooking,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.services.booking.places import SUGGESTIONS, suggest_classes
from booking.services.errors import NotFound

_Instructor = aliased(User, name="instructor")
_Parent = aliased(User, name="parent")


def centre_data(centre: Centre) -> CentreData:
    """A centre row as plain data."""
    return CentreData(
        id=centre.id,
        name=centre.name,
        timezone=centre.timezone,
        currency=centre.currency,
        full_address=centre.full_address,
        contact_email=centre.contact_email or "",
        contact_phone=centre.contact_phone or "",
        accessibility_notes=centre.accessibility_notes or "",
    )


def session_data(session: WorkshopSession) -> SessionData:
    """A session row as plain data."""
    return SessionData(
        id=session.id,
        workshop_id=session.workshop_id,
        number=session.number,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        room=session.room or "",
        status=session.status,
        revision=session.revision,
        updated_at=session.updated_at,
        plan_title=session.plan_title or "",
    )


@cache
def _sessions_statement() -> sa.Select:
    """Exactly a SessionData's columns of some workshops' sessions, in order."""
    s = WorkshopSession
    return (
        sa.select(s.id, s.workshop_id, s.number, s.starts_at, s.ends_at, s.room, s.status,
                  s.revision, s.updated_at, s.plan_title)
        .where(s.workshop_id.in_(sa.bindparam("workshop_ids", expanding=True)))
        .order_by(s.workshop_id, s.number)
    )


def sessions_data(workshop_ids: Iterable[int]) -> dict[int, tuple[SessionData, ...]]:
    """The sessions of those workshops as plain data, in order, by workshop id (every
    id given has an entry): one query of their columns, no ORM objects."""
    ids = sorted(set(workshop_ids))
    found: dict[int, list[SessionData]] = defaultdict(list)
    if ids:
        rows = db.session.connection().execute(_sessions_statement(), {"workshop_ids": ids})
        for row in rows:
            found[row[1]].append(SessionData(*row))
    return {workshop_id: tuple(found[workshop_id]) for workshop_id in ids}


def loaded_booking(registration: Registration, sessions: Sequence[SessionData]) -> BookingData:
    """A registration loaded with its workshop (and the workshop's centre) and baby, as
    plain data with the workshop's `sessions`: nothing is read. Its parent and the
    workshop's instructor are left out (what a page of the parent's own bookings needs)."""
    workshop = registration.workshop
    data = _workshop(workshop, workshop.centre, None, None, tuple(sessions))
    return _booking(registration, data, None, registration.baby)


def person_data(user: User | None) -> PersonData | None:
    """A parent or instructor as plain data (None stays None)."""
    if user is None:
        return None
    return PersonData(
        id=user.id, name=user.name, email=user.email, deleted=user.deleted_at is not None
    )


def baby_data(baby: Baby | None) -> BabyData | None:
    """A baby as plain data (None stays None)."""
    return BabyData(id=baby.id, name=baby.name) if baby is not None else None


def _workshop_statement():
    return (
        sa.select(WorkshopSession, Workshop, Centre, _Instructor, InstructorProfile.display_name)
        .select_from(Workshop)
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(_Instructor, _Instructor.id == Workshop.instructor_id)
        .outerjoin(InstructorProfile, InstructorProfile.user_id == Workshop.instructor_id)
        .outerjoin(WorkshopSession, WorkshopSession.workshop_id == Workshop.id)
        .options(lazyload(_Instructor.memberships))  # plain data needs no roles
    )


def _workshop(
    workshop, centre, instructor, display_name, sessions: tuple[SessionData, ...]
) -> WorkshopData:
    name = (display_name or instructor.name) if instructor is not None else "your instructor"
    return WorkshopData(
        id=workshop.id,
        title=workshop.title,
        status=workshop.status,
        is_course=workshop.is_course,
        what_to_bring=workshop.what_to_bring or "",
        price=workshop.price,
        cancellation_cutoff_hours=workshop.cancellation_cutoff_hours,
        confirmed_count=workshop.confirmed_count,
        capacity=workshop.capacity,
        centre=centre_data(centre),
        sessions=sessions,
        instructor=person_data(instructor),
        instructor_name=name,
        payment_mode=workshop.payment_mode,
        deposit=workshop.deposit,
        refund_fee=workshop.refund_fee,
    )


def workshops_data(workshop_ids: Iterable[int]) -> dict[int, WorkshopData]:
    """Workshops by id, each with its centre, instructor and sessions (one query)."""
    ids = list(dict.fromkeys(workshop_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        _workshop_statement()
        .where(Workshop.id.in_(ids))
        .order_by(Workshop.id, WorkshopSession.number)
    ).all()
    found: dict[int, tuple] = {}
    for session, workshop, centre, instructor, display_name in rows:
        entry = found.setdefault(workshop.id, (workshop, centre, instructor, display_name, []))
        if session is not None:
            entry[4].append(session)
    return {
        i: _workshop(*found[i][:4], tuple(session_data(s) for s in found[i][4]))
        for i in ids if i in found
    }


def workshop_data(workshop: Workshop | int) -> WorkshopData:
    """One workshop with its centre, instructor and sessions."""
    workshop_id = workshop if isinstance(workshop, int) else workshop.id
    found = workshops_data([workshop_id]).get(workshop_id)
    if found is None:
        raise NotFound("We could not find that class.")
    return found


def bookings_where(*conditions) -> list[BookingData]:
    """The registrations matching `conditions`, in id order, each with its parent,
    baby and workshop (one query)."""
    rows = db.session.execute(
        _workshop_statement()
        .add_columns(Registration, _Parent, Baby)
        .join(Registration, Registration.workshop_id == Workshop.id)
        .outerjoin(_Parent, _Parent.id == Registration.parent_id)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .options(lazyload(_Parent.memberships))
        .where(*conditions)
        .order_by(Registration.id, WorkshopSession.number)
    ).all()
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row[5].id, []).append(row)  # by registration
    workshops: dict[int, WorkshopData] = {}
    found = []
    missed = _missed_sessions(list(grouped))
    for group in grouped.values():
        _, workshop, centre, instructor, display_name, registration, parent, baby = group[0]
        if workshop.id not in workshops:
            sessions = tuple(session_data(row[0]) for row in group if row[0] is not None)
            workshops[workshop.id] = _workshop(
                workshop, centre, instructor, display_name, sessions
            )
        found.append(_booking(registration, workshops[workshop.id], parent, baby,
                              missed.get(registration.id, frozenset())))
    return found


def _missed_sessions(registration_ids: list[int]) -> dict[int, frozenset[int]]:
    """The sessions each booking's family said they will miss (one query)."""
    if not registration_ids:
        return {}
    found: dict[int, set[int]] = defaultdict(set)
    for registration_id, session_id in db.session.execute(
        sa.select(Absence.registration_id, Absence.session_id)
        .where(Absence.registration_id.in_(registration_ids))
    ):
        found[registration_id].add(session_id)
    return {key: frozenset(value) for key, value in found.items()}


def _booking(registration, workshop: WorkshopData, parent, baby,
             missed: frozenset[int] = frozenset()) -> BookingData:
    return BookingData(
        id=registration.id,
        status=registration.status,
        created_at=registration.created_at,
        confirmed_at=registration.confirmed_at,
        cancelled_at=registration.cancelled_at,
        invite_sequence=registration.invite_sequence,
        workshop=workshop,
        parent=person_data(parent),
        baby=baby_data(baby),
        missed=missed,
    )


def booking_data(registration: Registration | int) -> BookingData:
    """One registration with its parent, baby and workshop."""
    registration_id = registration if isinstance(registration, int) else registration.id
    found = bookings_where(Registration.id == registration_id)
    if not found:
        raise LookupError(f"registration {registration_id} does not exist")
    return found[0]


def alternatives(
    bookings: Iterable[BookingData], now: datetime, limit: int = SUGGESTIONS
) -> dict[int, list[WorkshopData]]:
    """For each booking (by id), classes that would suit its baby instead of its own
    (closed or cancelled): see `suggest_classes`."""
    chosen: dict[int, list[int]] = {}
    for booking in bookings:
        baby = db.session.get(Baby, booking.baby.id) if booking.baby is not None else None
        centre = db.session.get(Centre, booking.workshop.centre.id)
        others = suggest_classes(baby, centre, booking.workshop.id, now, limit)
        chosen[booking.id] = [w.id for w in others]
    loaded = workshops_data(i for ids in chosen.values() for i in ids)
    return {key: [loaded[i] for i in ids if i in loaded] for key, ids in chosen.items()}


def session_makeups(session_id: int) -> list[MakeupData]:
    """Who is making up a missed week in the session: parent and baby per make-up."""
    return sessions_makeups([session_id]).get(session_id, [])


def sessions_makeups(session_ids: Iterable[int]) -> dict[int, list[MakeupData]]:
    """Who is making up a missed week in each of the sessions (by session id, sessions
    nobody visits left out): parent and baby per make-up, in the order they booked."""
    rows = db.session.execute(
        sa.select(MakeupBooking, _Parent, Baby)
        .select_from(MakeupBooking)
        .outerjoin(_Parent, _Parent.id == MakeupBooking.parent_id)
        .outerjoin(Baby, Baby.id == MakeupBooking.baby_id)
        .where(MakeupBooking.session_id.in_(list(session_ids)))
        .order_by(MakeupBooking.id)
        .execution_options(populate_existing=True)  # counters moved by an UPDATE
    ).all()
    found: dict[int, list[MakeupData]] = defaultdict(list)
    for makeup, parent, baby in rows:
        found[makeup.session_id].append(makeup_data(makeup, parent, baby))
    return dict(found)


def makeup_data(makeup: MakeupBooking, parent: User | None, baby: Baby | None) -> MakeupData:
    """Who a make-up is for, as its emails and invites name them."""
    return MakeupData(person_data(parent), baby_data(baby), makeup.id, makeup.created_at,
                      makeup.invite_sequence or 0)  # 0 until a new row is written
