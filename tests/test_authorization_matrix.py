"""Authorization as a matrix: every role against every protected page, action and staff
API call. Only the right roles get through; everyone else is sent to log in (pages),
gets 401 (API without a token), or 403/404 - and a refused POST changes nothing.

One small world per endpoint; the refused roles run first against it, each followed by a
snapshot comparison of every table. An allowed POST that changes shared data runs on a
freshly built world of its own, so each allowed role meets the same starting state.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    ApiToken,
    Baby,
    Centre,
    InstructorProfile,
    Invitation,
    Membership,
    Payment,
    PracticeSheet,
    Refund,
    Registration,
    User,
    WorkshopSession,
)
from booking.models.payment import AWAITING_CHOICE, BY_CENTRE, SUCCEEDED
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.token import hash_secret
from booking.models.workshop import DRAFT, PUBLISHED
from booking.services.booking import referrals
from booking.services.courses import absences, makeups
from booking.services.health.answers import save_answers
from booking.services.health.questions import PRODUCT_FORM, current_form
from booking.services.schedule.create import create_workshop
from booking.timefmt import to_local
from tests.conftest import _PASSWORD_HASH, PASSWORD, _empty_tables

ROLES = (
    "anonymous",
    "parent",
    "other_parent",
    "instructor",
    "other_instructor",
    "staff",
    "other_staff",
    "admin",
)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
STAFF = frozenset({"staff", "admin"})  # staff of the world's centre, or an admin
ANY_STAFF = frozenset({"staff", "other_staff", "admin"})
INSTRUCTORS = frozenset({"instructor", "other_instructor"})
FEED_SECRET = "private-feed-secret-of-the-parent-0123456789abcdef"
# Columns that reading with a valid credential may touch (a token's last use).
VOLATILE = {("api_token", "last_used_at")}


@dataclass(frozen=True)
class Case:
    """One protected endpoint: who may use it, and whether success changes shared data."""

    method: str
    path: str
    allowed: frozenset
    data: dict = field(default_factory=dict)
    shared: bool = False
    # Allowed roles whose request a business rule refuses, with the expected status.
    refusals: dict = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _later(days=30):
    return (date.today() + timedelta(days=days)).isoformat()


# Session 1 to day 13: before its own session 2 (day 17), clear of the other classes.
SESSION_MOVE = {"date": _later(13), "time": "10:30", "duration_minutes": "60", "room": "Hall"}
# A session added after the course's last (day 17): one before it would renumber weeks.
SESSION_ADD = {**SESSION_MOVE, "date": _later(24)}
CENTRE_PROFILE = {
    "name": "Renamed centre",
    "town": "Bristol",
    "country": "GB",
    "timezone": "Europe/London",
    "published": "y",
}
WORKSHOP_DETAILS = {
    "min_age_weeks": "6",
    "max_age_weeks": "30",
    "price": "45.00",  # as booked: a price cannot change under booked families
    "cancellation_cutoff_hours": "24",
    "instructor_id": "{instructor}",
}
NEW_WORKSHOP = {
    "title": "New course",
    "kind": "course",
    "first_date": _later(60),
    "first_time": "10:00",
    "sessions": "4",
    "duration_minutes": "60",
    "capacity": "6",
    "min_age_weeks": "6",
    "max_age_weeks": "30",
    "price": "40.00",
    "cancellation_cutoff_hours": "24",
    "late_join_until": "1",
    "held_places": "0",
    "instructor_id": "{instructor}",
}
API_NEW_WORKSHOP = {
    "centre": "matrix-centre",
    "instructor_email": "instructor@example.org",
    "title": "API course",
    "kind": "course",
    "first_session": _later(61) + " 10:00",
    "sessions": 2,
    "duration_minutes": 60,
    "capacity": 6,
    "min_age_weeks": 6,
    "max_age_weeks": 30,
    "price": "40.00",
}

HEALTH_ANSWERS = {
    **{f"q-{q.key}": "no" for q in PRODUCT_FORM.questions},
    "other": "",
    "consent": "y",
}

CASES = [
    # The parent's own account: bookings, babies, calendar, privacy.
    Case("GET", "/account/bookings", SIGNED_IN),
    Case("GET", "/account/bookings/{reg}/cancel", {"parent"}),
    Case("POST", "/account/bookings/{reg}/cancel", {"parent"}, shared=True),
    Case("GET", "/account/bookings/{reg}/invite.ics", {"parent"}),
    Case("GET", "/account/bookings/{reg}/booked", {"parent"}),
    Case("GET", "/account/bookings/{reg}/pay", {"parent"}),
    Case("GET", "/account/bookings/{reg}/pay/return", {"parent"}),
    # A confirmed place paid at the centre has nothing to pay online.
    Case(
        "POST",
        "/account/bookings/{reg}/pay",
        {"parent"},
        {"payment_method": "card_test"},
        refusals={"parent": (409,)},
    ),
    Case("GET", "/account/babies", SIGNED_IN),
    Case("POST", "/account/babies", SIGNED_IN, {"name": "Bo", "date_of_birth": _later(-70)}),
    Case("GET", "/account/babies/{baby}/edit", {"parent"}),
    Case(
        "POST",
        "/account/babies/{baby}/edit",
        {"parent"},
        {"name": "Ada Rose", "date_of_birth": _later(-70)},
        shared=True,
    ),
    Case("POST", "/account/babies/{spare_baby}/delete", {"parent"}, shared=True),
    Case("GET", "/account/calendar", SIGNED_IN),
    Case("POST", "/account/calendar", SIGNED_IN),
    Case("POST", "/account/calendar/reset", SIGNED_IN),
    Case("POST", "/account/calendar/stop", SIGNED_IN),
    Case("GET", "/account/privacy", SIGNED_IN),
    Case("GET", "/account/export.json", SIGNED_IN),
    Case(
        "POST",
        "/account/delete",
        SIGNED_IN,
        {"password": PASSWORD, "confirm": "y"},
        refusals={"instructor": (422,)},  # still leads classes: the page says why
    ),
    Case("GET", "/account/babies/{baby}/immunisation", {"parent"}),
    Case(
        "POST",
        "/account/babies/{baby}/immunisation",
        {"parent"},
        {"immunisation_date": _later(3)},
        shared=True,
    ),
    # Health answers (special-category data) and the contact phone number.
    Case("GET", "/account/bookings/{reg}/health", {"parent"}),
    Case("POST", "/account/bookings/{reg}/health", {"parent"}, HEALTH_ANSWERS, shared=True),
    Case("GET", "/account/babies/{baby}/health", {"parent"}),
    Case("POST", "/account/babies/{baby}/health", {"parent"}, HEALTH_ANSWERS, shared=True),
    # Withdrawing consent deletes the baby's answers (the world's Ada has some).
    Case("POST", "/account/babies/{baby}/health/delete", {"parent"}, shared=True),
    # "Ready for <day>?": the parent's own booking when logged in; from the reminder,
    # only with the link's own signed token, whoever is logged in.
    Case("GET", "/account/bookings/{reg}/sessions/{session2}/ready", {"parent"}),
    Case(
        "POST",
        "/account/bookings/{reg}/sessions/{session2}/ready",
        {"parent"},
        {"status": "well"},
        shared=True,
    ),
    Case("GET", "/ready/not-a-signed-token", frozenset()),
    Case("POST", "/ready/not-a-signed-token", frozenset(), {"status": "unwell"}),
    # The same for a make-up visit: the parent's own make-up when logged in, or the
    # make-up reminder's own signed token.
    Case("GET", "/account/makeups/{makeup}/ready", {"parent"}),
    Case(
        "POST", "/account/makeups/{makeup}/ready", {"parent"}, {"status": "well"}, shared=True
    ),
    Case("GET", "/ready/makeups/not-a-signed-token", frozenset()),
    Case(
        "POST",
        "/ready/makeups/not-a-signed-token",
        frozenset(),
        {"status": "unwell", "confirm": "yes"},
    ),
    # A course evaluation: only with the emailed link's own signed token, whoever is
    # logged in; the results: instructors their own courses, staff their centres'.
    Case("GET", "/evaluate/not-a-signed-token", frozenset()),
    Case(
        "POST",
        "/evaluate/not-a-signed-token",
        frozenset(),
        {"confidence_before": "2", "confidence_after": "4", "helped": "Tummy strokes"},
    ),
    Case("GET", "/teach/evaluations", INSTRUCTORS),
    Case("GET", "/manage/evaluations", ANY_STAFF),
    Case("GET", "/manage/centres/{centre}/evaluations.csv", STAFF),
    # Charts: any staff sees their own centres' (another centre's staff an empty chart).
    Case("GET", "/manage/charts", ANY_STAFF),
    Case("GET", "/manage/charts/fill.csv", ANY_STAFF),
    # Home-practice sheets: the list for anyone signed in, a sheet for its own parent.
    Case("GET", "/account/practice", SIGNED_IN),
    Case("GET", "/account/practice/{sheet}", {"parent"}),
    Case("GET", "/account/details", SIGNED_IN),
    Case("POST", "/account/details", SIGNED_IN, {"phone": "07700 900123"}),
    Case(
        "POST", "/account/bookings/{reg}/sessions/{session}/absence", {"parent"}, shared=True
    ),
    Case(
        "POST",
        "/account/bookings/{reg}/sessions/{session2}/absence/withdraw",
        {"parent"},
        shared=True,
    ),
    Case(
        "POST",
        "/account/makeups/{credit}/book",
        {"parent"},
        {"session_id": "{quiet_session2}"},
        shared=True,
    ),
    Case("POST", "/account/makeups/{makeup}/cancel", {"parent"}, shared=True),
    # A session the centre cancelled in a paid course: a make-up credit or a refund.
    Case("GET", "/account/bookings/{paid_reg}/sessions/{cancelled_session}/choice", {"parent"}),
    Case(
        "POST",
        "/account/bookings/{paid_reg}/sessions/{cancelled_session}/choice",
        {"parent"},
        {"choice": "refund"},
        shared=True,
    ),
    Case("GET", "/classes/{workshop}/book", SIGNED_IN),
    Case(
        "POST",
        "/classes/{workshop}/book",
        SIGNED_IN,
        {"baby_name": "Cleo", "baby_dob": _later(-70), "consent": "y"},
    ),
    # Instructors: only their own workshops.
    Case("GET", "/teach", INSTRUCTORS),
    Case("GET", "/teach/specialisms", INSTRUCTORS),
    Case("POST", "/teach/specialisms", INSTRUCTORS, {"topics": "sleep"}),
    Case("GET", "/teach/profile", INSTRUCTORS),
    Case("POST", "/teach/profile", INSTRUCTORS, {"display_name": "Grace"}),
    Case("GET", "/teach/workshops/{workshop}", {"instructor"}),
    Case("GET", "/teach/workshops/{workshop}/roster.csv", {"instructor"}),
    Case("GET", "/teach/workshops/{workshop}/plans", {"instructor"}),
    Case(
        "POST",
        "/teach/workshops/{workshop}/plans",
        {"instructor"},
        {"template": "four-week-course"},
        shared=True,
    ),
    Case("GET", "/teach/sessions/{session}/register", {"instructor"}),
    # Attendance opens an hour before a session starts (the world's is days away).
    Case(
        "POST",
        "/teach/sessions/{session}/register",
        {"instructor"},
        {"attendance-{reg}": "present"},
        refusals={"instructor": (409,)},
    ),
    Case(
        "POST",
        "/teach/sessions/{session}/checkin",
        {"instructor"},
        {"registration_id": "{reg}"},
        refusals={"instructor": (409,)},
    ),
    Case(
        "POST",
        "/teach/sessions/{session}/all-present",
        {"instructor"},
        refusals={"instructor": (409,)},
    ),
    Case("GET", "/teach/workshops/{workshop}/message", {"instructor"}),
    Case(
        "POST",
        "/teach/workshops/{workshop}/message",
        {"instructor"},
        {"subject": "Parking", "body": "The car park is closed on Tuesday."},
    ),
    # Clearing a health flag: the class's instructor (the world's baby has no answer
    # needing it, so the service then says there is nothing to clear).
    Case(
        "POST",
        "/teach/registrations/{reg}/clearance",
        {"instructor"},
        {"note": "GP letter seen"},
        refusals={"instructor": (422,)},
    ),
    # Staff of this centre (and admins); staff of another centre get 404.
    Case("GET", "/manage", ANY_STAFF),
    Case("GET", "/manage/calendar", ANY_STAFF),
    Case("GET", "/manage/import", ANY_STAFF),
    # Lists only the workshops of the visitor's own centres.
    Case("GET", "/manage/import/done", ANY_STAFF),
    # Without a file, or with nothing to confirm: let through, then asked for the CSV.
    Case("POST", "/manage/import", ANY_STAFF, refusals=dict.fromkeys(ANY_STAFF, (400, 422))),
    Case(
        "POST",
        "/manage/import/confirm",
        ANY_STAFF,
        refusals=dict.fromkeys(ANY_STAFF, (400, 422)),
    ),
    Case("GET", "/manage/centres/{centre}", STAFF),
    Case("POST", "/manage/centres/{centre}", STAFF, CENTRE_PROFILE, shared=True),
    Case("GET", "/manage/centres/{centre}/workshops/new", STAFF),
    Case("POST", "/manage/centres/{centre}/workshops/new", STAFF, NEW_WORKSHOP, shared=True),
    Case("GET", "/manage/workshops/{workshop}", STAFF),
    Case("GET", "/manage/workshops/{workshop}/edit", STAFF),
    Case(
        "POST",
        "/manage/workshops/{workshop}/edit",
        STAFF,
        {**WORKSHOP_DETAILS, "title": "Renamed course"},
        shared=True,
    ),
    Case("GET", "/manage/workshops/{workshop}/registrations", STAFF),
    Case("GET", "/manage/workshops/{workshop}/cancel", STAFF),
    Case("POST", "/manage/workshops/{workshop}/cancel", STAFF, {"reason": "Ill"}, shared=True),
    Case("GET", "/manage/workshops/{workshop}/sessions/new", STAFF),
    Case("POST", "/manage/workshops/{workshop}/sessions/new", STAFF, SESSION_ADD, shared=True),
    Case("POST", "/manage/workshops/{workshop}/capacity", STAFF, {"capacity": "3"}, shared=True),
    Case("POST", "/manage/workshops/{draft}/publish", STAFF, shared=True),
    # One nobody is booked on or visits (the quiet course takes a make-up visitor).
    Case("POST", "/manage/workshops/{unbooked}/unpublish", STAFF, shared=True),
    Case("POST", "/manage/workshops/{workshop}/confirm-run", STAFF, shared=True),
    Case("GET", "/manage/workshops/{workshop}/topics", STAFF),
    Case("POST", "/manage/workshops/{workshop}/topics", STAFF, {"topics": "sleep"}, shared=True),
    Case("GET", "/manage/workshops/{workshop}/plans", STAFF),
    Case(
        "POST",
        "/manage/workshops/{workshop}/plans",
        STAFF,
        {"template": "four-week-course"},
        shared=True,
    ),
    Case("GET", "/manage/workshops/{quiet}/referrals", STAFF),
    Case(
        "POST",
        "/manage/workshops/{quiet}/held-places",
        STAFF,
        {"held_places": "2", "held_until_date": _later(5), "held_until_time": "09:00"},
        shared=True,
    ),
    Case("POST", "/manage/workshops/{quiet}/referrals", STAFF, {"count": "1"}, shared=True),
    Case("POST", "/manage/workshops/{quiet}/referrals/{code}/revoke", STAFF, shared=True),
    Case("GET", "/manage/workshops/{workshop}/copy", STAFF),
    Case("POST", "/manage/workshops/{workshop}/copy", STAFF, {"first_date": _later(200)},
         shared=True),
    Case("GET", "/manage/centres/{centre}/copy-term", STAFF),
    Case(
        "POST",
        "/manage/centres/{centre}/copy-term",
        STAFF,
        {"date_from": _later(0), "date_to": _later(20), "weeks_later": "30"},
        shared=True,
    ),
    Case("GET", "/manage/centres/{centre}/copy-term/done", STAFF),
    Case("GET", "/manage/sessions/{session}/move", STAFF),
    Case("POST", "/manage/sessions/{session}/move", STAFF, SESSION_MOVE, shared=True),
    Case("GET", "/manage/sessions/{session}/cancel", STAFF),
    Case("POST", "/manage/sessions/{session}/cancel", STAFF, {"reason": "Flood"}, shared=True),
    Case("POST", "/manage/registrations/{reg}/cancel", STAFF, shared=True),
    Case("POST", "/manage/registrations/{waiting}/promote", STAFF, shared=True),
    Case(
        "POST",
        "/manage/registrations/{reg}/move",
        STAFF,
        {"to_workshop_id": "{quiet}"},
        shared=True,
    ),
    # Health answers: the centre's staff only, not an admin who is not (404).
    Case(
        "POST",
        "/manage/registrations/{reg}/clearance",
        {"staff"},
        {"note": "GP letter seen"},
        refusals={"staff": (422,)},
    ),
    Case("GET", "/manage/centres/{centre}/health-questions", STAFF),
    # A new version of the questions (the product's are in force, so "reset" to them
    # would change nothing).
    Case(
        "POST",
        "/manage/centres/{centre}/health-questions",
        STAFF,
        {
            "questions-0-text": "Does your baby have reflux?",
            "questions-0-kind": "tell",
            "questions-0-flag": "Reflux",
            "safety_note": "Bring a towel.",
        },
        shared=True,
    ),
    # Payments: the figures and their CSV, a fee marked paid at the centre (and the mark
    # taken back), a refund by hand.
    Case("GET", "/manage/workshops/{workshop}/payments", STAFF),
    Case("GET", "/manage/workshops/{workshop}/payments.csv", STAFF),
    Case("GET", "/manage/centres/{centre}/payments", STAFF),
    Case("GET", "/manage/centres/{centre}/payments.csv", STAFF),
    Case("POST", "/manage/registrations/{reg}/paid-at-centre", STAFF, shared=True),
    Case("POST", "/manage/registrations/{paid_reg}/paid-at-centre/undo", STAFF, shared=True),
    # Nothing paid beyond the fee here: allowed, and refused as nothing to give back.
    Case("POST", "/manage/registrations/{paid_reg}/paid-at-centre/give-back", STAFF,
         refusals={"staff": (409,), "admin": (409,)}),
    Case("GET", "/manage/payments/{payment}/refund", STAFF),
    Case(
        "POST",
        "/manage/payments/{payment}/refund",
        STAFF,
        {"amount": "5.00", "reason": "Goodwill"},
        shared=True,
    ),
    Case("GET", "/manage/api-tokens", ANY_STAFF),
    Case("POST", "/manage/api-tokens", ANY_STAFF, {"name": "Spreadsheet"}),
    Case("POST", "/manage/api-tokens/{staff_token}/revoke", {"staff"}, shared=True),
    # Admins only.
    Case("GET", "/admin", {"admin"}),
    Case("GET", "/admin/users", {"admin"}),
    Case("GET", "/admin/users/{parent}", {"admin"}),
    Case("GET", "/admin/centres/new", {"admin"}),
    Case(
        "POST",
        "/admin/centres/new",
        {"admin"},
        {**CENTRE_PROFILE, "slug": "brand-new", "name": "Brand new"},
    ),
    Case("POST", "/admin/centres/{centre}/publish", {"admin"}, {"published": "0"}, shared=True),
    Case("GET", "/admin/invite", {"admin"}),
    Case("POST", "/admin/invite", {"admin"}, {"email": "invited@example.org", "role": "parent"}),
    Case("POST", "/admin/invitations/{invitation}/withdraw", {"admin"}, shared=True),
    Case("POST", "/admin/users/{parent}/admin/grant", {"admin"}, shared=True),
    Case("POST", "/admin/users/{other_admin}/admin/revoke", {"admin"}, shared=True),
    Case(
        "POST",
        "/admin/users/{parent}/roles",
        {"admin"},
        {"centre_id": "{centre}", "role": "staff"},
        shared=True,
    ),
    Case(
        "POST",
        "/admin/users/{staff}/roles/remove",
        {"admin"},
        {"centre_id": "{centre}", "role": "staff"},
        shared=True,
    ),
    # A private feed opens only with its own secret, whoever is logged in.
    Case("GET", "/feeds/private/not-the-secret.ics", frozenset()),
    # The staff API, with each role's own bearer token (none for anonymous).
    Case("POST", "/api/v1/workshops", STAFF, API_NEW_WORKSHOP, shared=True),
    Case("PATCH", "/api/v1/workshops/{workshop}", STAFF, {"title": "Renamed"}, shared=True),
    Case("PATCH", "/api/v1/sessions/{session}", STAFF, {"room": "Studio 2"}, shared=True),
    Case("GET", "/api/v1/workshops/{workshop}/registrations", STAFF),
]


def _workshop(centre, instructor, title, starts_in_days, status=PUBLISHED, capacity=8):
    """A two-week course, created by the service in the caller's transaction."""
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
        days=starts_in_days
    )
    return create_workshop(
        centre_id=centre.id,
        instructor_id=instructor.id,
        kind="course",
        title=title,
        first_session_local=to_local(first, centre.timezone).replace(tzinfo=None),
        sessions=2,
        duration_minutes=60,
        capacity=capacity,
        min_age_weeks=6,
        max_age_weeks=52,
        price=Decimal("45.00"),
        publish=status == PUBLISHED,
    )


