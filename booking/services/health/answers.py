"""A baby's health answers: asked once with explicit consent, confirmed before each course.

The parent answers the questions in force at the class's centre; the answers are
kept per baby (`HealthRecord`), each with the question as it was asked. Before each
further course a parent confirms them in one tap when nothing changed, or updates
them. A changed health-and-safety text (a new version of the questions, or of the
consent wording) asks for consent again.

Consent is given per centre (`HealthConsent`): it names that centre's staff and the
instructors of the baby's classes there, and nobody at a centre sees the answers
before the parent has agreed for it. Saving or confirming confirms the booking in hand
(each course is confirmed before it, one tap when nothing changed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    HealthConsent,
    HealthRecord,
    Registration,
    SessionReadiness,
    Workshop,
    utcnow,
)
from booking.models.registration import ACTIVE
from booking.services.errors import Invalid, NotFound
from booking.services.health.flags import (
    AnswersAt,
    HealthSummary,
    clearance_fingerprint,
    read_at,
    summary,
)
from booking.services.health.questions import (
    PRODUCT_FORM,
    Form,
    Question,
    current_form,
    current_forms,
)
from booking.services.schedule import fields as rules

DETAILS_MAX = 500
OTHER_MAX = 2000
CONSENT_MESSAGE = "Please tick to agree before we keep these answers."
ANSWER_MESSAGE = "Choose yes or no."
ANSWERS_MESSAGE = "Please answer every question (yes or no)."

# What a booking still needs before its class (HealthCheck.to_do, health_prompts).
TO_ANSWER = "answer"  # no answers yet
TO_UPDATE = "update"  # new questions, or a changed text to agree to again
TO_CONFIRM = "confirm"  # answers current: one tap confirms them for this booking


def _to_do(
    form: Form, record: HealthRecord | None, consent: HealthConsent | None, confirmed_at,
    revision,
) -> str | None:
    """What is left for one booking: answer, update, confirm, or nothing (None)."""
    if record is None:
        return TO_ANSWER
    answered = {a["key"] for a in record.answers or [] if "key" in a}
    if any(q.key not in answered for q in form.questions):
        return TO_UPDATE
    if consent is None or consent.consent_key != form.consent_key:
        return TO_CONFIRM
    if confirmed_at is None or revision != record.revision:
        return TO_CONFIRM
    return None


@dataclass
class HealthCheck:
    """One booking's health questions: the form in force, the baby's answers, the
    parent's consent for that centre, and what the parent still has to do (answer,
    agree, confirm, or nothing).

    From `baby_check`, `registration` and `workshop` are the baby's next booking, or
    None when there is none (then nothing is ever `done`)."""

    registration: Registration | None
    workshop: Workshop | None
    baby: Baby
    form: Form
    record: HealthRecord | None
    centre: Centre | None = None
    consent: HealthConsent | None = None

    @property
    def answers(self) -> dict[str, dict]:
        """The baby's answers by question key."""
        if self.record is None:
            return {}
        return {a["key"]: a for a in self.record.answers or [] if "key" in a}

    @property
    def earlier(self) -> list[Question]:
        """Questions the baby has answers to that this form does not ask (asked by
        another centre, or an earlier version): still shown to the instructor, so the
        parent sees and can change them too."""
        asked = {q.key for q in self.form.questions}
        return [
            Question(a["key"], a.get("text", ""), a.get("kind", ""), a.get("flag", ""))
            for a in (self.record.answers if self.record else [])
            if a.get("key") and a["key"] not in asked
        ]

    @property
    def questions(self) -> list[Question]:
        """Everything the parent answers on the page: the form's questions, then the
        earlier ones."""
        return list(self.form.questions) + self.earlier

    @property
    def missing(self) -> list:
        """Questions of the form the baby has no answer to yet."""
        answered = self.answers
        return [q for q in self.form.questions if q.key not in answered]

    @property
    def needs_consent(self) -> bool:
        """No consent for this centre yet, or consent to an older text."""
        return self.consent is None or self.consent.consent_key != self.form.consent_key

    @property
    def can_confirm(self) -> bool:
        """Every question answered: one tap confirms them (with the consent tick when
        the parent has not agreed to this text for this centre)."""
        return self.record is not None and not self.missing

    @property
    def done(self) -> bool:
        """This booking has the answers confirmed as they stand now."""
        return self.registration is not None and self.to_do is None

    @property
    def to_do(self) -> str | None:
        """TO_ANSWER, TO_UPDATE or TO_CONFIRM for this booking, or None when done."""
        registration = self.registration
        return _to_do(
            self.form,
            self.record,
            self.consent,
            registration.health_confirmed_at if registration is not None else None,
            registration.health_revision if registration is not None else None,
        )


