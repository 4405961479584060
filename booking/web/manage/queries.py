"""Read-only queries behind the back-office pages."""

from dataclasses import dataclass

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Centre, Membership, Registration, User, Workshop, utcnow
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.registration import ACTIVE, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import PUBLISHED
from booking.services.booking.places import makeup_excess, public_places_left
from booking.services.booking.waiting import NOBODY_WAITING, WaitingCount, waiting_counts
from booking.services.booking.waitlist import waitlist_positions

PAST_SHOWN = 20


@dataclass
class WorkshopRow:
    """A workshop on the dashboard with its centre, instructor and waiting count."""

    workshop: Workshop
    centre: Centre
    instructor_name: str
    # Families waiting whose baby fits the class's ages: the line as parents are told
    # their positions (`_count_who_fits` makes the SQL count so).
    waiting: int
    # Seats make-up visitors take beyond the absences (`places.makeup_seats`).
    makeup_seats: int = 0
    # Places held while families pay (in `confirmed_count`, not yet confirmed).
    paying: int = 0
    # Waiting too, but the baby no longer fits the ages: skipped when a place comes free.
    waiting_outside: int = 0

    @property
    def free(self) -> int:
        """Places the public can book, as the class page shows them."""
        return public_places_left(self.workshop, excess=self.makeup_seats)

    @property
    def confirmed(self) -> int:
        """Confirmed places, as its minimum is decided on."""
        return self.workshop.confirmed_count - self.paying

    @property
    def at_risk(self) -> bool:
        """It may be cancelled at its decision time (`Workshop.at_risk`)."""
        return self.workshop.at_risk(self.confirmed)


def _waiting_counts():
    """Each workshop's waiting registrations (whether the baby fits or not) and places
    held while families pay."""
    return (
        sa.select(
            Registration.workshop_id,
            sa.func.sum(sa.case((Registration.status == WAITLISTED, 1), else_=0))
            .label("waiting"),
            sa.func.sum(sa.case((Registration.status == PENDING_PAYMENT, 1), else_=0))
            .label("paying"),
        )
        .where(Registration.status.in_((WAITLISTED, PENDING_PAYMENT)))
        .group_by(Registration.workshop_id)
        .subquery()
    )


def waiting_split(workshop: Workshop, waiting: int) -> WaitingCount:
    """A workshop's `waiting` registrations split into the families whose baby fits its
    ages and those whose baby no longer does; nothing read when none waits."""
    counts = waiting_counts([workshop], upper={workshop.id: waiting})
    return counts.get(workshop.id, NOBODY_WAITING)


def _workshop_rows():
    """Workshops with their centre, instructor's name and waiting count, to filter."""
    waiting = _waiting_counts()
    return (
        sa.select(
            Workshop, Centre, User.name, waiting.c.waiting,
            makeup_excess(Workshop.id, utcnow()), waiting.c.paying,
        )
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(User, User.id == Workshop.instructor_id)
        .outerjoin(waiting, waiting.c.workshop_id == Workshop.id)
    )


def _rows(stmt) -> list[WorkshopRow]:
    return [
        WorkshopRow(workshop, centre, instructor or "", waiting or 0, max(0, excess or 0),
                    paying or 0)
        for workshop, centre, instructor, waiting, excess, paying in db.session.execute(stmt)
    ]


def _count_who_fits(rows: list[WorkshopRow]) -> None:
    """Split each row's waiting registrations into those whose baby fits the class's ages
    and those whose baby no longer does (`waiting.waiting_counts`): one query for every
    row with someone waiting, none when nobody waits."""
    counts = waiting_counts(
        (row.workshop for row in rows), upper={row.workshop.id: row.waiting for row in rows}
    )
    for row in rows:
        count = counts.get(row.workshop.id, NOBODY_WAITING)
        row.waiting, row.waiting_outside = count.fit, count.outside


def dashboard(centre_ids: list[int]) -> tuple[list[WorkshopRow], list[WorkshopRow]]:
    """(upcoming and running workshops, soonest first; recently ended ones, latest first)."""
    if not centre_ids:
        return [], []
    base = _workshop_rows().where(Workshop.centre_id.in_(centre_ids))
    now = utcnow()
    ended = sa.and_(Workshop.last_ends_at.is_not(None), Workshop.last_ends_at < now)
    upcoming = base.where(sa.not_(ended)).order_by(
        Workshop.first_starts_at.is_(None), Workshop.first_starts_at, Workshop.id
    )
    past = base.where(ended).order_by(Workshop.last_ends_at.desc()).limit(PAST_SHOWN)
    upcoming_rows, past_rows = _rows(upcoming), _rows(past)
    _count_who_fits(upcoming_rows + past_rows)
    return upcoming_rows, past_rows


def centre_instructors(centre_id: int) -> list[User]:
    """The instructors who teach at a centre, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.centre_id == centre_id,
                Membership.role == ROLE_INSTRUCTOR,
                User.deleted_at.is_(None),
            )
            .order_by(User.name, User.id)
        )
    )


@dataclass
class RegistrationRow:
    """A registration with its baby and parent, and its waiting-list position."""

    registration: Registration
    baby: Baby | None
    parent: User | None
    position: int | None = None


def registrations(workshop_id: int) -> tuple[list[RegistrationRow], list[RegistrationRow]]:
    """(confirmed, waiting in order with their positions) for a workshop."""
    rows = db.session.execute(
        sa.select(Registration, Baby, User)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .outerjoin(User, User.id == Registration.parent_id)
        .where(Registration.workshop_id == workshop_id)
        .where(Registration.status.in_(ACTIVE))
        .order_by(
            Registration.waitlisted_at.is_(None),
            Registration.waitlisted_at,
            Registration.confirmed_at,
            Registration.id,
        )
    )
    confirmed, waiting = [], []
    for registration, baby, parent in rows:
        row = RegistrationRow(registration, baby, parent)
        if registration.status != WAITLISTED:
            confirmed.append(row)  # confirmed, or a place held while the parent pays
        else:
            waiting.append(row)
    # Numbered as parents are told: a baby who no longer fits the ages has no number.
    positions = waitlist_positions(row.registration for row in waiting)
    for row in waiting:
        row.position = positions.get(row.registration.id)
    confirmed.sort(key=lambda r: (r.registration.confirmed_at or r.registration.created_at))
    return confirmed, waiting


def move_targets(workshop: Workshop) -> list[Workshop]:
    """Other workshops of the same centre a confirmed place could move to: published
    (a draft takes no bookings, and a move there was refused) and still to start."""
    return list(
        db.session.scalars(
            sa.select(Workshop)
            .where(
                Workshop.centre_id == workshop.centre_id,
                Workshop.id != workshop.id,
                Workshop.status == PUBLISHED,
                sa.or_(Workshop.first_starts_at.is_(None), Workshop.first_starts_at > utcnow()),
            )
            .order_by(Workshop.first_starts_at, Workshop.id)
        )
    )


def imported(workshop_ids: list[int], centre_ids: set[int] | None) -> list[WorkshopRow]:
    """The workshops an import created, in its order, of the staff member's centres
    (centre_ids None: an admin's, every centre)."""
    if not workshop_ids or centre_ids is not None and not centre_ids:
        return []
    stmt = _workshop_rows().where(Workshop.id.in_(workshop_ids))
    if centre_ids is not None:
        stmt = stmt.where(Workshop.centre_id.in_(centre_ids))
    order = {wid: i for i, wid in enumerate(workshop_ids)}
    rows = _rows(stmt)
    _count_who_fits(rows)
    return sorted(rows, key=lambda r: order[r.workshop.id])
