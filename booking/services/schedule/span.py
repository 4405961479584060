"""A workshop's span: its sessions numbered by time, its first start and last end, and
what moves with the first start (the minimum-numbers decision, the release of held
places). Every change to a workshop's sessions ends with `refresh_span`."""

from datetime import datetime

from booking.extensions import db
from booking.models import Workshop, utcnow
from booking.models.workshop import SCHEDULED
from booking.services.booking.places import release_before_close
from booking.services.errors import Invalid
from booking.services.schedule.queries import workshop_sessions
from booking.services.schedule.workshop_input import DECISION_HOURS_BEFORE


def _refuse_a_decision_time_moved_past(workshop: Workshop, decision_at: datetime) -> None:
    """A first session brought so near that its minimum-numbers decision time, which
    moves with it, would already have passed: refused, as creating the class so near
    with a minimum is, rather than leaving the next decision run to cancel it at once."""
    now = utcnow()
    if (
        workshop.min_places is not None
        and not workshop.run_confirmed
        and decision_at <= now < workshop.decision_at
    ):
        raise Invalid(
            f"This class needs at least {workshop.min_places} booked by its decision time, "
            "which moves with the first session and would then have passed. Choose a later "
            "time, or first confirm that the class runs or remove its minimum (minimum "
            f"numbers need the first session more than {DECISION_HOURS_BEFORE} hours away).",
            {"starts_local": "Too soon for the minimum-numbers decision."},
        )


def refresh_span(workshop: Workshop) -> None:
    """Number a workshop's sessions by time and derive its span from them.

    first_starts_at and last_ends_at are the first start and last end of the scheduled
    sessions (of all of them once every one is cancelled; a workshop without sessions
    keeps its span). When the first start moves, decision_at and held_until move with it,
    and a release of held places now at or after bookings close is brought forward
    (`release_before_close`).
    Joins the caller's transaction, never commits; every change to a workshop's
    sessions ends with it, so the span is never set by hand. A move that would put an
    undecided minimum-numbers decision in the past is refused (Invalid).
    """
    sessions = workshop_sessions(workshop.id)
    if any(s.number != i for i, s in enumerate(sessions, start=1)):
        offset = len(sessions) + 1000
        for session in sessions:  # step aside first, so the unique numbers never clash
            session.number += offset
        db.session.flush()
        for i, session in enumerate(sessions, start=1):
            session.number = i
        db.session.flush()
    live = [s for s in sessions if s.status == SCHEDULED] or sessions
    if not live:
        return
    old_first = workshop.first_starts_at
    workshop.first_starts_at = min(s.starts_at for s in live)
    workshop.last_ends_at = max(s.ends_at for s in live)
    if old_first is not None and workshop.first_starts_at != old_first:
        shift = workshop.first_starts_at - old_first
        if workshop.decision_at is not None:
            _refuse_a_decision_time_moved_past(workshop, workshop.decision_at + shift)
            workshop.decision_at = workshop.decision_at + shift
        if workshop.held_until is not None:
            workshop.held_until = workshop.held_until + shift
    release_before_close(workshop)
    workshop.updated_at = utcnow()
