"""A centre's name, address or time zone changed: the place, or the local time, of
every session still to come there.

Booking rule 8 (PRODUCT.md): a change of a session's place or time bumps its revision,
updates every calendar and emails everyone confirmed and the instructor. A centre's name
and address are every one of its sessions' LOCATION, so a change to them is that change
for each session still to come in its published classes. A new time zone keeps every
session's moment in time unless staff ask to keep their local times (`keep_local_times`):
then each session still to come moves, and that is the change.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop, WorkshopSession, utcnow
from booking.models.workshop import CANCELLED, PUBLISHED, SCHEDULED
from booking.services.booking.places import lock_workshop
from booking.services.booking.waitlist import promote_waitlist
from booking.services.errors import Conflict, Invalid
from booking.services.notices.emails import (
    notify_makeup_session_changed,
    notify_session_changed,
)
from booking.services.schedule.clashes import busy_sessions, refuse_clashes
from booking.services.schedule.span import refresh_span
from booking.timefmt import format_local, local_to_utc, to_local


def _upcoming(now: datetime):
    """SQL: a session still to come in a published class."""
    return sa.and_(
        Workshop.status == PUBLISHED,
        WorkshopSession.status == SCHEDULED,
        WorkshopSession.starts_at > now,
    )


def lock_venue_classes(
    centre_id: int, now: datetime | None = None, *, drafts: bool = False
) -> list[int]:
    """Inside the caller's write transaction, before it locks the centre: lock each
    published class of the centre with sessions still to come (with `drafts`, every
    class not cancelled with any session still to come), in id order, as a class is
    locked before its sessions change, and return their ids."""
    now = now or utcnow()
    upcoming = (
        sa.and_(Workshop.status != CANCELLED, WorkshopSession.starts_at > now)
        if drafts else _upcoming(now)
    )
    ids = list(db.session.scalars(
        sa.select(Workshop.id).distinct()
        .join(WorkshopSession, WorkshopSession.workshop_id == Workshop.id)
        .where(Workshop.centre_id == centre_id, upcoming)
        .order_by(Workshop.id)
    ))
    for workshop_id in ids:
        lock_workshop(workshop_id)
    return ids


@dataclass(frozen=True)
class KeptTimes:
    """What `keep_local_times` told: the classes whose families and instructor were
    emailed, and the sessions whose make-up visitors were."""

    classes: frozenset[int] = frozenset()
    sessions: frozenset[int] = frozenset()


def raise_venue_revisions(
    workshop_ids: list[int], now: datetime | None = None
) -> list[WorkshopSession]:
    """Inside the caller's write transaction, which has locked these classes
    (`lock_venue_classes`) and changed their centre: raise the revision of each of their
    sessions still to come (checked again under the locks; published classes only), and
    return those sessions, to be told with `tell_venue_changed`."""
    now = now or utcnow()
    table = WorkshopSession.__table__
    bumped = set(db.session.scalars(
        sa.update(table)
        .where(
            table.c.workshop_id.in_(workshop_ids),
            table.c.status == SCHEDULED,
            table.c.starts_at > now,
            table.c.workshop_id.in_(
                sa.select(Workshop.id).where(Workshop.status == PUBLISHED)
            ),
        )
        .values(revision=table.c.revision + 1, updated_at=now)
        .returning(table.c.id)
    ))
    if not bumped:
        return []
    return list(db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.id.in_(bumped))
        .order_by(WorkshopSession.workshop_id, WorkshopSession.starts_at)
        .execution_options(populate_existing=True)
    ))


def tell_venue_changed(
    upcoming: list[WorkshopSession], already: KeptTimes | None = None
) -> int:
    """After `raise_venue_revisions`: each class of these sessions has its confirmed
    families and instructor emailed with their updated invites, once for all its weeks
    (families holding a place while they pay, with none: theirs comes when they pay),
    and each family making up a week in them is emailed too. Those `already` told in
    the same change (their sessions kept their local times in a new time zone, and that
    email says where the class meets) are not emailed twice. Returns how many classes
    were told, by either email."""
    already = already or KeptTimes()
    told = set()
    for session in upcoming:
        if session.workshop_id not in told:
            told.add(session.workshop_id)
            if session.workshop_id not in already.classes:
                notify_session_changed(session, "venue")  # one email per family, all weeks
        if session.id not in already.sessions:
            notify_makeup_session_changed(session, "venue")
    return len(told)


def _same_local_time(instant: datetime, old_zone: str, new_zone: str) -> datetime:
    """The instant that shows in `new_zone` the wall-clock time `instant` shows in
    `old_zone` (a time in the new zone's spring-forward gap moves forward, as a time
    typed there does: `local_to_utc`)."""
    return local_to_utc(to_local(instant, old_zone).replace(tzinfo=None, fold=0), new_zone)


def keep_local_times(
    workshop_ids: list[int], old_zone: str, new_zone: str, now: datetime | None = None,
    *, allow_clash: bool = False,
) -> KeptTimes:
    """Inside the caller's write transaction, which has locked these classes
    (`lock_venue_classes` with `drafts`) and is giving their centre `new_zone` instead of
    `old_zone`: move every session of theirs still to come (cancelled ones too, so they
    keep showing where they were) to the instant that shows the same local time in the
    new zone, keeping its length, with its revision raised. Each class's span, decision
    time and release of held places move with its first session (`refresh_span`).
    Families booked in a published class (confirmed, or holding a place while they pay),
    its instructor and make-up visitors are emailed once per class, with their updated
    invites; a draft tells nobody. Returns the classes and sessions told.

    Refused (Conflict, under `timezone`) when a session would then have started
    already, or a minimum-numbers decision still to be made would then have passed;
    and (Clash, unless `allow_clash`) when a session moved would then clash with
    another: its instructor teaching elsewhere then, or too close to travel. Nothing is
    changed. The caller holds the schedule lock (`clashes.lock_schedule`)."""
    now = now or utcnow()
    sessions = list(db.session.scalars(
        sa.select(WorkshopSession)
        .where(WorkshopSession.workshop_id.in_(workshop_ids), WorkshopSession.starts_at > now)
        .order_by(WorkshopSession.workshop_id, WorkshopSession.starts_at)
        .execution_options(populate_existing=True)
    ))
    workshops = {w.id: w for w in (db.session.get(Workshop, i) for i in workshop_ids)}
    moved: dict[int, list[WorkshopSession]] = {}
    for session in sessions:
        starts_at = _same_local_time(session.starts_at, old_zone, new_zone)
        if starts_at == session.starts_at:
            continue
        if starts_at <= now:
            _refuse(
                f"{workshops[session.workshop_id].title}, session {session.number}, would "
                f"have started already in {new_zone} at the same local time "
                f"({format_local(starts_at, new_zone)}). Move or cancel that session first, "
                "or save the new time zone without keeping local times."
            )
        session.ends_at = starts_at + (session.ends_at - session.starts_at)
        session.starts_at = starts_at
        session.revision += 1
        session.updated_at = now
        moved.setdefault(session.workshop_id, []).append(session)
    if not moved:
        return KeptTimes()
    db.session.flush()
    refuse_clashes(
        busy_sessions(s.id for changed in moved.values() for s in changed),
        allow_clash=allow_clash, field="timezone",
    )
    told, visited = set(), set()
    for workshop_id, changed in moved.items():
        workshop = workshops[workshop_id]
        first = workshop.first_starts_at
        try:
            refresh_span(workshop)
        except Invalid:  # its one refusal: the decision time, moved with it, has passed
            _refuse(
                f"{workshop.title} needs at least {workshop.min_places} booked by its "
                "decision time, which moves with its first session and would then have "
                "passed. First confirm that the class runs or remove its minimum, or save "
                "the new time zone without keeping local times."
            )
        scheduled = [s for s in changed if s.status == SCHEDULED]
        if workshop.status == PUBLISHED and scheduled:
            # One email per family for the class: it lists every week at its new time.
            notify_session_changed(scheduled[0], "times")
            told.add(workshop_id)
        for session in scheduled:
            notify_makeup_session_changed(session, "times")
            visited.add(session.id)
        if workshop.status == PUBLISHED and workshop.first_starts_at != first:
            promote_waitlist(workshop.id)  # ages are measured at the first session
    return KeptTimes(frozenset(told), frozenset(visited))


def _refuse(message: str) -> None:
    raise Conflict(message, {"timezone": message})
