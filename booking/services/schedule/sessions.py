"""A workshop's sessions: add, move or cancel one; sessions numbered by time.

Each public function is one use case: it opens the write transaction, locks the
workshop row, re-checks the rules, makes the change, queues the emails through
booking.mail inside the same transaction and raises a DomainError when a rule
refuses the request (nothing is then written).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession, utcnow
from booking.models.workshop import CANCELLED, KIND_SINGLE, PUBLISHED, SCHEDULED
from booking.services.booking.waitlist import promote_waitlist
from booking.services.courses.absences import end_session_absences
from booking.services.courses.makeups import drop_makeups_into
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.notices.emails import (
    notify_makeup_session_changed,
    notify_makeup_weeks_changed,
    notify_session_changed,
)
from booking.services.notices.queries import workshop_data
from booking.services.payments.session_refunds import offer_session_refunds
from booking.services.schedule import fields as rules
from booking.services.schedule.clashes import planned_sessions, refuse_clashes
from booking.services.schedule.edit import lock_workshop_to_change, tell_makeups_dropped
from booking.services.schedule.queries import workshop_sessions
from booking.services.schedule.span import refresh_span
from booking.timefmt import format_local, local_to_utc


def _lock_session(session_id: int) -> tuple[WorkshopSession, Workshop]:
    """The session and its workshop, the workshop row-locked first; NotFound, or
    Conflict once the workshop is cancelled."""
    session = db.session.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("There is no such session.")
    workshop = lock_workshop_to_change(session.workshop_id)
    db.session.refresh(session)
    return session, workshop


def _centre_timezone(workshop: Workshop) -> str:
    return db.session.scalar(sa.select(Centre.timezone).where(Centre.id == workshop.centre_id))


def _to_utc(starts_local: datetime, tz_name: str, field: str = "starts_local") -> datetime:
    if not isinstance(starts_local, datetime):
        raise Invalid("Give the date and time the session starts.", {field: "Required."})
    if starts_local.tzinfo is not None:
        raise Invalid(
            "Give the start as the centre's wall-clock time.", {field: "No zone expected."}
        )
    try:
        rules.in_date_window(starts_local, "Start")
    except rules.FieldError as exc:
        raise Invalid(str(exc), {field: str(exc)}) from exc
    return local_to_utc(starts_local, tz_name)


def _check(rule, name: str, value):
    """The rule's clean value, or Invalid naming the field."""
    try:
        return rule(value)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {name: str(exc)}) from exc


def _check_duration(duration_minutes) -> int:
    return _check(rules.duration_minutes, "duration_minutes", duration_minutes)


def _check_room(room) -> str:
    return _check(rules.room, "room", room)


def _check_slot(
    workshop: Workshop, starts_at: datetime, ends_at: datetime, ignore_id: int | None = None
) -> None:
    if starts_at <= utcnow():
        raise Invalid(
            "A session cannot be put in the past.", {"starts_local": "Choose a future time."}
        )
    if ends_at <= starts_at:
        raise Invalid("A session must end after it starts.", {"duration_minutes": "Too short."})
    try:  # a late start with its length, or its offset from UTC, can carry it past 2999
        rules.in_date_window(ends_at, "The session's end")
    except rules.FieldError as exc:
        raise Invalid(str(exc), {"starts_local": str(exc)}) from None
    for other in workshop_sessions(workshop.id):
        if other.id == ignore_id or other.status != SCHEDULED:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise Invalid(
                f"That overlaps session {other.number} of this workshop.",
                {"starts_local": "Overlaps another session."},
            )