def _baby(parent, name):
    baby = Baby(
        parent_id=parent.id,
        name=name,
        name_key=Baby.key_for(name),
        date_of_birth=date.today() - timedelta(weeks=10),
    )
    db.session.add(baby)
    db.session.flush()
    return baby


def _build_world(app) -> dict:
    """Two centres, a user per role, a course with one booking and one waiting entry
    (and a free place), a quiet course, a draft, a spare baby, API tokens for everyone,
    the parent's feed secret and an invitation waiting to be accepted - written in one
    transaction - then make-ups, a
    payment awaiting a choice, a practice sheet and Ada's health answers."""
    with app.app_context():
        centre = Centre(slug="matrix-centre", name="Matrix centre", town="Bristol")
        elsewhere = Centre(slug="elsewhere", name="Elsewhere", town="Leeds")
        db.session.add_all([centre, elsewhere])
        db.session.flush()
        users = {}
        for role in (*ROLES[1:], "other_admin"):
            user = User(
                email=f"{role.replace('_', '.')}@example.org",
                name=role.replace("_", " ").title(),
                password_hash=_PASSWORD_HASH,
                is_admin=role.endswith("admin"),
            )
            db.session.add(user)
            db.session.flush()
            users[role] = user
        for role, where, kind in (
            ("instructor", centre, "instructor"),
            ("other_instructor", centre, "instructor"),
            ("staff", centre, "staff"),
            ("other_staff", elsewhere, "staff"),
        ):
            db.session.add(Membership(user_id=users[role].id, centre_id=where.id, role=kind))
            if kind == "instructor":
                db.session.add(
                    InstructorProfile(user_id=users[role].id, display_name=users[role].name)
                )
        teacher = users["instructor"]
        workshop = _workshop(centre, teacher, "Baby massage", 10, capacity=2)
        quiet = _workshop(centre, teacher, "Quiet course", 12)
        draft = _workshop(centre, teacher, "Draft course", 14, status=DRAFT)
        unbooked = _workshop(centre, teacher, "Unbooked course", 40)
        now = datetime.now(UTC)
        ada, ben = _baby(users["parent"], "Ada"), _baby(users["other_parent"], "Ben")
        spare = _baby(users["parent"], "Spare")
        reg = Registration(
            workshop_id=workshop.id, baby_id=ada.id, parent_id=users["parent"].id,
            status=CONFIRMED, consent_at=now, confirmed_at=now,
        )
        waiting = Registration(
            workshop_id=workshop.id, baby_id=ben.id, parent_id=users["other_parent"].id,
            status=WAITLISTED, consent_at=now, waitlisted_at=now,
        )
        workshop.confirmed_count = 1
        workshop.min_places = 2  # below its minimum, so staff may confirm it will run
        workshop.decision_at = workshop.first_starts_at - timedelta(hours=48)
        db.session.add_all([reg, waiting])
        tokens = {}
        for role, user in users.items():
            row = ApiToken(user_id=user.id, name=role, token_hash=hash_secret(f"token-{role}"))
            db.session.add(row)
            db.session.flush()
            tokens[role] = row.id
        users["parent"].feed_token_hash = hash_secret(FEED_SECRET)
        invitation = Invitation(
            email="invited@example.org", role="staff", centre_id=centre.id,
            invited_by_id=users["admin"].id, expires_at=now + timedelta(days=14),
        )
        db.session.add(invitation)
        db.session.flush()
        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 1
            )
        )
        ids = {
            "centre": centre.id,
            "workshop": workshop.id,
            "draft": draft.id,
            "quiet": quiet.id,
            "unbooked": unbooked.id,
            "session": session_id,
            "reg": reg.id,
            "waiting": waiting.id,
            "baby": ada.id,
            "spare_baby": spare.id,
            "staff_token": tokens["staff"],
            "invitation": invitation.id,
            **{role: user.id for role, user in users.items()},
        }
        db.session.commit()
        ids["session2"] = db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 2
            )
        )
        ids["quiet_session2"] = db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == quiet.id, WorkshopSession.number == 2
            )
        )
        # A held place with a referral code, and a make-up credit for week 2.
        referrals.set_held_places(quiet.id, 1, now + timedelta(days=5))
        ids["code"] = referrals.create_codes(quiet.id, count=1)[0].referral.id
        ids["credit"] = absences.report_absence(
            parent_id=ids["parent"], registration_id=ids["reg"], session_id=ids["session2"]
        ).id
        # A make-up already booked: the parent's Dora misses week 1 of a third course
        # and makes it up in week 1 of the quiet course.
        third = _workshop(db.session.get(Centre, ids["centre"]), teacher, "Third course", 16)
        dora = _baby(db.session.get(User, ids["parent"]), "Dora")
        dora_reg = Registration(
            workshop_id=third.id, baby_id=dora.id, parent_id=ids["parent"],
            status=CONFIRMED, consent_at=now, confirmed_at=now,
        )
        third.confirmed_count = 1
        db.session.add(dora_reg)
        db.session.commit()
        week_one = {
            w.id: db.session.scalar(
                sa.select(WorkshopSession.id).where(
                    WorkshopSession.workshop_id == w.id, WorkshopSession.number == 1
                )
            )
            for w in (third, quiet)
        }
        dora_credit = absences.report_absence(
            parent_id=ids["parent"], registration_id=dora_reg.id, session_id=week_one[third.id]
        ).id
        ids["makeup"] = makeups.book_makeup(
            parent_id=ids["parent"], credit_id=dora_credit, session_id=week_one[quiet.id]
        ).id
        # Dora's course was paid online and the centre cancelled its week 2: her share
        # of the fee awaits the parent's choice of a make-up credit or a refund.
        week_two = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == third.id, WorkshopSession.number == 2
            )
        )
        week_two.status = "cancelled"
        payment = Payment(
            registration_id=dora_reg.id, workshop_id=third.id, centre_id=ids["centre"],
            amount=4500, currency="GBP", status=SUCCEEDED, paid_at=now,
        )
        db.session.add(payment)
        db.session.flush()
        db.session.add(
            Refund(
                payment_id=payment.id, session_id=week_two.id, amount=2250,
                reason="Week 2 cancelled by the centre", initiated_by=BY_CENTRE,
                status=AWAITING_CHOICE, due_at=now + timedelta(days=7),
            )
        )
        ids["paid_reg"], ids["cancelled_session"] = dora_reg.id, week_two.id
        ids["payment"] = payment.id
        # The home-practice sheet the parent had after week 1.
        sheet = PracticeSheet(
            dedupe_key=f"practice:{ids['reg']}:{ids['session']}", parent_id=ids["parent"],
            baby_id=ids["baby"], registration_id=ids["reg"], session_id=ids["session"],
            workshop_title="Baby massage", centre_name="Matrix centre", week_number=1,
            weeks=4, session_day=now.date(), title="Week 1: legs and feet",
        )
        db.session.add(sheet)
        db.session.flush()
        ids["sheet"] = sheet.id
        # Staff marked the rest of Dora's fee paid at the centre (a mark to take back).
        dora_reg.paid_at_centre_at = now
        db.session.commit()
        # Ada's health answers: no to everything, shared with the centre for her booking.
        form = current_form(ids["centre"])
        save_answers(
            ids["parent"], ids["baby"], form, {q.key: {"answer": "no"} for q in form.questions},
            "", consent=True, registration_id=ids["reg"],
        )
        db.session.remove()
    return {"ids": ids}