def consent_for(baby_id: int, centre_id: int | None) -> HealthConsent | None:
    """The parent's consent to share the baby's answers with a centre (None: outside
    any booking)."""
    where = (
        HealthConsent.centre_id.is_(None)
        if centre_id is None
        else HealthConsent.centre_id == centre_id
    )
    return db.session.scalar(
        sa.select(HealthConsent).where(HealthConsent.baby_id == baby_id, where)
    )


def shared_records(baby_ids, centre_id: int) -> dict[int, AnswersAt]:
    """The health answers of babies whose parents agreed to share them with the centre
    (any version of the text), in one query, as the centre reads them (`flags.read_at`:
    what a "yes" means is what its questions in force say): what its instructors and
    staff may see."""
    ids = {i for i in baby_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(HealthRecord)
        .join(HealthConsent, HealthConsent.baby_id == HealthRecord.baby_id)
        .where(HealthRecord.baby_id.in_(ids), HealthConsent.centre_id == centre_id)
    ).all()
    if not rows:
        return {}
    form = current_form(centre_id)
    return {r.baby_id: read_at(r, form) for r in rows}


def record_at(baby_id: int | None, centre_id: int) -> AnswersAt | None:
    """A baby's health answers, if the parent has answered, as a centre reads them
    (`flags.read_at`): for what the parent is told about that centre's class."""
    return read_at(record_of(baby_id), current_form(centre_id)) if baby_id else None


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
    rows = db.session.scalars(_of_babies(HealthRecord), {"ids": list(ids)})
    return {r.baby_id: r for r in rows}


@cache
def _of_babies(model):
    """The rows of `model` (health records or consents) of several babies: built once
    per model, the babies' ids an expanding parameter."""
    return sa.select(model).where(model.baby_id.in_(sa.bindparam("ids", expanding=True)))


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
    return _booking_check(registration, db.session.get(Baby, registration.baby_id))


def _booking_check(registration: Registration, baby: Baby) -> HealthCheck:
    """The health check of a booking: its centre's questions and the baby's answers."""
    workshop = db.session.get(Workshop, registration.workshop_id)
    return HealthCheck(
        registration,
        workshop,
        baby,
        current_form(workshop.centre_id),
        record_of(baby.id),
        db.session.get(Centre, workshop.centre_id),
        consent_for(baby.id, workshop.centre_id),
    )


def _still_to_come(now: datetime):
    """SQL: the workshop is not over yet."""
    return sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > now)


def baby_check(parent_id: int, baby_id: int, now: datetime | None = None) -> HealthCheck:
    """A baby's health questions outside a booking: those of the centre of the baby's
    next live booking (the earliest to start), else the product's; NotFound for a baby
    not on the parent's account."""
    baby = db.session.get(Baby, baby_id)
    if baby is None or baby.parent_id != parent_id:
        raise NotFound("We could not find that baby on your account.")
    registration = db.session.scalar(
        sa.select(Registration)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(
            Registration.baby_id == baby.id,
            Registration.parent_id == parent_id,
            Registration.status.in_(ACTIVE),
            _still_to_come(now or utcnow()),
        )
        .order_by(Workshop.first_starts_at.is_(None), Workshop.first_starts_at, Registration.id)
        .limit(1)
    )
    if registration is None:
        return HealthCheck(
            None, None, baby, PRODUCT_FORM, record_of(baby.id), None, consent_for(baby.id, None)
        )
    return _booking_check(registration, baby)


def _answer_value(raw) -> bool | None:
    if raw in (True, "yes"):
        return True
    if raw in (False, "no"):
        return False
    return None


def check_answers(
    form: Form, raw: dict, other, earlier: list[Question] = ()
) -> tuple[list[dict], str]:
    """The parent's answers to a form (and to the `earlier` questions the baby has
    answers to), checked: a yes or no to every question, details of reasonable length.
    Invalid names each question that needs an answer."""
    answers, errors = [], {}
    for q in list(form.questions) + list(earlier):
        given = raw.get(q.key) or {}
        yes = _answer_value(given.get("answer"))
        details = " ".join(str(given.get("details") or "").split())
        if yes is None:
            errors[f"q-{q.key}"] = ANSWER_MESSAGE
            continue
        if len(details) > DETAILS_MAX:
            errors[f"q-{q.key}-details"] = f"Use at most {DETAILS_MAX} characters."
            continue
        problem = _unreadable(details, "The details")
        if problem:
            errors[f"q-{q.key}-details"] = problem
            continue
        answers.append({**q.as_dict(), "yes": yes, "details": details if yes else ""})
    other = str(other or "").strip()
    if len(other) > OTHER_MAX:
        errors["other"] = f"Use at most {OTHER_MAX} characters."
    elif problem := _unreadable(other, "Anything else the instructor should know"):
        errors["other"] = problem
    if errors:
        raise Invalid(ANSWERS_MESSAGE, errors)
    return answers, other


