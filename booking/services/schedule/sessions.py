"""Schedule changes by centre staff: edit, publish, cancel workshops; add, move, cancel sessions.

Each public function is one use case: it opens the write transaction, locks the
workshop row, re-checks the rules, makes the change, queues the emails through
booking.mail.notify inside the same transaction and raises a DomainError when a
rule refuses the request (nothing is then written).
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.mail.notify import notify_session_changed, notify_workshop_cancelled
from booking.mail.notify_makeups import notify_makeup_cancelled, notify_makeup_session_changed
from booking.models import Centre, Registration, Workshop, WorkshopSession, utcnow
from booking.models.registration import CANCELLED as REG_CANCELLED
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import CANCELLED, DRAFT, KIND_SINGLE, PUBLISHED, SCHEDULED
from booking.services.booking.waitlist import apply_capacity_change, promote_waitlist
from booking.services.courses.makeups import (
    drop_makeups_into,
    end_registration_absences,
    end_session_absences,
)
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule import fields as rules
from booking.services.schedule.workshops import (
    DECISION_HOURS_BEFORE,
    create_workshop,
    instructor_at,
)
from booking.timefmt import local_to_utc

EDITABLE_FIELDS = (
    "title",
    "description",
    "what_to_bring",
    "min_age_weeks",
    "max_age_weeks",
    "price",
    "cancellation_cutoff_hours",
    "instructor_id",
    "min_places",
    "decision_at",
    "run_confirmed",
    "late_join_until",
)


def lock_workshop(workshop_id: int) -> Workshop:
    """The workshop, row-locked for the rest of the transaction (PostgreSQL), or NotFound."""
    workshop = db.session.scalar(
        sa.select(Workshop).where(Workshop.id == workshop_id).with_for_update()
    )
    if workshop is None:
        raise NotFound("There is no such workshop.")
    return workshop


def workshop_sessions(workshop_id: int) -> list[WorkshopSession]:
    """A workshop's sessions in time order."""
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        )
    )


def _lock_session(session_id: int) -> tuple[WorkshopSession, Workshop]:
    session = db.session.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("There is no such session.")
    workshop = lock_workshop(session.workshop_id)
    db.session.refresh(session)
    return session, workshop


def _centre_timezone(workshop: Workshop) -> str:
    return db.session.scalar(sa.select(Centre.timezone).where(Centre.id == workshop.centre_id))


def _refuse_if_cancelled(workshop: Workshop) -> None:
    if workshop.status == CANCELLED:
        raise Conflict("This workshop has been cancelled; it can no longer be changed.")


def _apply(rule, fields: dict, errors: dict, name: str, *args):
    """The rule's clean value of fields[name], or None with the refusal recorded."""
    try:
        return rule(fields[name], *args)
    except rules.FieldError as exc:
        errors[name] = str(exc)
        return None


def _session_count(workshop: Workshop) -> int:
    return db.session.scalar(
        sa.select(sa.func.max(WorkshopSession.number)).where(
            WorkshopSession.workshop_id == workshop.id
        )
    ) or 1


