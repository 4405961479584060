"""Creating workshops (courses and single classes) with their weekly sessions.

`create_workshop` checks a workshop by the rules of
booking.services.schedule.workshop_input and adds it, with its sessions and topics,
to the caller's transaction (the schedule import creates many in one);
`add_workshop` is the same as a use case of its own.
"""

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession
from booking.models import workshop_topic as workshop_topic_table
from booking.models.workshop import DRAFT, PUBLISHED
from booking.services.catalogue.centres import publish_with_workshop
from booking.services.errors import Invalid
from booking.services.payments.money import to_minor
from booking.services.plans.apply import copy_template
from booking.services.plans.templates import get_template
from booking.services.schedule.clashes import lock_schedule, planned_sessions, refuse_clashes
from booking.services.schedule.workshop_input import (
    DECISION_HOURS_BEFORE,
    HELD_RELEASE_HOURS_BEFORE,
    check_workshop,
)


def add_workshop(**fields) -> Workshop:
    """Create a workshop and its sessions in a transaction of its own (see create_workshop)."""
    with write_transaction():
        workshop = create_workshop(**fields)
    return workshop


def create_workshop(
    *,
    centre_id: int,
    instructor_id: int,
    kind: str,
    title: str,
    first_session_local: datetime,
    sessions: int | None = None,
    duration_minutes: int,
    capacity: int,
    min_age_weeks: int,
    max_age_weeks: int,
    price: Decimal | str | int,
    description: str = "",
    what_to_bring: str = "",
    publish: bool = False,
    topics=(),
    min_places: int | None = None,
    held_places: int = 0,
    late_join_until: int = 1,
    cancellation_cutoff_hours: int = 24,
    room: str = "",
    payment: str | None = None,
    deposit: Decimal | str | None = None,
    refund_fee: Decimal | str | int = 0,
    plan: str = "",
    allow_clash: bool = False,
) -> Workshop:
    """Add a workshop and its weekly sessions to the current transaction.

    `first_session_local` is the centre's wall-clock time (naive); every session keeps
    that local time, also across a daylight-saving change; `sessions` may be left out
    for a single class (it has one). A room or instructor already busy at one of its
    times is refused with Clash (booking.services.schedule.clashes) unless
    `allow_clash`. `payment` is free, at_centre (the default), online
    or deposit, with a `deposit` for the last; `deposit` and `refund_fee` (the
    cancellation fee) are in major units like the price, as numbers or as typed (bare,
    or with the centre's own currency sign: another's is refused). `plan` names a plan template
    (booking.services.plans.templates) whose weeks are copied into the sessions, one
    for the workshop's kind; blank for none. Raises Invalid with
    {field: message} for every bad field. Adds and flushes, never commits: wrap calls
    in write_transaction() (one import is then all or nothing).
    """
    if not allow_clash:
        lock_schedule()  # before the centre's row: the order every schedule change keeps
    if isinstance(centre_id, int) and not isinstance(centre_id, bool):
        # One creation per centre at a time (PostgreSQL row lock; SQLite's write
        # transaction already serialises), so the duplicate check below holds.
        db.session.execute(sa.select(Centre.id).where(Centre.id == centre_id).with_for_update())
    clean, errors = check_workshop(
        {
            "centre_id": centre_id,
            "instructor_id": instructor_id,
            "kind": kind,
            "title": title,
            "first_session_local": first_session_local,
            "sessions": sessions,
            "duration_minutes": duration_minutes,
            "capacity": capacity,
            "min_age_weeks": min_age_weeks,
            "max_age_weeks": max_age_weeks,
            "price": price,
            "description": description,
            "what_to_bring": what_to_bring,
            "publish": publish,
            "topics": topics,
            "min_places": min_places,
            "held_places": held_places,
            "late_join_until": late_join_until,
            "cancellation_cutoff_hours": cancellation_cutoff_hours,
            "room": room,
            "payment": payment,
            "deposit": deposit,
            "refund_fee": refund_fee,
            "plan": plan,
        }
    )
    if errors:
        raise Invalid("Some details of the workshop need correcting.", errors)
    workshop, sessions = _build(clean)
    if clean["publish"]:  # a hidden centre appears with its first published class
        publish_with_workshop(workshop.centre_id)
    refuse_clashes(
        planned_sessions(
            workshop,
            [(s.starts_at, s.ends_at) for s in sessions],
            clean["room"],
            session_ids=[s.id for s in sessions],
        ),
        allow_clash=allow_clash,
        field="first_session_local",
    )
    return workshop


def _build(clean: dict) -> tuple[Workshop, list[WorkshopSession]]:
    times = clean["times"]
    first_start = times[0][0]
    workshop = Workshop(
        centre_id=clean["centre_id"],
        instructor_id=clean["instructor_id"],
        kind=clean["kind"],
        title=clean["title"],
        description=clean["description"],
        what_to_bring=clean["what_to_bring"],
        capacity=clean["capacity"],
        confirmed_count=0,
        min_age_weeks=clean["min_age_weeks"],
        max_age_weeks=clean["max_age_weeks"],
        price=clean["price"],
        cancellation_cutoff_hours=clean["cancellation_cutoff_hours"],
        payment_mode=clean["payment"],
        deposit=None if clean["deposit"] is None else to_minor(clean["deposit"]),
        refund_fee=to_minor(clean["refund_fee"]),
        status=PUBLISHED if clean["publish"] else DRAFT,
        min_places=clean["min_places"],
        decision_at=(
            first_start - timedelta(hours=DECISION_HOURS_BEFORE)
            if clean["min_places"]
            else None
        ),
        held_places=clean["held_places"],
        held_set=clean["held_places"],
        held_claimed=0,
        held_until=(
            first_start - timedelta(hours=HELD_RELEASE_HOURS_BEFORE)
            if clean["held_places"]
            else None
        ),
        late_join_until=clean["late_join_until"],
        first_starts_at=first_start,
        last_ends_at=times[-1][1],
    )
    db.session.add(workshop)
    db.session.flush()
    sessions = [
        WorkshopSession(
            workshop_id=workshop.id,
            number=number,
            starts_at=start,
            ends_at=end,
            room=clean["room"],
        )
        for number, (start, end) in enumerate(times, start=1)
    ]
    db.session.add_all(sessions)
    if clean["topics"]:
        db.session.execute(
            workshop_topic_table.insert(),
            [{"workshop_id": workshop.id, "topic": slug} for slug in clean["topics"]],
        )
    db.session.flush()
    if clean["plan"]:
        copy_template(workshop, get_template(clean["plan"]), sessions)
    return workshop, sessions