def _unreadable(text: str, label: str) -> str | None:
    """What makes a free-text answer unfit to show an instructor (control characters,
    text-direction overrides), or None; tabs and line breaks are fine."""
    try:
        rules.readable(text, label=label, multiline=True)
    except rules.FieldError as exc:
        return str(exc)
    return None


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


def _confirm_booking(
    registration_id: int | None, baby_id: int, record: HealthRecord, now: datetime
) -> int:
    """Mark one live booking of the baby as confirmed at the record's revision."""
    if registration_id is None:
        return 0
    return db.session.execute(
        sa.update(Registration)
        .where(
            Registration.id == registration_id,
            Registration.baby_id == baby_id,
            Registration.status.in_(ACTIVE),
        )
        .values(health_confirmed_at=now, health_revision=record.revision)
        .execution_options(synchronize_session=False)
    ).rowcount


def _agree(baby_id: int, form: Form, now: datetime) -> HealthConsent:
    """Record the parent's consent to `form`'s text for its centre (kept, or renewed)."""
    consent = consent_for(baby_id, form.for_centre)
    if consent is None:
        consent = HealthConsent(baby_id=baby_id, centre_id=form.for_centre)
        db.session.add(consent)
    consent.consent_key, consent.consented_at = form.consent_key, now
    return consent


def _uncleared(baby_id: int, record: HealthRecord | None = None) -> None:
    """Clearances end where the baby's answers no longer need a doctor's word, so a
    later "yes" needs clearing again: at every centre when the answers are gone (no
    `record`), else at the centres whose questions in force find nothing to clear in
    them (each centre decides what a "yes" means: `flags.read_at`)."""
    cleared = db.session.execute(
        sa.select(Registration.id, Workshop.centre_id)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(Registration.baby_id == baby_id, Registration.cleared_fingerprint != "")
    ).all()
    if record is not None:
        forms = current_forms(centre_id for _, centre_id in cleared)
        cleared = [
            (registration_id, centre_id) for registration_id, centre_id in cleared
            if not clearance_fingerprint(read_at(record, forms[centre_id]))
        ]
    if cleared:
        db.session.execute(
            sa.update(Registration)
            .where(Registration.id.in_([registration_id for registration_id, _ in cleared]))
            .values(cleared_fingerprint="", cleared_at=None, cleared_by_id=None,
                    clearance_note="")
            .execution_options(synchronize_session=False)
        )


def save_answers(
    parent_id: int,
    baby_id: int,
    form: Form,
    raw: dict,
    other,
    *,
    consent: bool,
    registration_id: int | None = None,
) -> HealthRecord:
    """Keep (or update) a baby's health answers to `form` (and to the questions the
    baby answered before that this form does not ask), with the parent's consent.

    Consent is needed when the parent has not agreed to this text for this centre.
    The booking `registration_id` (when given) is confirmed at the record's revision.
    Invalid names every field that needs a change at once (answers and consent).
    """
    with write_transaction():
        _lock_baby(parent_id, baby_id)
        record = record_of(baby_id)
        earlier = [
            Question(a["key"], a.get("text", ""), a.get("kind", ""), a.get("flag", ""))
            for a in (record.answers if record else [])
            if a.get("key") and form.question(a["key"]) is None
        ]
        try:
            answers, other = check_answers(form, raw, other, earlier)
            problems = {}
        except Invalid as exc:
            answers, problems = [], dict(exc.fields)
        now = utcnow()
        agreed = consent_for(baby_id, form.for_centre)
        if (agreed is None or agreed.consent_key != form.consent_key) and not consent:
            problems["consent"] = CONSENT_MESSAGE
        if problems:
            only_consent = list(problems) == ["consent"]
            raise Invalid(CONSENT_MESSAGE if only_consent else ANSWERS_MESSAGE, problems)
        if record is None:
            record = HealthRecord(
                baby_id=baby_id,
                answers=answers,
                other=other,
                form_key=form.key,
                consent_key=form.consent_key,
                consented_at=now,
                revision=1,
                updated_at=now,
            )
            db.session.add(record)
        else:
            if _changed(record.answers or [], answers) or record.other != other:
                record.revision += 1
            record.answers = answers
            record.other = other
            record.form_key = form.key
            record.updated_at = now
        if consent or agreed is None or agreed.consent_key != form.consent_key:
            _agree(baby_id, form, now)
            record.consent_key, record.consented_at = form.consent_key, now
        db.session.flush()
        _uncleared(baby_id, record)
        _confirm_booking(registration_id, baby_id, record, now)
    return record


