"""Seeding the demo (`flask --app wsgi seed-demo`): centres, people and a term of classes.

Idempotent: centres and people are found by slug and email, and a demo class is only
created when the centre has no current (not yet ended, not cancelled) class of that
title. Running it twice changes nothing; running it weeks later tops up the catalogue
with classes in the coming weeks again.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from booking.db import write_transaction
from booking.demo.courses import seed_course_extras
from booking.demo.data import (
    CENTRES,
    CLASSES,
    DEMO_ACCOUNTS,
    DEMO_BABY,
    DEMO_PARENT_PHONE,
    DEMO_PASSWORD,
    DEMO_REFERRAL_CODE,
    EARLY_BABY,
    FULL_CLASS_FAMILIES,
    HELD_CLASS_FAMILIES,
    MAKEUP_FAMILY,
    PEOPLE,
    QUALIFICATION,
    TODAY_FAMILIES,
    WAITING_FAMILIES,
    WHAT_TO_BRING,
    DemoClass,
)
from booking.demo.health import seed_health_answers
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
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import CANCELLED, PAY_AT_CENTRE
from booking.passwords import hash_password
from booking.services.booking.referrals import PREFIX_LENGTH, hash_code, normalise_code
from booking.services.errors import DomainError
from booking.services.health.questions import current_form
from booking.services.schedule.create import create_workshop
from booking.timefmt import to_local


class DemoRefused(Exception):
    """Demo accounts with a published password are refused in production."""


@dataclass
class SeedReport:
    """What a seed run created."""

    centres: int = 0
    users: int = 0
    workshops: int = 0
    registrations: int = 0
    health_answers: int = 0

    @property
    def changed(self) -> bool:
        return any(
            (self.centres, self.users, self.workshops, self.registrations, self.health_answers)
        )


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
        demo_parent = users["parent@example.com"]
        if not demo_parent.phone:
            demo_parent.phone = DEMO_PARENT_PHONE
        for spec in CLASSES:
            workshop = _demo_class(spec, centres[spec.centre], users[spec.instructor], today,
                                   report)
            if workshop is None:
                continue
            if spec.key == "parent-course":
                name, weeks = DEMO_BABY
                _book(workshop, demo_parent, name, weeks, CONFIRMED, report)
                email, name, baby, weeks = MAKEUP_FAMILY
                parent = _person(email, name, "parent", [], None, "", report)
                _book(workshop, parent, baby, weeks, CONFIRMED, report)
            elif spec.key == "young-course":
                name, weeks, early = EARLY_BABY
                _book(workshop, demo_parent, name, weeks, CONFIRMED, report, early_weeks=early)
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
            elif spec.key == "today":
                for email, name, baby, weeks in TODAY_FAMILIES:
                    parent = _person(email, name, "parent", [], None, "", report)
                    _book(workshop, parent, baby, weeks, CONFIRMED, report)
            elif spec.key == "dads":
                week_two = db.session.scalar(
                    sa.select(WorkshopSession).where(
                        WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 2
                    )
                )
                week_two.status = CANCELLED
                week_two.revision = 1
                week_two.cancelled_at = week_two.updated_at
    seed_course_extras()
    report.health_answers = seed_health_answers()
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
    if spec.start is None:  # soon: half an hour from now, on a five-minute mark
        soon = to_local(utcnow(), centre.timezone).replace(tzinfo=None) + timedelta(minutes=34)
        first = soon.replace(minute=soon.minute - soon.minute % 5, second=0, microsecond=0)
    else:
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
        plan=spec.plan,
        **spec.extra,
    )
    _payment_terms(workshop, spec)
    report.workshops += 1
    return workshop


def _payment_terms(workshop: Workshop, spec: DemoClass) -> None:
    """How the demo class is paid for, written directly: the demo data is the same
    whether or not online payment is set up (`make run` sets it up against a local
    fake of the provider; without it, a place booked in these classes is held but the
    pay page says online payment is not set up)."""
    if spec.payment == PAY_AT_CENTRE:
        return
    workshop.payment_mode = spec.payment
    workshop.deposit = spec.deposit
    workshop.refund_fee = spec.refund_fee
    db.session.flush()


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
          report: SeedReport, early_weeks: int = 0) -> None:
    """A registration made directly, keeping the workshop's confirmed count in step.

    A new baby is `age_weeks` old at the first session; one born `early_weeks` early
    gets the due date that many weeks after the birth."""
    dob = workshop.first_starts_at.date() - timedelta(weeks=age_weeks)
    key = Baby.key_for(baby_name)
    baby = db.session.scalar(
        sa.select(Baby).where(Baby.parent_id == parent.id, Baby.name_key == key)
    )
    if baby is None:
        baby = Baby(parent_id=parent.id, name=baby_name, name_key=key, date_of_birth=dob,
                    due_date=dob + timedelta(weeks=early_weeks) if early_weeks else None)
        db.session.add(baby)
        db.session.flush()
    now = utcnow()
    registration = Registration(
        workshop_id=workshop.id,
        baby_id=baby.id,
        parent_id=parent.id,
        status=status,
        consent_at=now,
        consent_key=current_form(workshop.centre_id).consent_key,
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