def _clean_decision_fields(
    workshop: Workshop, fields: dict, clean: dict, errors: dict, capacity
) -> None:
    """Minimum numbers (min_places, decision_at, run_confirmed) and late joining.

    The same rules as creating a workshop: a minimum from 1 to the capacity,
    decided at `decision_at` (an aware time, in the future and before the first
    session; 48 hours before it by default), and late joining until one of the
    workshop's sessions. run_confirmed needs a minimum, and cannot be taken back
    once the decision time has passed.
    """
    now = utcnow()
    first = workshop.first_starts_at
    if "late_join_until" in fields:
        clean["late_join_until"] = _apply(
            rules.late_join_until, fields, errors, "late_join_until", _session_count(workshop)
        )
    minimum = workshop.min_places
    if "min_places" in fields:
        places = capacity if isinstance(capacity, int) else workshop.capacity
        minimum = _apply(rules.min_places, fields, errors, "min_places", places)
        clean["min_places"] = minimum
    decision = workshop.decision_at
    if "decision_at" in fields:
        value = fields["decision_at"]
        if not isinstance(value, datetime) or value.tzinfo is None:
            errors["decision_at"] = "Give the decision time as a date and time with its offset."
        elif minimum is None:
            errors["decision_at"] = "A decision time goes with a minimum number (min_places)."
        else:
            try:
                decision = value.astimezone(UTC)
            except (OverflowError, ValueError):
                decision = None
            if decision is None:
                errors["decision_at"] = "That decision time is out of range."
            elif decision <= now:
                errors["decision_at"] = "The decision time must be in the future."
            elif first is not None and decision >= first:
                errors["decision_at"] = "The decision time must be before the first session."
            clean["decision_at"] = decision
    elif "min_places" in fields and minimum is not None and workshop.min_places is None:
        decision = first - timedelta(hours=DECISION_HOURS_BEFORE) if first else None
        if decision is None or decision <= now:
            errors.setdefault("min_places", (
                f"Minimum numbers need the first session more than {DECISION_HOURS_BEFORE}"
                " hours away, so there is time to decide (or give a decision_at)."
            ))
        clean["decision_at"] = decision
    if "min_places" in fields and minimum is None:
        clean["decision_at"] = None
        clean["run_confirmed"] = False
    if "run_confirmed" in fields:
        value = fields["run_confirmed"]
        if not isinstance(value, bool):
            errors["run_confirmed"] = "run_confirmed must be true or false."
        elif value and minimum is None:
            errors["run_confirmed"] = "This class has no minimum number, so it always runs."
        elif not value and workshop.run_confirmed and (decision is None or decision <= now):
            errors["run_confirmed"] = (
                "The decision time has passed, so the class stays confirmed to run."
            )
        else:
            clean["run_confirmed"] = value


def _clean_updates(workshop: Workshop, fields: dict, capacity=None) -> dict:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        errors = {name: "This cannot be changed here." for name in unknown}
        if "capacity" in unknown:
            errors["capacity"] = "Capacity is changed on its own, so waiting parents move up."
        if "kind" in unknown:
            errors["kind"] = "A workshop's kind cannot change once created."
        raise Invalid("Some details cannot be changed this way.", errors)
    errors: dict[str, str] = {}
    clean: dict = {}
    for name, rule in (
        ("title", rules.title),
        ("description", rules.description),
        ("what_to_bring", rules.what_to_bring),
        ("min_age_weeks", rules.min_age_weeks),
        ("cancellation_cutoff_hours", rules.cancellation_cutoff_hours),
        ("price", rules.price),
    ):
        if name in fields:
            clean[name] = _apply(rule, fields, errors, name)
    if "max_age_weeks" in fields or "min_age_weeks" in fields:
        low = clean.get("min_age_weeks", workshop.min_age_weeks)
        oldest = {"max_age_weeks": fields.get("max_age_weeks", workshop.max_age_weeks)}
        if "min_age_weeks" not in errors:
            clean["max_age_weeks"] = _apply(
                rules.max_age_weeks, oldest, errors, "max_age_weeks", low
            )
    if "instructor_id" in fields:
        instructor = instructor_at(fields["instructor_id"], workshop.centre_id)
        if instructor is None:
            errors["instructor_id"] = rules.NOT_AN_INSTRUCTOR
        else:
            clean["instructor_id"] = instructor.id
    _clean_decision_fields(workshop, fields, clean, errors, capacity)
    if errors:
        raise Invalid("Some details need correcting.", errors)
    return clean


