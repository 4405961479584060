"""Home-practice sheets: after each session ends, the week's sheet for every family on it.

Who gets a sheet once a session with a plan has ended (a scheduled session of a
workshop that is not cancelled, ended within the last week, so a long history is
never mailed out the first time this runs):

- every family with a confirmed place in the workshop, one sheet per parent however
  many babies they brought (its email names them all: "practise with Amy and Bea"),
  including a family who said they would miss it: the week must not be lost;
- every family who made that week up in the session from another course: they get
  the sheet of the week they made up, with their own course's next week.

Each sheet is a `PracticeSheet` row, a snapshot of the plan as it was sent, and an
email through the outbox, written together in one short transaction per family. The
sheet's unique `dedupe_key` ("practice:<registration id>:<session id>" or
"practice:makeup:<make-up id>") is also the email's, so a second run, from cron or
beside this one, can never send either again: the loser of a race gets an
IntegrityError on that key and moves on.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking import timefmt
from booking.db import write_transaction
from booking.extensions import db
from booking.mail.context import PracticeSheetInfo, practice_sheet_info
from booking.models import (
    Absence,
    Centre,
    MakeupBooking,
    MakeupCredit,
    PracticeSheet,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import CONFIRMED
from booking.models.workshop import CANCELLED, SCHEDULED
from booking.services.errors import NotFound
from booking.services.notices.emails import notify_practice_sheet
from booking.services.plans.families import babies_at_session

# Sessions that ended longer ago than this get no sheet: the first run on a database
# with a history sends only the last week's.
SEND_WITHIN = timedelta(days=7)
MAKEUP_PREFIX = "practice:makeup:"


def practice_key(registration_id: int, session_id: int) -> str:
    """The dedupe key of a booked family's sheet after one session."""
    return f"practice:{registration_id}:{session_id}"


def makeup_practice_key(makeup_id: int) -> str:
    """The dedupe key of the sheet after a make-up session."""
    return f"{MAKEUP_PREFIX}{makeup_id}"


def _has_plan():
    return sa.or_(WorkshopSession.plan_title != "", WorkshopSession.plan_practice != "")


def _ended_sessions(now: datetime):
    """Conditions on WorkshopSession joined to Workshop: the session ran, has a plan and
    ended within SEND_WITHIN of `now`."""
    return (
        WorkshopSession.status == SCHEDULED,
        Workshop.status != CANCELLED,
        WorkshopSession.ends_at <= now,
        WorkshopSession.ends_at > now - SEND_WITHIN,
        _has_plan(),
    )


def _is_due(session: WorkshopSession, workshop: Workshop, now: datetime) -> bool:
    """The same conditions as `_ended_sessions`, checked afresh on loaded rows."""
    return (
        session.status == SCHEDULED
        and workshop.status != CANCELLED
        and now - SEND_WITHIN < session.ends_at <= now
        and bool(session.plan_title.strip() or session.plan_practice.strip())
    )


def _not_sent(parent_id_column):
    """No sheet of the session (WorkshopSession in the query) for that parent yet."""
    return ~sa.exists().where(
        PracticeSheet.parent_id == parent_id_column,
        PracticeSheet.session_id == WorkshopSession.id,
    )


def due_practice_sheets(now: datetime | None = None) -> list[tuple[str, int, int]]:
    """The sheets to send: ("registration", registration id, session id) for the first
    confirmed booking of each parent in each session that has ended, then ("makeup",
    make-up id, session id) for each make-up into one; none whose parent already has
    that session's sheet."""
    now = now or utcnow()
    booked = db.session.execute(
        sa.select(Registration.parent_id, WorkshopSession.id, sa.func.min(Registration.id))
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(WorkshopSession, WorkshopSession.workshop_id == Workshop.id)
        .where(
            Registration.status == CONFIRMED,
            Registration.parent_id.is_not(None),
            Registration.booked_by(WorkshopSession.ends_at),  # a later joiner was not there
            *_ended_sessions(now),
            _not_sent(Registration.parent_id),
        )
        .group_by(Registration.parent_id, WorkshopSession.id)
    ).all()
    made_up = db.session.execute(
        sa.select(MakeupBooking.id, WorkshopSession.id)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(
            MakeupBooking.parent_id.is_not(None),
            *_ended_sessions(now),
            _not_sent(MakeupBooking.parent_id),
        )
    ).all()
    due = sorted(
        ("registration", registration_id, session_id) for _, session_id, registration_id in booked
    )
    return due + sorted(("makeup", makeup_id, session_id) for makeup_id, session_id in made_up)


