"""Demo data (`flask --app wsgi seed-demo`): centres, people and a term of classes.

Idempotent: centres and people are found by slug and email, and a demo class is only
created when the centre has no current (not yet ended, not cancelled) class of that
title. Running it twice changes nothing; running it weeks later tops up the catalogue
with classes in the coming weeks again.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from booking.db import write_transaction
from booking.demo_courses import seed_course_extras
from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    InstructorProfile,
    Membership,
    ReferralCode,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import CANCELLED
from booking.passwords import hash_password
from booking.services.booking.referrals import PREFIX_LENGTH, hash_code, normalise_code
from booking.services.errors import DomainError
from booking.services.schedule.workshops import create_workshop
from booking.timefmt import to_local

DEMO_PASSWORD = "demo-pass-1234"
QUALIFICATION = "Certified Educator of Infant Massage"
LONDON = "riverside-family-hub"

CENTRES = (
    {
        "slug": LONDON,
        "name": "Riverside Family Hub",
        "address": "12 Wapping Lane",
        "town": "London",
        "postcode": "E1W 2RG",
        "country": "GB",
        "latitude": 51.5067,
        "longitude": -0.0577,
        "timezone": "Europe/London",
        "contact_email": "hello@riverside-hub.example.org",
        "contact_phone": "020 7946 0123",
        "description": "A family hub by the river with a warm, carpeted baby room.",
        "accessibility_notes": (
            "Step-free access from the street and a lift to the baby room. Baby-change in "
            "the ground-floor toilets. Buggy park inside. Two disabled parking bays."
        ),
    },
    {
        "slug": "camden-childrens-centre",
        "name": "Camden Children's Centre",
        "address": "45 Plender Street",
        "town": "London",
        "postcode": "NW1 0JT",
        "country": "GB",
        "latitude": 51.5365,
        "longitude": -0.1372,
        "timezone": "Europe/London",
        "contact_email": "families@camden-cc.example.org",
        "contact_phone": "020 7946 0456",
        "description": "A children's centre near Mornington Crescent with a quiet sensory room.",
        "accessibility_notes": (
            "Step-free entrance on Plender Street. Baby-change on every floor. No parking; "
            "pay-and-display bays on nearby streets."
        ),
    },
    {
        "slug": "harbourside-clinic-bristol",
        "name": "Harbourside Baby Clinic",
        "address": "3 Canons Way",
        "town": "Bristol",
        "postcode": "BS1 5LL",
        "country": "GB",
        "latitude": 51.4500,
        "longitude": -2.5985,
        "timezone": "Europe/London",
        "contact_email": "clinic@harbourside.example.org",
        "contact_phone": "0117 496 0789",
        "description": "A community clinic on the harbourside, a short walk from Temple Meads.",
        "accessibility_notes": (
            "Ramp at the side entrance; the class room is on the ground floor. Baby-change "
            "and a feeding room. Parking in the Canons Way car park."
        ),
    },
    {
        "slug": "bondi-baby-studio",
        "name": "Bondi Baby Studio",
        "address": "88 Hall Street",
        "town": "Sydney",
        "postcode": "2026",
        "country": "AU",
        "latitude": -33.8908,
        "longitude": 151.2743,
        "timezone": "Australia/Sydney",
        "contact_email": "hello@bondibaby.example.org",
        "contact_phone": "02 5550 1234",
        "description": "A light, calm studio two streets from Bondi Beach.",
        "accessibility_notes": (
            "Level entry from Hall Street. Baby-change in the studio. Street parking, "
            "two hours free."
        ),
    },
)

# email, name, role, centre slugs, profile (bio, topics) for instructors
PEOPLE = (
    ("admin@example.com", "Alex Admin", "admin", (), None),
    ("staff@example.com", "Sam Staff", ROLE_STAFF, (LONDON,), None),
    (
        "instructor@example.com",
        "Hannah Lewis",
        ROLE_INSTRUCTOR,
        (LONDON, "camden-childrens-centre"),
        ("Hannah has taught baby massage in east London for nine years, and runs the "
         "hub's small groups for babies born early.", "premature;colic"),
    ),
    (
        "grace.okafor@example.com",
        "Grace Okafor",
        ROLE_INSTRUCTOR,
        ("camden-childrens-centre", "harbourside-clinic-bristol"),
        ("Grace is a former neonatal nurse who teaches families of twins and dads' "
         "groups in London and Bristol.", "twins;dads;sleep"),
    ),
    (
        "mia.nguyen@example.com",
        "Mia Nguyen",
        ROLE_INSTRUCTOR,
        ("bondi-baby-studio",),
        ("Mia teaches in Bondi and works with families of babies with additional needs.",
         "additional-needs;grandparents"),
    ),
    ("parent@example.com", "Priya Parent", "parent", (), None),
)
DEMO_ACCOUNTS = ("admin@example.com", "staff@example.com", "instructor@example.com",
                 "parent@example.com")

WHAT_TO_BRING = "A large towel, a spare nappy, and a small bottle of unscented cold-pressed oil."


@dataclass(frozen=True)
class DemoClass:
    """One demo workshop: where, who, when (days from today, local start time)."""

    key: str
    centre: str
    instructor: str
    title: str
    kind: str
    days: int
    start: time
    sessions: int = 1
    capacity: int = 8
    ages: tuple[int, int] = (6, 52)
    price: str = "45.00"
    topics: tuple[str, ...] = ()
    publish: bool = True
    description: str = ""
    extra: dict = field(default_factory=dict)
    # The first session falls on this weekday (0 Monday) on or after `days` from today.
    weekday: int | None = None


CLASSES = (
    DemoClass("parent-course", LONDON, "instructor@example.com",
              "Baby massage: five-week course", "course", 5, time(10, 0), sessions=5,
              price="60.00", description="The full routine, one part a week: legs and feet, "
              "tummy, chest and arms, face and back, then the whole massage together.",
              weekday=0),
    DemoClass("makeup-course", LONDON, "instructor@example.com",
              "Baby massage: Thursday afternoon course", "course", 6, time(13, 30),
              sessions=5, price="60.00", description="The five-week routine on Thursday "
              "afternoons; families who miss a week of another course can make it up here.",
              weekday=3),
    DemoClass("at-risk", "camden-childrens-centre", "grace.okafor@example.com",
              "Baby massage: weekend course", "course", 3, time(10, 0), sessions=4,
              price="55.00", description="A Saturday course that runs with at least four "
              "families.", extra={"min_places": 4}, weekday=5),
    DemoClass("colic", LONDON, "instructor@example.com", "Colic and wind relief massage",
              "single", 9, time(13, 30), capacity=10, ages=(4, 26), price="15.00",
              topics=("colic",), description="The tummy strokes that help with wind and "
              "colic, and how to read when your baby has had enough."),
    DemoClass("full-premature", LONDON, "instructor@example.com",
              "Small-group massage for premature babies", "course", 12, time(11, 0),
              sessions=4, capacity=4, ages=(0, 40), price="40.00", topics=("premature",),
              description="A very small group at a gentle pace, with containment holds "
              "and still touch for babies born early. Use your baby's corrected age."),
    DemoClass("held-premature", LONDON, "instructor@example.com",
              "Premature babies: gentle touch course", "course", 10, time(14, 0),
              sessions=4, capacity=4, ages=(0, 40), price="0.00", topics=("premature",),
              description="Resting touch and very light strokes at your baby's pace, for "
              "babies born early. Two places are held for families referred by a health "
              "visitor or the neonatal outreach team.", extra={"held_places": 2}),
    DemoClass("dads", "camden-childrens-centre", "grace.okafor@example.com",
              "Baby massage for dads and co-parents", "course", 6, time(9, 30), sessions=4,
              price="48.00", topics=("dads",), description="A morning course for dads and "
              "co-parents. Week 2 is cancelled this term; the course runs 3 weeks."),
    DemoClass("sleep", "camden-childrens-centre", "instructor@example.com",
              "Sleep and settling massage", "single", 15, time(18, 0), price="18.00",
              topics=("sleep",), description="An early-evening class on a calming bedtime "
              "massage, with tips for settling.", extra={"min_places": 3}),
    DemoClass("draft", "camden-childrens-centre", "instructor@example.com",
              "Next term's baby massage course", "course", 40, time(10, 0), sessions=5,
              publish=False, description="Not yet published: dates still being confirmed."),
    DemoClass("twins", "harbourside-clinic-bristol", "grace.okafor@example.com",
              "Baby massage for twins", "course", 8, time(10, 30), sessions=4, capacity=6,
              price="70.00", topics=("twins",), description="For parents of twins, with "
              "two helpers in the room so each baby has an adult's hands."),
    DemoClass("drop-in", "harbourside-clinic-bristol", "grace.okafor@example.com",
              "Drop-in baby massage taster", "single", 4, time(14, 0), capacity=12,
              price="0.00", description="A free taster: try the leg and foot strokes and "
              "meet other parents.", extra={"held_places": 2}),
    DemoClass("bondi-course", "bondi-baby-studio", "mia.nguyen@example.com",
              "Baby massage course (Bondi)", "course", 7, time(9, 30), sessions=5,
              price="150.00", description="Our five-week course in the studio by the beach."),
    DemoClass("additional-needs", "bondi-baby-studio", "mia.nguyen@example.com",
              "Massage for babies with additional needs", "course", 10, time(11, 0),
              sessions=4, capacity=5, ages=(6, 104), price="120.00",
              topics=("additional-needs",), description="Adapted strokes and positions for "
              "babies with Down syndrome, cerebral palsy or sensory processing differences."),
    DemoClass("grandparents", "bondi-baby-studio", "mia.nguyen@example.com",
              "Grandparents' baby massage morning", "single", 13, time(10, 0),
              price="35.00", topics=("grandparents",), description="For grandparents who "
              "look after a grandchild: the basic routine at a relaxed pace."),
)

# A family on the five-week course who miss week 2 and make it up in the Thursday course
# (booking.demo_courses); the demo parent is left to try that themselves.
MAKEUP_FAMILY = ("iris.parent@example.com", "Iris Grant", "Olive", 11)
# Families filling the full class (confirmed) and waiting for it.
FULL_CLASS_FAMILIES = (
    ("amara.parent@example.com", "Amara Bello", "Tobi", 9),
    ("ben.parent@example.com", "Ben Carter", "Isla", 12),
    ("chloe.parent@example.com", "Chloe Davies", "Noah", 8),
    ("dev.parent@example.com", "Dev Shah", "Aarav", 14),
)
# Families in the public places of the class with held places (so only held ones are left).
HELD_CLASS_FAMILIES = (
    ("gita.parent@example.com", "Gita Rao", "Maya", 6),
    ("hugo.parent@example.com", "Hugo Lane", "Finn", 7),
)
# The demo referral code for that class: printed in the README, hashed like any other.
DEMO_REFERRAL_CODE = "DEMO-REF-2026"
WAITING_FAMILIES = (
    ("ellie.parent@example.com", "Ellie Foster", "Ruby", 10),
    ("femi.parent@example.com", "Femi Adeyemi", "Zara", 11),
)


class DemoRefused(Exception):
    """Demo accounts with a published password are refused in production."""


@dataclass
class SeedReport:
    """What a seed run created."""

    centres: int = 0
    users: int = 0
    workshops: int = 0
    registrations: int = 0

    @property
    def changed(self) -> bool:
        return any((self.centres, self.users, self.workshops, self.registrations))


def seed_demo(today: date | None = None) -> SeedReport:
    """Create whatever demo data is missing, in one transaction.

    Class dates count from `today` (default: today in each centre's own zone). Raises
    DemoRefused in production, before writing anything.
    """
    if current_app.config.get("BOOKING_ENV") == "production" or not current_app.config.get(
        "DEMO_PASSWORD_ALLOWED", True
    ):
        raise DemoRefused(
            "seed-demo creates accounts with the published password "
            f"{DEMO_PASSWORD!r}; it is refused when BOOKING_ENV=production."
        )
    report = SeedReport()
    password_hash = None
    with write_transaction():
        centres = {spec["slug"]: _centre(spec, report) for spec in CENTRES}
        users = {}
        for email, name, role, slugs, profile in PEOPLE:
            if password_hash is None and _find_user(email) is None:
                password_hash = hash_password(DEMO_PASSWORD)
            users[email] = _person(email, name, role, [centres[s] for s in slugs], profile,
                                   password_hash, report)
        for spec in CLASSES:
            workshop = _demo_class(spec, centres[spec.centre], users[spec.instructor], today,
                                   report)
            if workshop is None:
                continue
            if spec.key == "parent-course":
                _book(workshop, users["parent@example.com"], "Leo", 10, CONFIRMED, report)
                email, name, baby, weeks = MAKEUP_FAMILY
                parent = _person(email, name, "parent", [], None, "", report)
                _book(workshop, parent, baby, weeks, CONFIRMED, report)
            elif spec.key == "full-premature":
                for email, name, baby, weeks in FULL_CLASS_FAMILIES:
                    parent = _person(email, name, "parent", [], None, "", report)
                    _book(workshop, parent, baby, weeks, CONFIRMED, report)
                for email, name, baby, weeks in WAITING_FAMILIES:
                    parent = _person(email, name, "parent", [], None, "", report)
                    _book(workshop, parent, baby, weeks, WAITLISTED, report)
            elif spec.key == "at-risk":
                email, name, baby, weeks = FULL_CLASS_FAMILIES[0]
                parent = _person(email, name, "parent", [], None, "", report)
                _book(workshop, parent, baby, weeks, CONFIRMED, report)
            elif spec.key == "held-premature":
                for email, name, baby, weeks in HELD_CLASS_FAMILIES:
                    parent = _person(email, name, "parent", [], None, "", report)
                    _book(workshop, parent, baby, weeks, CONFIRMED, report)
                _demo_referral_code(workshop)
            elif spec.key == "dads":
                week_two = db.session.scalar(
                    sa.select(WorkshopSession).where(
                        WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 2
                    )
                )
                week_two.status = CANCELLED
                week_two.revision = 1
    seed_course_extras()
    return report


def _find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _centre(spec: dict, report: SeedReport) -> Centre:
    centre = db.session.scalar(sa.select(Centre).where(Centre.slug == spec["slug"]))
    if centre is None:
        centre = Centre(published=True, **spec)
        db.session.add(centre)
        db.session.flush()
        report.centres += 1
    return centre


def _person(email, name, role, centres, profile, password_hash, report) -> User:
    """The user with that email, created when missing, with the demo roles in place."""
    user = _find_user(email)
    if user is None:
        user = User(email=email, name=name, password_hash=password_hash or "",
                    is_admin=role == "admin")
        db.session.add(user)
        db.session.flush()
        report.users += 1
    for centre in centres:
        if centre.id not in user.centre_ids(role):
            db.session.add(Membership(user_id=user.id, centre_id=centre.id, role=role))
    if role == ROLE_INSTRUCTOR and db.session.scalar(
        sa.select(InstructorProfile.id).where(InstructorProfile.user_id == user.id)
    ) is None:
        bio, topics = profile
        db.session.add(InstructorProfile(user_id=user.id, display_name=name, bio=bio,
                                         qualification=QUALIFICATION, topics=topics))
    db.session.flush()
    db.session.refresh(user, ["memberships"])
    return user


def _demo_class(spec: DemoClass, centre: Centre, instructor: User, today: date,
                report: SeedReport) -> Workshop | None:
    """Create the class unless the centre already has a current one of that title."""
    current = db.session.scalar(
        sa.select(Workshop.id).where(
            Workshop.centre_id == centre.id,
            Workshop.title == spec.title,
            Workshop.status != CANCELLED,
            Workshop.last_ends_at > utcnow(),
        )
    )
    if current is not None:
        return None
    local_today = to_local(utcnow(), centre.timezone).date() if today is None else today
    day = local_today + timedelta(days=spec.days)
    if spec.weekday is not None:
        day += timedelta(days=(spec.weekday - day.weekday()) % 7)
    first = datetime.combine(day, spec.start)
    workshop = create_workshop(
        centre_id=centre.id,
        instructor_id=instructor.id,
        kind=spec.kind,
        title=spec.title,
        first_session_local=first,
        sessions=spec.sessions,
        duration_minutes=60 if spec.kind == "course" else 75,
        capacity=spec.capacity,
        min_age_weeks=spec.ages[0],
        max_age_weeks=spec.ages[1],
        price=Decimal(spec.price),
        description=spec.description,
        what_to_bring=WHAT_TO_BRING,
        publish=spec.publish,
        topics=spec.topics,
        room="Baby room",
        **spec.extra,
    )
    report.workshops += 1
    return workshop


def _demo_referral_code(workshop: Workshop) -> None:
    """Point the fixed demo referral code at this (newly created) class."""
    code_hash = hash_code(DEMO_REFERRAL_CODE)
    db.session.execute(sa.delete(ReferralCode).where(ReferralCode.code_hash == code_hash))
    db.session.add(
        ReferralCode(
            workshop_id=workshop.id,
            code_hash=code_hash,
            prefix=normalise_code(DEMO_REFERRAL_CODE)[:PREFIX_LENGTH],
            label="Demo: health visitor team",
            expires_at=workshop.held_until,
        )
    )
    db.session.flush()


def _book(workshop: Workshop, parent: User, baby_name: str, age_weeks: int, status: str,
          report: SeedReport) -> None:
    """A registration made directly, keeping the workshop's confirmed count in step."""
    dob = workshop.first_starts_at.date() - timedelta(weeks=age_weeks)
    key = Baby.key_for(baby_name)
    baby = db.session.scalar(
        sa.select(Baby).where(Baby.parent_id == parent.id, Baby.name_key == key)
    )
    if baby is None:
        baby = Baby(parent_id=parent.id, name=baby_name, name_key=key, date_of_birth=dob)
        db.session.add(baby)
        db.session.flush()
    now = utcnow()
    registration = Registration(
        workshop_id=workshop.id,
        baby_id=baby.id,
        parent_id=parent.id,
        status=status,
        consent_at=now,
        confirmed_at=now if status == CONFIRMED else None,
        # distinct times keep the waiting list first come, first served
        waitlisted_at=now + timedelta(seconds=report.registrations)
        if status == WAITLISTED
        else None,
    )
    if status == CONFIRMED:
        workshop.confirmed_count += 1
    db.session.add(registration)
    db.session.flush()
    report.registrations += 1


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo centres, accounts and classes (safe to run again)."""
    try:
        report = seed_demo()
    except (DemoRefused, DomainError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not report.changed:
        click.echo("Demo data is already in place; nothing to do.")
        return
    click.echo(
        f"Demo data: created {report.centres} centres, {report.users} accounts, "
        f"{report.workshops} classes and {report.registrations} bookings."
    )
    click.echo(f"Log in as {', '.join(DEMO_ACCOUNTS)} with the password {DEMO_PASSWORD}.")