def update_workshop(workshop_id: int, **fields) -> Workshop:
    """Change a workshop's details (not its kind, and capacity only via change_capacity).

    Fields: title, description, what_to_bring, min_age_weeks, max_age_weeks, price,
    cancellation_cutoff_hours, instructor_id (an instructor at the workshop's centre),
    min_places, decision_at (an aware datetime), run_confirmed and late_join_until.
    """
    return update_workshop_and_capacity(workshop_id, None, **fields)


def update_workshop_and_capacity(workshop_id: int, new_capacity, **fields) -> Workshop:
    """Change a workshop's details and, unless `new_capacity` is None, its capacity, in
    one transaction (the staff API's PATCH): nothing changes when any of it is refused.

    The details follow update_workshop; the capacity follows change_capacity (waiting
    parents move up; CapacityRefused below the people already holding seats), and the
    minimum is checked against the new capacity.
    """
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        _refuse_if_cancelled(workshop)
        changes = _clean_updates(workshop, fields, new_capacity)
        reopened = changes.get("late_join_until", workshop.late_join_until) > (
            workshop.late_join_until or 1
        )
        for name, value in changes.items():
            setattr(workshop, name, value)
        workshop.updated_at = utcnow()
        db.session.flush()
        if new_capacity is not None:
            apply_capacity_change(workshop, new_capacity)
        elif reopened:
            promote_waitlist(workshop.id)
    return workshop


def publish_workshop(workshop_id: int) -> Workshop:
    """Make a draft workshop bookable; it needs at least one scheduled session."""
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        _refuse_if_cancelled(workshop)
        if workshop.status == PUBLISHED:
            return workshop
        if not any(s.status == SCHEDULED for s in workshop_sessions(workshop.id)):
            raise Conflict("A workshop needs at least one scheduled session to be published.")
        workshop.status = PUBLISHED
        workshop.updated_at = utcnow()
    return workshop


