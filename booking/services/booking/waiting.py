"""Who waits for a place, and which of them a waiting list counts.

A waiting list counts the babies who fit the class's ages now (rule 2,
`places.eligibility`): a baby who no longer fits (the ages narrowed, the first session
moved) is skipped when a place comes free (rule 6), so positions, the class page, the
catalogue, the API and the back office all leave them out of the line, from the same
rows read here.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Registration, Workshop
from booking.models.people import eligible_age_weeks
from booking.models.registration import WAITLISTED
from booking.services.booking.places import eligibility, first_session_day, in_age_range


def waiting_order():
    """First come, first served: by the time of joining, then by id."""
    return (Registration.waitlisted_at, Registration.id)


@dataclass(frozen=True)
class WaitingCount:
    """A workshop's waiting list in numbers."""

    fit: int = 0  # waiting babies who fit the class's ages: the line positions count
    outside: int = 0  # waiting, but the baby no longer fits the ages (skipped)


NOBODY_WAITING = WaitingCount()


def waiting_in_order(workshops: Iterable[Workshop]) -> Iterator[tuple[int, int, bool]]:
    """(registration id, workshop id, whether its baby fits the class's ages now) for
    every waiting registration of the workshops, each workshop's in waiting order, in
    one query (none for no workshop). The workshops are used as given (their ages,
    first session and centre)."""
    by_id = {workshop.id: workshop for workshop in workshops}
    if not by_id:
        return
    rows = db.session.execute(
        sa.select(Registration.id, Registration.workshop_id, Baby)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .where(Registration.workshop_id.in_(list(by_id)), Registration.status == WAITLISTED)
        .order_by(Registration.workshop_id, *waiting_order())
    ).all()
    for registration_id, workshop_id, baby in rows:
        yield registration_id, workshop_id, eligibility(baby, by_id[workshop_id]).eligible


def waiting_counts(
    workshops: Iterable[Workshop], upper: Mapping[int, int] | None = None
) -> dict[int, WaitingCount]:
    """How many wait for each workshop, fitting its ages or not, by workshop id.

    `upper`: how many registrations wait for each (a plain SQL count, read with the
    workshops): only those with someone waiting are read, in one query, and none when
    nobody waits anywhere. Without it every workshop given is read. The babies' dates
    are read grouped, not the babies (a listing of full classes has hundreds waiting),
    and judged by the rule `eligibility` applies (`eligible_age_weeks`, `in_age_range`)."""
    workshops = list(workshops)
    if upper is not None:
        workshops = [w for w in workshops if upper.get(w.id)]
    by_id = {workshop.id: workshop for workshop in workshops}
    if not by_id:
        return {}
    rows = db.session.execute(
        sa.select(Registration.workshop_id, Baby.date_of_birth, Baby.due_date,
                  sa.func.count(Registration.id))
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .where(Registration.workshop_id.in_(list(by_id)), Registration.status == WAITLISTED)
        .group_by(Registration.workshop_id, Baby.date_of_birth, Baby.due_date)
    ).all()
    days = {workshop_id: first_session_day(w) for workshop_id, w in by_id.items()}
    counts = {workshop_id: [0, 0] for workshop_id in by_id}
    for workshop_id, born, due, waiting in rows:
        day = days[workshop_id]
        fits = (
            born is not None and day is not None
            and in_age_range(eligible_age_weeks(born, due, day), by_id[workshop_id])
        )
        counts[workshop_id][0 if fits else 1] += waiting
    return {
        workshop_id: WaitingCount(fit, outside)
        for workshop_id, (fit, outside) in counts.items()
    }