def _next_title(workshop_id: int, after: int) -> str:
    """The plan title of the workshop's next session that will run after week `after`
    ("" when that week has no plan yet: a later week's is not next week's)."""
    return (
        db.session.scalar(
            sa.select(WorkshopSession.plan_title)
            .where(
                WorkshopSession.workshop_id == workshop_id,
                WorkshopSession.number > after,
                WorkshopSession.status == SCHEDULED,
            )
            .order_by(WorkshopSession.number)
            .limit(1)
        )
        or ""
    )


def _already_sent(key: str, parent_id: int, session_id: int) -> bool:
    """Whether this sheet, or any sheet of this session for this parent (a twin's
    booking, say), has been written; an erased account counts as done."""
    parent = db.session.get(User, parent_id)
    if parent is None or parent.deleted_at is not None:
        return True
    return (
        db.session.scalar(
            sa.select(PracticeSheet.id)
            .where(
                sa.or_(
                    PracticeSheet.dedupe_key == key,
                    sa.and_(
                        PracticeSheet.parent_id == parent_id,
                        PracticeSheet.session_id == session_id,
                    ),
                )
            )
            .limit(1)
        )
        is not None
    )


def _write_sheet(
    key: str,
    *,
    parent_id: int,
    baby_id: int | None,
    registration_id: int | None,
    session: WorkshopSession,
    workshop: Workshop,
    next_title: str,
) -> PracticeSheet:
    """Add the sheet of `session`'s plan, as it stands now, and queue its email, which
    names every baby the family had on that session (the row keeps the first's)."""
    centre = db.session.get(Centre, workshop.centre_id)
    weeks = db.session.scalar(
        sa.select(sa.func.count(WorkshopSession.id)).where(
            WorkshopSession.workshop_id == workshop.id
        )
    )
    title = session.plan_title.strip() or (
        f"Week {session.number}" if weeks > 1 else workshop.title
    )
    sheet = PracticeSheet(
        dedupe_key=key,
        parent_id=parent_id,
        baby_id=baby_id,
        registration_id=registration_id,
        session_id=session.id,
        workshop_title=workshop.title,
        centre_name=centre.name,
        week_number=session.number,
        weeks=weeks,
        session_day=timefmt.to_local(session.starts_at, centre.timezone).date(),
        title=title[:120],
        covers=session.plan_covers,
        practice=session.plan_practice,
        next_title=next_title[:120],
    )
    db.session.add(sheet)
    db.session.flush()  # a second run's row clashes here, on the unique key
    notify_practice_sheet(sheet, centre.id, babies_at_session(parent_id, session))
    db.session.flush()
    return sheet


def send_registration_sheet(
    registration_id: int, session_id: int, now: datetime | None = None
) -> bool:
    """Write and send one booked family's sheet after one session, checking afresh that
    it is due and not sent; True if it was written now."""
    now = now or utcnow()
    key = practice_key(registration_id, session_id)
    try:
        with write_transaction():
            registration = db.session.get(Registration, registration_id, populate_existing=True)
            session = db.session.get(WorkshopSession, session_id, populate_existing=True)
            if (
                registration is None
                or session is None
                or registration.status != CONFIRMED
                or registration.parent_id is None
                or registration.workshop_id != session.workshop_id
                or not registration.was_booked_by(session.ends_at)
            ):
                return False
            workshop = db.session.get(Workshop, session.workshop_id, populate_existing=True)
            if not _is_due(session, workshop, now) or _already_sent(
                key, registration.parent_id, session.id
            ):
                return False
            _write_sheet(
                key,
                parent_id=registration.parent_id,
                baby_id=registration.baby_id,
                registration_id=registration.id,
                session=session,
                workshop=workshop,
                next_title=_next_title(workshop.id, session.number),
            )
            return True
    except sa.exc.IntegrityError:
        # Another run wrote this sheet between our check and our insert.
        return False


def _home_registration(makeup: MakeupBooking) -> Registration | None:
    """The booking whose missed week the make-up made up (None once it is gone)."""
    return db.session.scalar(
        sa.select(Registration)
        .join(Absence, Absence.registration_id == Registration.id)
        .join(MakeupCredit, MakeupCredit.absence_id == Absence.id)
        .where(MakeupCredit.id == makeup.credit_id)
    )