def active_counts(workshop_id: int) -> tuple[int, int]:
    """(confirmed, waiting) registrations of a workshop."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count())
        .where(Registration.workshop_id == workshop_id)
        .where(Registration.status.in_((CONFIRMED, WAITLISTED)))
        .group_by(Registration.status)
    ).all()
    counts = dict(rows)
    return counts.get(CONFIRMED, 0), counts.get(WAITLISTED, 0)


def unpublish_workshop(workshop_id: int) -> Workshop:
    """Take a published workshop back to draft; refused while anyone is booked or waiting."""
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        _refuse_if_cancelled(workshop)
        if workshop.status == DRAFT:
            return workshop
        confirmed, waiting = active_counts(workshop.id)
        if confirmed or waiting:
            raise Conflict(
                f"It cannot go back to draft: {confirmed} booked and {waiting} waiting. "
                "Cancel the workshop instead (everyone is told), or cancel or move "
                "their registrations first."
            )
        workshop.status = DRAFT
        workshop.updated_at = utcnow()
    return workshop


def cancel_workshop(workshop_id: int, reason: str = "") -> Workshop:
    """Cancel a workshop: every registration and session cancelled, everyone told."""
    try:
        reason = rules.cancel_reason(reason)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {"reason": str(exc)}) from exc
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        _refuse_if_cancelled(workshop)
        apply_workshop_cancellation(workshop, reason)
    return workshop


def apply_workshop_cancellation(workshop: Workshop, reason: str = "") -> list[Registration]:
    """Inside an open write transaction, on a locked workshop: cancel its registrations
    and sessions and tell everyone. Absences from its sessions stop counting (their
    unused credits withdrawn) and make-ups booked into them are removed, their
    credits usable again. Returns the registrations it ended."""
    require_transaction("Cancelling a workshop")
    now = utcnow()
    registrations = list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop.id)
            .where(Registration.status.in_((CONFIRMED, WAITLISTED)))
            .order_by(Registration.id)
        )
    )
    for registration in registrations:
        if registration.status == CONFIRMED:
            end_registration_absences(registration.id, now)
        registration.status = REG_CANCELLED
        registration.cancelled_at = now
        registration.cancel_reason = reason or "The centre cancelled the workshop."
        registration.invite_sequence += 1
    for session in workshop_sessions(workshop.id):
        if session.status != CANCELLED:
            session.status = CANCELLED
            session.revision += 1
            session.updated_at = now
    dropped = drop_makeups_into(workshop_id=workshop.id, now=now)
    workshop.confirmed_count = 0
    workshop.status = CANCELLED
    workshop.updated_at = now
    db.session.flush()
    notify_workshop_cancelled(workshop, registrations, reason=reason)
    _tell_makeups(dropped, "the class was cancelled")
    return registrations


def _tell_makeups(dropped, why: str) -> None:
    for makeup in dropped:
        notify_makeup_cancelled(
            parent_id=makeup.parent_id,
            baby_id=makeup.baby_id,
            session_id=makeup.session_id,
            credit_id=makeup.credit_id,
            why=why,
        )


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
    for other in workshop_sessions(workshop.id):
        if other.id == ignore_id or other.status != SCHEDULED:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise Invalid(
                f"That overlaps session {other.number} of this workshop.",
                {"starts_local": "Overlaps another session."},
            )


def _renumber_and_span(workshop: Workshop) -> None:
    """Number sessions by time and keep first_starts_at, last_ends_at and decision_at right."""
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
            workshop.decision_at = workshop.decision_at + shift
        if workshop.held_until is not None:
            workshop.held_until = workshop.held_until + shift
    workshop.updated_at = utcnow()


def add_session(
    workshop_id: int, starts_local: datetime, duration_minutes: int, room: str = ""
) -> WorkshopSession:
    """Add a session at a local wall-clock time; sessions are renumbered by time, and
    once the workshop is published, every confirmed parent and the instructor are told
    (parents with the updated booking)."""
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        _refuse_if_cancelled(workshop)
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
        _renumber_and_span(workshop)
        if workshop.status == PUBLISHED:  # a draft being put together tells nobody
            notify_session_changed(session, "added")
    return session


def _refuse_if_started(session: WorkshopSession) -> None:
    if session.starts_at <= utcnow():
        raise Conflict("This session has already started; it can no longer be changed.")


def move_session(
    session_id: int,
    starts_local: datetime | None,
    duration_minutes: int | None = None,
    room: str | None = None,
) -> WorkshopSession:
    """Move a session (local wall-clock time) and/or change its room; everyone is told.

    None keeps the current start, duration or room. The revision goes up once when
    anything changes; a change of time is a "moved" email, of room only a "room" one.
    """
    with write_transaction():
        session, workshop = _lock_session(session_id)
        _refuse_if_cancelled(workshop)
        if session.status == CANCELLED:
            raise Conflict("This session is cancelled; add a new session instead.")
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
        session.starts_at = starts_at
        session.ends_at = ends_at
        session.room = new_room
        session.revision += 1
        session.updated_at = utcnow()
        db.session.flush()
        _renumber_and_span(workshop)
        kind = "moved" if time_changed else "room"
        notify_session_changed(session, kind)
        notify_makeup_session_changed(session, kind)
    return session


def cancel_session(session_id: int) -> WorkshopSession:
    """Cancel one session of a workshop; everyone confirmed and the instructor are told."""
    with write_transaction():
        session, workshop = _lock_session(session_id)
        _refuse_if_cancelled(workshop)
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
        session.updated_at = utcnow()
        db.session.flush()
        end_session_absences(session.id)
        dropped = drop_makeups_into(session_id=session.id)
        _renumber_and_span(workshop)
        notify_session_changed(session, "cancelled")
        _tell_makeups(dropped, "that session was cancelled")
    return session


def add_workshop(**fields) -> Workshop:
    """Create a workshop and its sessions in a transaction of its own (see create_workshop)."""
    with write_transaction():
        workshop = create_workshop(**fields)
    return workshop