def confirm_unchanged(parent_id: int, registration_id: int, *, consent: bool = False) -> int:
    """The parent says nothing has changed (one tap) for a booking; with `consent` when
    they have not agreed to this text for this centre. Returns 1 when confirmed."""
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
            _agree(check.baby.id, check.form, now)
            check.record.consent_key = check.form.consent_key
            check.record.consented_at = now
        confirmed = _confirm_booking(registration_id, check.baby.id, check.record, now)
    return confirmed


def forget_answers(parent_id: int, baby_id: int) -> None:
    """The parent withdraws consent: the baby's answers and every consent to share them
    are deleted, and no instructor or centre sees them any more."""
    with write_transaction():
        _lock_baby(parent_id, baby_id)
        db.session.execute(sa.delete(HealthRecord).where(HealthRecord.baby_id == baby_id))
        db.session.execute(sa.delete(HealthConsent).where(HealthConsent.baby_id == baby_id))
        # The "Ready for <day>?" answers say how the baby is too (unwell, immunised): gone
        # with the rest. An absence one of them reported stays, as the parent's own.
        db.session.execute(
            sa.delete(SessionReadiness).where(SessionReadiness.registration_id.in_(
                sa.select(Registration.id).where(Registration.baby_id == baby_id)
            )).execution_options(synchronize_session=False)
        )
        _uncleared(baby_id)
        db.session.execute(
            sa.update(Registration)
            .where(Registration.baby_id == baby_id)
            .values(health_confirmed_at=None, health_revision=None)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class _Live:
    id: int
    baby_id: int
    health_confirmed_at: datetime | None
    health_revision: int | None
    centre_id: int


def health_prompts(
    parent_id: int,
    now: datetime | None = None,
    registrations: Iterable[Registration] | None = None,
    babies_answered: Collection[int] | None = None,
) -> dict[int, str]:
    """What each of the parent's live bookings in classes still to come needs before
    its class (TO_ANSWER, TO_UPDATE or TO_CONFIRM), by registration id; bookings with
    nothing to do are left out. A fixed number of queries, however many bookings.

    `registrations`: all of the parent's registrations, already loaded with their
    workshops (the bookings page has them); read here when not given. `babies_answered`: the
    babies among theirs with health answers, when the caller read that already: only
    those babies' answers are read (nothing, when none has answered); a baby left out
    has its answers to give."""
    now = now or utcnow()
    if registrations is None:
        rows = [_Live(*row) for row in db.session.execute(
            sa.select(
                Registration.id,
                Registration.baby_id,
                Registration.health_confirmed_at,
                Registration.health_revision,
                Workshop.centre_id,
            )
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(
                Registration.parent_id == parent_id,
                Registration.status.in_(ACTIVE),
                Registration.baby_id.is_not(None),
                _still_to_come(now),
            )
        )]
    else:
        rows = [
            _Live(r.id, r.baby_id, r.health_confirmed_at, r.health_revision,
                  r.workshop.centre_id)
            for r in registrations
            if r.parent_id == parent_id
            and r.status in ACTIVE
            and r.baby_id is not None
            and (r.workshop.last_ends_at is None or r.workshop.last_ends_at > now)
        ]
    rows.sort(key=lambda r: r.id)
    records = records_of(
        r.baby_id for r in rows if babies_answered is None or r.baby_id in babies_answered
    )
    # A baby with no answers yet has them to give, whatever the form or the consent:
    # those are read only for babies with answers (none, for a family new to classes).
    answered = [r for r in rows if r.baby_id in records]
    forms = current_forms(r.centre_id for r in answered)
    baby_ids = sorted({r.baby_id for r in answered})
    found = db.session.scalars(_of_babies(HealthConsent), {"ids": baby_ids}) if baby_ids else ()
    consents = {(c.baby_id, c.centre_id): c for c in found}
    prompts = {}
    for row in rows:
        record = records.get(row.baby_id)
        state = TO_ANSWER if record is None else _to_do(
            forms[row.centre_id],
            record,
            consents.get((row.baby_id, row.centre_id)),
            row.health_confirmed_at,
            row.health_revision,
        )
        if state is not None:
            prompts[row.id] = state
    return prompts


def upcoming_unconfirmed(parent_id: int, now: datetime | None = None) -> list[int]:
    """Ids of the parent's live bookings in classes still to come whose health answers
    are not confirmed as they stand now: not answered, not confirmed at the record's
    revision, or asked again by new questions or a changed text."""
    return list(health_prompts(parent_id, now))


def summaries_for(registrations, centre_id: int) -> dict[int, HealthSummary]:
    """Each registration's health picture (flags, clearance) at one centre, from the
    records its parents agreed to share with it. Callers show it only to who
    `access.may_see_health` allows."""
    registrations = list(registrations)
    records = shared_records((r.baby_id for r in registrations), centre_id)
    return {r.id: summary(r, records.get(r.baby_id)) for r in registrations}
