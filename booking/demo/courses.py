"""Demo data for courses as they really run (called by seed-demo, idempotent).

Olive (Iris Grant's baby) misses week 2 of the five-week course and makes it up in
week 2 of the Thursday course, so both registers show it; the demo parent's baby
Leo, on the same course, is left free to do the same from /account/bookings. Leo
has an immunisation date the day before week 1 (a doll day); the weekend course is
below its minimum with its decision time just past, so `run-decisions` cancels it
and emails its parents.
"""

from datetime import timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Baby, Centre, MakeupCredit, Registration, User, Workshop, WorkshopSession
from booking.models.registration import CONFIRMED
from booking.models.workshop import PUBLISHED
from booking.services.booking.places import utc_now
from booking.services.courses import absences, makeups
from booking.timefmt import to_local

DEMO_PARENT = "parent@example.com"
MAKEUP_PARENT = "iris.parent@example.com"
HOME_COURSE = "Baby massage: five-week course"
MAKEUP_COURSE = "Baby massage: Thursday afternoon course"
AT_RISK_COURSE = "Baby massage: weekend course"


def _current(title: str) -> Workshop | None:
    return db.session.scalar(
        sa.select(Workshop)
        .where(Workshop.title == title, Workshop.status == PUBLISHED)
        .order_by(Workshop.id.desc())
        .limit(1)
    )


def _week(workshop: Workshop, number: int) -> WorkshopSession | None:
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
        )
    )


def _registration(workshop: Workshop | None, email: str) -> Registration | None:
    """The confirmed registration of the parent with that email on the workshop."""
    if workshop is None:
        return None
    return db.session.scalar(
        sa.select(Registration)
        .join(User, User.id == Registration.parent_id)
        .where(
            Registration.workshop_id == workshop.id,
            User.email == email,
            Registration.status == CONFIRMED,
        )
    )


def seed_course_extras() -> None:
    """Add the absence, make-up, immunisation date and at-risk decision time."""
    now = utc_now()
    with write_transaction():
        home = _current(HOME_COURSE)
        target = _current(MAKEUP_COURSE)
        leo = _registration(home, DEMO_PARENT)
        parent = db.session.scalar(sa.select(User).where(User.email == MAKEUP_PARENT))
        registration = _registration(home, MAKEUP_PARENT)
        if leo is not None and leo.baby_id is not None:
            baby = db.session.get(Baby, leo.baby_id)
            if baby.immunisation_date is None and home.first_starts_at is not None:
                tz_name = db.session.get(Centre, home.centre_id).timezone
                first_day = to_local(home.first_starts_at, tz_name).date()
                baby.immunisation_date = first_day - timedelta(days=1)
        at_risk = _current(AT_RISK_COURSE)
        if (
            at_risk is not None
            and not at_risk.run_confirmed
            and at_risk.decision_at is not None
            and at_risk.decision_at > now
        ):
            at_risk.decision_at = now - timedelta(minutes=5)
    if registration is None or target is None:
        return
    week_two, target_week_two = _week(home, 2), _week(target, 2)
    if week_two is None or target_week_two is None or week_two.starts_at <= now:
        return
    credit = absences.report_absence(
        parent_id=parent.id, registration_id=registration.id, session_id=week_two.id
    )
    if db.session.get(MakeupCredit, credit.id).used_at is None:
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit.id, session_id=target_week_two.id
        )