def add_session(
    workshop_id: int,
    starts_local: datetime,
    duration_minutes: int,
    room: str = "",
    *,
    allow_clash: bool = False,
) -> WorkshopSession:
    """Add a session at a local wall-clock time; sessions are renumbered by time, and
    once the workshop is published, every confirmed parent, every parent holding a place
    while they pay, and the instructor are told (confirmed parents with the updated
    booking). Make-up visitors of its sessions still to come
    get their updated invite ("week 2 of 5"). A room or instructor busy then is refused
    with Clash unless `allow_clash`."""
    with write_transaction():
        workshop = lock_workshop_to_change(workshop_id)
        starts_at = _to_utc(starts_local, _centre_timezone(workshop))
        minutes = _check_duration(duration_minutes)
        room = _check_room(room)
        ends_at = starts_at + timedelta(minutes=minutes)
        _check_slot(workshop, starts_at, ends_at)
        sessions = workshop_sessions(workshop.id)
        if workshop.kind == KIND_SINGLE and any(s.status == SCHEDULED for s in sessions):
            raise Conflict(
                "A single class has one session. Move that session, or create a course."
            )
        if sum(s.status == SCHEDULED for s in sessions) >= rules.MAX_COURSE_SESSIONS:
            raise Conflict(
                f"A course has at most {rules.MAX_COURSE_SESSIONS} sessions. Cancel one "
                "before adding another, or create a new course."
            )
        if workshop.status == PUBLISHED:
            _refuse_adding_before_the_last(workshop, sessions, starts_at)
        # The weeks as make-up visitors' invites show them, when anyone visits.
        visited = workshop_data(workshop.id) if any(s.makeups_taken for s in sessions) else None
        session = WorkshopSession(
            workshop_id=workshop.id,
            number=max((s.number for s in sessions), default=0) + 1,
            starts_at=starts_at,
            ends_at=ends_at,
            room=room,
            status=SCHEDULED,
            revision=0,
        )
        db.session.add(session)
        db.session.flush()
        _refuse_clashes(workshop, session, allow_clash)
        first = workshop.first_starts_at
        refresh_span(workshop)
        if workshop.status == PUBLISHED:  # a draft being put together tells nobody
            notify_session_changed(session, "added")
        if visited is not None:  # "week 2 of 4" is now "of 5" in their invites too
            notify_makeup_weeks_changed(visited, "added")
        _promote_if_the_first_moved(workshop, first)
    return session


def _promote_if_the_first_moved(workshop: Workshop, first: datetime | None) -> None:
    """Ages are measured at the first session: when it moves, a waiting baby skipped as
    too young or too old may fit now, and is given a free place (rule 6)."""
    if workshop.status == PUBLISHED and workshop.first_starts_at != first:
        promote_waitlist(workshop.id)


def _refuse_clashes(workshop: Workshop, session: WorkshopSession, allow_clash: bool) -> None:
    refuse_clashes(
        planned_sessions(
            workshop,
            [(session.starts_at, session.ends_at)],
            session.room,
            session_ids=[session.id],
            numbers=[session.number],
        ),
        allow_clash=allow_clash,
    )


def _refuse_overtaking(workshop: Workshop, session: WorkshopSession, starts_at) -> None:
    """A published course's weeks are known by number ("week 2 of 5"): a session moved
    past another would swap their numbers under the families, while only the moved one
    is announced. Refused, naming the way that works."""
    passed = [
        other for other in workshop_sessions(workshop.id)
        if other.id != session.id
        and min(session.starts_at, starts_at) < other.starts_at < max(session.starts_at, starts_at)
    ]
    if passed:
        other = passed[0] if starts_at < session.starts_at else passed[-1]
        when = format_local(other.starts_at, _centre_timezone(workshop))
        message = (
            f"Session {session.number} cannot move past session {other.number} ({when}): "
            "the sessions would be renumbered under families who know them by number. Move "
            "it no further than that, or cancel it and add a session after the last one "
            "if the course needs another week."
        )
        raise Invalid(message, {"starts_local": message})


def _refuse_adding_before_the_last(
    workshop: Workshop, sessions: list[WorkshopSession], starts_at: datetime
) -> None:
    """A session added to a published course before its last one (cancelled or not)
    would renumber the weeks after it under families who know them by number, and move
    those weeks' plans and make-up credits onto other sessions. Refused, naming the
    way that works."""
    last = max(sessions, key=lambda s: s.starts_at, default=None)
    if last is not None and starts_at < last.starts_at:
        when = format_local(last.starts_at, _centre_timezone(workshop))
        message = (
            f"A published course's new session goes after its last one (session "
            f"{last.number}, {when}): the sessions after it would be renumbered under "
            "families who know them by number. Choose a later time, or move an existing "
            "session instead."
        )
        raise Invalid(message, {"starts_local": message})


def _refuse_if_started(session: WorkshopSession) -> None:
    if session.starts_at <= utcnow():
        raise Conflict("This session has already started; it can no longer be changed.")


class SessionChanged(Conflict):
    """A change sent from a page showing an earlier revision of the session."""

    def __init__(self, message: str, revision: int):
        super().__init__(message)
        self.revision = revision


