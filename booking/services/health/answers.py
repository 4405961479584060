"""A baby's health answers: asked once with explicit consent, confirmed before each course.

The parent answers the questions in force at the class's centre; the answers are
kept per baby (`HealthRecord`), each with the question as it was asked. Before each
further course a parent confirms them in one tap when nothing changed, or updates
them. A changed health-and-safety text (a new version of the questions, or of the
consent wording) asks for consent again. Saving or confirming marks every upcoming
booking of that baby as confirmed at the record's revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Baby, HealthRecord, Registration, Workshop, utcnow
from booking.models.registration import ACTIVE
from booking.services.errors import Invalid, NotFound
from booking.services.health.flags import HealthSummary, summary
from booking.services.health.questions import Form, current_form

DETAILS_MAX = 500
OTHER_MAX = 2000
CONSENT_MESSAGE = "Please tick to agree before we keep these answers."
ANSWER_MESSAGE = "Choose yes or no."


@dataclass
class HealthCheck:
    """One booking's health questions: the form in force, the baby's answers, and what
    the parent still has to do (answer, agree again, confirm, or nothing)."""

    registration: Registration
    workshop: Workshop
    baby: Baby
    form: Form
    record: HealthRecord | None

    @property
    def answers(self) -> dict[str, dict]:
        """The baby's answers by question key."""
        if self.record is None:
            return {}
        return {a["key"]: a for a in self.record.answers or [] if "key" in a}

    @property
    def missing(self) -> list:
        """Questions of the form the baby has no answer to yet."""
        answered = self.answers
        return [q for q in self.form.questions if q.key not in answered]

    @property
    def needs_consent(self) -> bool:
        """No consent yet, or consent to an older text."""
        return self.record is None or self.record.consent_key != self.form.consent_key

    @property
    def can_confirm(self) -> bool:
        """Every question answered and consent current: one tap confirms them."""
        return self.record is not None and not self.missing and not self.needs_consent

    @property
    def done(self) -> bool:
        """This booking has the answers confirmed as they stand now."""
        return (
            self.can_confirm
            and self.registration.health_confirmed_at is not None
            and self.registration.health_revision == self.record.revision
        )


def record_of(baby_id: int | None) -> HealthRecord | None:
    """A baby's health record, if the parent has answered."""
    if baby_id is None:
        return None
    return db.session.scalar(sa.select(HealthRecord).where(HealthRecord.baby_id == baby_id))


def records_of(baby_ids) -> dict[int, HealthRecord]:
    """Health records of several babies, in one query."""
    ids = {i for i in baby_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(HealthRecord).where(HealthRecord.baby_id.in_(ids)))
    return {r.baby_id: r for r in rows}


def health_check(parent_id: int, registration_id: int) -> HealthCheck:
    """The health questions of one of the parent's live bookings; NotFound otherwise."""
    registration = db.session.get(Registration, registration_id)
    if (
        registration is None
        or registration.parent_id != parent_id
        or registration.status not in ACTIVE
        or registration.baby_id is None
    ):
        raise NotFound("We could not find that booking on your account.")
    workshop = db.session.get(Workshop, registration.workshop_id)
    baby = db.session.get(Baby, registration.baby_id)
    return HealthCheck(
        registration, workshop, baby, current_form(workshop.centre_id), record_of(baby.id)
    )


def _answer_value(raw) -> bool | None:
    if raw in (True, "yes"):
        return True
    if raw in (False, "no"):
        return False
    return None


def check_answers(form: Form, raw: dict, other) -> tuple[list[dict], str]:
    """The parent's answers to a form, checked: a yes or no to every question, details
    of reasonable length. Invalid names each question that needs an answer."""
    answers, errors = [], {}
    for q in form.questions:
        given = raw.get(q.key) or {}
        yes = _answer_value(given.get("answer"))
        details = " ".join(str(given.get("details") or "").split())
        if yes is None:
            errors[f"q-{q.key}"] = ANSWER_MESSAGE
            continue
        if len(details) > DETAILS_MAX:
            errors[f"q-{q.key}-details"] = f"Use at most {DETAILS_MAX} characters."
            continue
        answers.append({**q.as_dict(), "yes": yes, "details": details if yes else ""})
    other = str(other or "").strip()
    if len(other) > OTHER_MAX:
        errors["other"] = f"Use at most {OTHER_MAX} characters."
    if errors:
        raise Invalid("Please answer every question (yes or no).", errors)
    return answers, other