def send_makeup_sheet(makeup_id: int, now: datetime | None = None) -> bool:
    """Write and send the sheet after a make-up session: that session's week, and what
    comes next in the family's own course; True if it was written now."""
    now = now or utcnow()
    key = makeup_practice_key(makeup_id)
    try:
        with write_transaction():
            makeup = db.session.get(MakeupBooking, makeup_id, populate_existing=True)
            if makeup is None or makeup.parent_id is None:
                return False
            session = db.session.get(WorkshopSession, makeup.session_id, populate_existing=True)
            workshop = db.session.get(Workshop, session.workshop_id, populate_existing=True)
            if not _is_due(session, workshop, now) or _already_sent(
                key, makeup.parent_id, session.id
            ):
                return False
            home = _home_registration(makeup)
            # Their next week is at their own course, never the one they visited.
            next_title = (
                _next_title(home.workshop_id, session.number) if home is not None else ""
            )
            _write_sheet(
                key,
                parent_id=makeup.parent_id,
                baby_id=makeup.baby_id,
                registration_id=home.id if home is not None else None,
                session=session,
                workshop=workshop,
                next_title=next_title,
            )
            return True
    except sa.exc.IntegrityError:
        # Another run wrote this sheet between our check and our insert.
        return False


def send_practice_sheets(now: datetime | None = None) -> int:
    """Write and send every due home-practice sheet, each once and in its own short
    transaction; returns how many were written. Safe from cron and twice at once."""
    now = now or utcnow()
    count = 0
    for kind, row_id, session_id in due_practice_sheets(now):
        if kind == "makeup":
            count += send_makeup_sheet(row_id, now)
        else:
            count += send_registration_sheet(row_id, session_id, now)
    return count


# What the family reads under /account/practice ----------------------------------------


@dataclass
class PracticeCourse:
    """The sheets of one course a family took, in week order."""

    title: str
    centre_name: str
    sheets: list[PracticeSheetInfo] = field(default_factory=list)
    last_day: date | None = None
    last_id: int = 0


# The course a made-up week was missed from. Made once: an alias is dear to build.
_HOME = aliased(Workshop, name="home")


def parent_practice(parent_id: int) -> list[PracticeCourse]:
    """Every sheet the parent has had, grouped by their course (a made-up week sits with
    the course it was missed from, and is named after it), the newest course first."""
    home = _HOME
    rows = db.session.execute(
        sa.select(
            PracticeSheet,
            Registration.workshop_id,
            WorkshopSession.workshop_id,
            home.title,
            Centre.name,
        )
        .outerjoin(Registration, Registration.id == PracticeSheet.registration_id)
        .outerjoin(home, home.id == Registration.workshop_id)
        .outerjoin(Centre, Centre.id == home.centre_id)
        .outerjoin(WorkshopSession, WorkshopSession.id == PracticeSheet.session_id)
        .where(PracticeSheet.parent_id == parent_id)
        .order_by(PracticeSheet.session_day, PracticeSheet.id)
    ).all()
    groups: dict[object, PracticeCourse] = {}
    for sheet, home_id, session_workshop_id, home_title, home_centre in rows:
        info = practice_sheet_info(sheet)
        key = home_id or session_workshop_id or (sheet.workshop_title, sheet.centre_name)
        course = groups.get(key)
        if course is None:
            course = groups[key] = PracticeCourse(
                title=home_title or sheet.workshop_title,
                centre_name=home_centre or sheet.centre_name,
            )
        if not info.made_up:
            # The family's own course, as its sheets were sent.
            course.title, course.centre_name = sheet.workshop_title, sheet.centre_name
        course.sheets.append(info)
        course.last_day = max(course.last_day or sheet.session_day, sheet.session_day)
        course.last_id = max(course.last_id, sheet.id)
    for course in groups.values():
        course.sheets.sort(key=lambda s: (s.week_number, s.id))
    return sorted(groups.values(), key=lambda c: (c.last_day, c.last_id), reverse=True)


def parent_sheet(parent_id: int, sheet_id: int) -> PracticeSheetInfo:
    """One of the parent's own sheets, whole; NotFound for anyone else's."""
    sheet = db.session.scalar(
        sa.select(PracticeSheet).where(
            PracticeSheet.id == sheet_id, PracticeSheet.parent_id == parent_id
        )
    )
    if sheet is None:
        raise NotFound("There is no such home-practice sheet in your account.")
    return practice_sheet_info(sheet)
