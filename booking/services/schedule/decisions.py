"""`run-decisions`: the decisions a course needs at set times, safe to run from cron.

- Minimum numbers (rule 12): at its decision time, a published workshop below
  `min_places` that staff have not confirmed is cancelled, everyone is told and
  each baby is offered classes that would fit instead. One that has its minimum
  at the decision time is marked `run_confirmed`, so the decision is made once.
- Late joining (rule 10): once a course can no longer be joined (session
  `late_join_until` has started), its waiting list is closed: each waiting
  parent is emailed the next classes that fit their baby and the entry is
  cancelled with the reason "waiting list closed".

Every workshop is decided in its own write transaction, after locking its row
and checking again, so running the command twice, or twice at once, changes
and emails nothing more. Other areas add their own timed steps to
`DECISION_STEPS` (each a callable taking `now` and returning a count).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Registration, Workshop
from booking.models.registration import CANCELLED, CONFIRMED, WAITLISTED
from booking.models.workshop import CANCELLED as CANCELLED_WORKSHOP
from booking.models.workshop import PUBLISHED
from booking.services.booking import referrals
from booking.services.booking.places import booking_closes_at, lock_workshop, utc_now
from booking.services.errors import Conflict, Invalid
from booking.services.notices.emails import notify_waitlist_closed
from booking.services.schedule.edit import apply_workshop_cancellation

UNDER_MINIMUM_REASON = "Not enough bookings for the class to run"
WAITLIST_CLOSED_REASON = "waiting list closed"
@dataclass
class DecisionReport:
    """What one run decided."""

    cancelled: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    waitlists_closed: dict[int, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)


def due_minimum_decisions(now: datetime) -> list[int]:
    """Ids of published workshops whose minimum-numbers decision is due and not made."""
    return list(
        db.session.scalars(
            sa.select(Workshop.id)
            .where(
                Workshop.status == PUBLISHED,
                Workshop.min_places.is_not(None),
                Workshop.run_confirmed.is_(False),
                Workshop.decision_at <= now,
                Workshop.first_starts_at > now,
            )
            .order_by(Workshop.decision_at, Workshop.id)
        )
    )


def decide_minimum(workshop_id: int, now: datetime | None = None) -> str:
    """Decide one workshop: 'cancelled', 'confirmed' or 'skipped' (already decided)."""
    now = now or utc_now()
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        if (
            workshop.status != PUBLISHED
            or workshop.min_places is None
            or workshop.run_confirmed
            or workshop.decision_at is None
            or workshop.decision_at > now
            or workshop.first_starts_at is None
            or workshop.first_starts_at <= now
        ):
            return "skipped"
        if confirmed_places(workshop.id) >= workshop.min_places:
            workshop.run_confirmed = True
            return "confirmed"
        apply_workshop_cancellation(workshop, UNDER_MINIMUM_REASON)
        return "cancelled"


def due_waitlist_closures(now: datetime) -> list[int]:
    """Ids of published workshops with people waiting whose joining may have closed."""
    return list(
        db.session.scalars(
            sa.select(Workshop.id)
            .where(
                Workshop.status == PUBLISHED,
                Workshop.first_starts_at <= now,
                sa.exists().where(
                    Registration.workshop_id == Workshop.id, Registration.status == WAITLISTED
                ),
            )
            .order_by(Workshop.id)
        )
    )


def close_waitlist(workshop_id: int, now: datetime | None = None) -> int:
    """Close a course's waiting list once it can no longer be joined; returns how many
    waiting entries were cancelled (0 when still open or already closed)."""
    now = now or utc_now()
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        if workshop.status != PUBLISHED:
            return 0
        closes = booking_closes_at(workshop)
        if closes is None or closes > now:
            return 0
        waiting = list(
            db.session.scalars(
                sa.select(Registration)
                .where(Registration.workshop_id == workshop.id, Registration.status == WAITLISTED)
                .order_by(Registration.waitlisted_at, Registration.id)
            )
        )
        for registration in waiting:
            registration.status = CANCELLED
            registration.cancelled_at = now
            registration.cancel_reason = WAITLIST_CLOSED_REASON
            registration.invite_sequence += 1
            db.session.flush()
            notify_waitlist_closed(registration, now)
        return len(waiting)


# Further timed steps, run after the decisions above, in order: (name, step(now) -> count).
DECISION_STEPS: list[tuple[str, Callable[[datetime], int]]] = [
    ("held places released", referrals.release_held_places),
]


def run_decisions(now: datetime | None = None) -> DecisionReport:
    """Make every decision that is due; safe to run again or at the same time."""
    now = now or utc_now()
    report = DecisionReport()
    for workshop_id in due_minimum_decisions(now):
        outcome = decide_minimum(workshop_id, now)
        if outcome == "cancelled":
            report.cancelled.append(workshop_id)
        elif outcome == "confirmed":
            report.confirmed.append(workshop_id)
    db.session.rollback()
    for workshop_id in due_waitlist_closures(now):
        closed = close_waitlist(workshop_id, now)
        if closed:
            report.waitlists_closed[workshop_id] = closed
    db.session.rollback()
    for name, step in DECISION_STEPS:
        report.steps[name] = step(now)
    return report




def confirm_run(workshop_id: int) -> Workshop:
    """Staff confirm a workshop will run whatever its numbers: it is never cancelled
    for being below its minimum. Confirming again changes nothing."""
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        if workshop.status == CANCELLED_WORKSHOP:
            raise Conflict("This class is cancelled, so it cannot be confirmed to run.")
        if workshop.min_places is None:
            raise Invalid("This class has no minimum number, so it always runs.")
        workshop.run_confirmed = True
    return workshop


def confirmed_places(workshop_id: int) -> int:
    """The workshop's confirmed places, as its minimum is decided on: places still held
    while families pay do not count (they may never be paid)."""
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.workshop_id == workshop_id, Registration.status == CONFIRMED
        )
    )


def is_at_risk(workshop: Workshop) -> bool:
    """Below its minimum, not confirmed to run, and not yet decided or cancelled."""
    return workshop.at_risk(confirmed_places(workshop.id))