def _client(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = f"{world['ids'][role]}:1"
            session["_fresh"] = True
    return client


def _fill(value, ids):
    return value.format(**ids) if isinstance(value, str) else value


def _send(app, world, case: Case, role: str):
    ids = world["ids"]
    path = case.path.format(**ids)
    data = {_fill(key, ids): _fill(value, ids) for key, value in case.data.items()}
    client = _client(app, world, "anonymous" if case.api else role)
    if case.api:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer token-{role}"}
        return client.open(
            path, method=case.method, json=data or None, headers=headers
        )
    if case.method == "GET":
        return client.get(path)
    return client.post(path, data=data)


def _snapshot(app) -> dict:
    with app.app_context():
        state = {}
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = db.session.execute(sa.select(*columns)).all()
            state[table.name] = sorted(map(repr, rows))
        db.session.remove()
    return state


def _assert_refused(case: Case, role: str, response) -> None:
    where = f"{case} as {role}"
    if role == "anonymous" and case.api:
        assert response.status_code == 401, where
    elif role == "anonymous" and not case.path.startswith(("/feeds/", "/ready/", "/evaluate/")):
        assert response.status_code == 302, where
        assert "/login" in response.headers["Location"], where
    else:
        assert response.status_code in (403, 404), f"{where}: {response.status_code}"


def _assert_allowed(case: Case, role: str, response) -> bool:
    """Let through; False when a business rule (not a permission) then said no."""
    where = f"{case} as {role}: {response.status_code}"
    if response.status_code in case.refusals.get(role, ()):
        return False
    assert response.status_code in (200, 201, 302, 303), where
    if response.status_code in (302, 303):
        assert "/login" not in response.headers["Location"], where
    return True


@pytest.mark.parametrize("case", CASES, ids=str)
def test_only_the_right_roles_get_through(case, app):
    world = _build_world(app)
    before = _snapshot(app) if case.method != "GET" else None
    refused = sorted(set(ROLES) - case.allowed)
    for role in refused:
        _assert_refused(case, role, _send(app, world, case, role))
    if before is not None:
        assert _snapshot(app) == before, f"{case}: a refused request changed data"
    allowed = sorted(case.allowed)
    for n, role in enumerate(allowed):
        if n and case.shared:
            with app.app_context():
                _empty_tables()
            world = _build_world(app)
        before = _snapshot(app) if case.method != "GET" else None
        response = _send(app, world, case, role)
        if _assert_allowed(case, role, response) and before is not None:
            assert _snapshot(app) != before, f"{case} as {role} changed nothing"


def test_the_matrix_covers_every_protected_endpoint(app):
    """A new protected endpoint must be added to the matrix."""
    covered = set()
    for case in CASES:
        with app.test_request_context():
            adapter = app.url_map.bind("localhost")
            path = case.path.format(**{k: 1 for k in _PLACEHOLDERS})
            endpoint, _ = adapter.match(path, method=case.method)
            covered.add((endpoint, case.method))
    # ops.: health checks for anyone; /metrics by address (tests/test_metrics.py).
    public = (
        "public.", "static", "feeds.centre_feed", "feeds.instructor_feed", "embed.", "topics.",
        "ops.",
    )
    public_api = {"api.index", "api.centres", "api.centre", "api.workshops", "api.workshop",
                  "api.openapi", "api.docs"}
    auth = {"auth.login", "auth.logout", "auth.register", "auth.forgot_password",
            "auth.reset_password", "auth.invitation"}
    # Called by the payment provider, authenticated by the event's signature
    # (tests/test_payments.py refuses forged events).
    auth.add("payments.stripe_webhook")
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(public) or rule.endpoint in public_api | auth:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, "not in the authorization matrix: " + ", ".join(sorted(missing))


_PLACEHOLDERS = (
    "centre", "workshop", "draft", "quiet", "unbooked", "session", "session2", "quiet_session2",
    "code",
    "credit", "makeup", "reg", "waiting", "baby", "spare_baby", "paid_reg", "cancelled_session",
    "payment", "sheet", "invitation",
    "staff_token", *ROLES, "other_admin",
)