def move_session(
    session_id: int,
    starts_local: datetime | None,
    duration_minutes: int | None = None,
    room: str | None = None,
    *,
    allow_clash: bool = False,
    seen_revision: int | None = None,
    precondition: Callable[[], None] | None = None,
) -> WorkshopSession:
    """Move a session (local wall-clock time) and/or change its room; everyone is told
    once the workshop is published (a draft being put together tells nobody).

    None keeps the current start, duration or room. A room or instructor busy at the
    new time is refused with Clash unless `allow_clash`. The revision goes up once when
    anything changes; a change of time is a "moved" email, of room only a "room" one.
    `seen_revision`, the revision the sender's page showed: a session changed since is
    refused (SessionChanged, with the time and room it has now), so a page left open
    does not put back what someone else changed. `precondition` runs once the workshop
    is locked, before anything is judged; what it raises refuses the change (the API's
    If-Match).
    """
    with write_transaction():
        session, workshop = _lock_session(session_id)
        if precondition is not None:
            precondition()
        if session.status == CANCELLED:
            raise Conflict("This session is cancelled; add a new session instead.")
        if seen_revision is not None and seen_revision != session.revision:
            when = format_local(session.starts_at, _centre_timezone(workshop))
            where = f", room: {session.room}" if session.room else ""
            raise SessionChanged(
                f"This session was changed since you opened this page: it is now on "
                f"{when}{where}. Check your change against it, then save again if it "
                "still stands.",
                session.revision,
            )
        _refuse_if_started(session)
        current_minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
        starts_at = (
            session.starts_at
            if starts_local is None
            else _to_utc(starts_local, _centre_timezone(workshop))
        )
        minutes = current_minutes if duration_minutes is None else _check_duration(
            duration_minutes
        )
        new_room = session.room if room is None else _check_room(room)
        ends_at = starts_at + timedelta(minutes=minutes)
        time_changed = starts_at != session.starts_at or ends_at != session.ends_at
        room_changed = new_room != session.room
        if not time_changed and not room_changed:
            return session
        if time_changed:
            _check_slot(workshop, starts_at, ends_at, ignore_id=session.id)
            if workshop.status == PUBLISHED:
                _refuse_overtaking(workshop, session, starts_at)
        session.starts_at = starts_at
        session.ends_at = ends_at
        session.room = new_room
        session.revision += 1
        session.updated_at = utcnow()
        db.session.flush()
        _refuse_clashes(workshop, session, allow_clash)
        first = workshop.first_starts_at
        refresh_span(workshop)
        kind = "moved" if time_changed else "room"
        if workshop.status == PUBLISHED:  # a draft being put together tells nobody
            notify_session_changed(session, kind)
        # ... but a family visiting with a make-up (taken while it was published) is told.
        notify_makeup_session_changed(session, kind)
        _promote_if_the_first_moved(workshop, first)
    return session


def cancel_session(
    session_id: int, precondition: Callable[[], None] | None = None
) -> WorkshopSession:
    """Cancel one session of a workshop; everyone confirmed or holding a place while they
    pay, and the instructor, are told once the workshop is published.

    Families who paid online for the course choose, from that email, a make-up credit
    for the week or a refund of the session's share (refund rows awaiting their choice,
    written here; see booking.services.payments.session_refunds). `precondition` runs
    once the workshop is locked, before anything is judged (see move_session).
    """
    with write_transaction():
        session, workshop = _lock_session(session_id)
        if precondition is not None:
            precondition()
        if session.status == CANCELLED:
            raise Conflict("This session is already cancelled.")
        _refuse_if_started(session)
        others = [
            s
            for s in workshop_sessions(workshop.id)
            if s.status == SCHEDULED and s.id != session.id
        ]
        if not others:
            raise Conflict(
                "This is the workshop's only remaining session: cancel the workshop "
                "instead, so that every booking is cancelled and everyone is told."
            )
        session.status = CANCELLED
        session.revision += 1
        session.updated_at = session.cancelled_at = utcnow()
        db.session.flush()
        end_session_absences(session.id)
        dropped = drop_makeups_into(session_id=session.id)
        first = workshop.first_starts_at
        refresh_span(workshop)
        choices = offer_session_refunds(workshop, session)
        if workshop.status == PUBLISHED:  # a draft being put together tells nobody
            # Its make-up visitors were taken out just now; each is told below.
            notify_session_changed(session, "cancelled", choices, visitors=len(dropped))
        tell_makeups_dropped(dropped, "that session was cancelled")
        if dropped and workshop.status == PUBLISHED:
            # Make-up visitors no longer take seats there: a family waiting may fit now.
            promote_waitlist(workshop.id)
        else:
            _promote_if_the_first_moved(workshop, first)
    return session