def _changed(old: list[dict], new: list[dict]) -> bool:
    def shape(items):
        return {(a["key"], a["yes"], a.get("details", "")) for a in items}

    return shape(old) != shape(new)


def _lock_baby(parent_id: int, baby_id: int) -> Baby:
    baby = db.session.scalar(
        sa.select(Baby).where(Baby.id == baby_id).with_for_update()
    )
    if baby is None or baby.parent_id != parent_id:
        raise NotFound("We could not find that baby on your account.")
    return baby


def _confirm_upcoming(baby_id: int, record: HealthRecord, now: datetime) -> int:
    """Mark the baby's live bookings in classes not yet over as confirmed at the
    record's revision; returns how many."""
    running = sa.select(Workshop.id).where(
        sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > now)
    )
    return db.session.execute(
        sa.update(Registration)
        .where(
            Registration.baby_id == baby_id,
            Registration.status.in_(ACTIVE),
            Registration.workshop_id.in_(running),
        )
        .values(health_confirmed_at=now, health_revision=record.revision)
        .execution_options(synchronize_session=False)
    ).rowcount


def save_answers(
    parent_id: int, baby_id: int, form: Form, raw: dict, other, *, consent: bool
) -> HealthRecord:
    """Keep (or update) a baby's health answers to `form`, with the parent's consent.

    Consent is needed when there is none yet or it was given to another text. The
    baby's answers to questions this form does not ask are kept. Every upcoming
    booking of the baby is then confirmed at the record's revision.
    """
    answers, other = check_answers(form, raw, other)
    with write_transaction():
        _lock_baby(parent_id, baby_id)
        record = record_of(baby_id)
        now = utcnow()
        if (record is None or record.consent_key != form.consent_key) and not consent:
            raise Invalid(CONSENT_MESSAGE, {"consent": CONSENT_MESSAGE})
        asked = {a["key"] for a in answers}
        kept = [a for a in (record.answers if record else []) if a.get("key") not in asked]
        merged = answers + kept
        if record is None:
            record = HealthRecord(
                baby_id=baby_id,
                answers=merged,
                other=other,
                form_key=form.key,
                consent_key=form.consent_key,
                consented_at=now,
                revision=1,
                updated_at=now,
            )
            db.session.add(record)
        else:
            if _changed(record.answers or [], merged) or record.other != other:
                record.revision += 1
            record.answers = merged
            record.other = other
            record.form_key = form.key
            if consent or record.consent_key != form.consent_key:
                record.consent_key = form.consent_key
                record.consented_at = now
            record.updated_at = now
        db.session.flush()
        _confirm_upcoming(baby_id, record, now)
    return record


def confirm_unchanged(parent_id: int, registration_id: int, *, consent: bool = False) -> int:
    """The parent says nothing has changed (one tap) for a booking; with `consent` when
    the text changed. Returns how many upcoming bookings of the baby are confirmed."""
    with write_transaction():
        check = health_check(parent_id, registration_id)
        _lock_baby(parent_id, check.baby.id)
        if check.record is not None:
            db.session.refresh(check.record)
        if check.record is None or check.missing:
            raise Invalid("Please answer the health questions first.")
        now = utcnow()
        if check.needs_consent:
            if not consent:
                raise Invalid(CONSENT_MESSAGE, {"consent": CONSENT_MESSAGE})
            check.record.consent_key = check.form.consent_key
            check.record.consented_at = now
        confirmed = _confirm_upcoming(check.baby.id, check.record, now)
    return confirmed


def upcoming_unconfirmed(parent_id: int, now: datetime | None = None) -> list[int]:
    """Ids of the parent's live bookings in classes still to come whose health answers
    are not confirmed at their current revision (for the bookings page's prompt)."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Registration.id, Registration.baby_id, Registration.health_revision)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(
            Registration.parent_id == parent_id,
            Registration.status.in_(ACTIVE),
            Registration.baby_id.is_not(None),
            sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > now),
        )
    ).all()
    records = records_of(r.baby_id for r in rows)
    out = []
    for registration_id, baby_id, revision in rows:
        record = records.get(baby_id)
        if record is None or revision != record.revision:
            out.append(registration_id)
    return out


def summaries_for(registrations) -> dict[int, HealthSummary]:
    """Each registration's health picture (flags, clearance), in one query for the
    babies' records. Callers show it only to who `access.may_see_health` allows."""
    registrations = list(registrations)
    records = records_of(r.baby_id for r in registrations)
    return {r.id: summary(r, records.get(r.baby_id)) for r in registrations}
