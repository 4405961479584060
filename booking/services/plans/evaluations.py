"""Course evaluations: asked once per family at the end of a course, answered without
logging in, summarised for instructors, staff and commissioners
(`booking.services.plans.evaluation_results`).

Asking: once a course's last scheduled session has ended (within the last
ASK_WITHIN, so a first run never mails old history), each family's first confirmed
booking gets one `Evaluation` row and one email carrying its link, in one short
transaction per family; the email and the page name every baby the family has on the
course ("Amy and Bea"). A single class is never asked: the questions are about
confidence before and after a course's weeks, which one session does not have.
Safe from cron and from concurrent runs: the evaluation's unique `registration_id`
and the email's unique dedupe key ("evaluation:<registration id>") make the loser of
a race fail on insert, and it moves on.

Answering: the link (`/evaluate/<token>`) carries a signed token naming the booking,
so no login is needed; the answers can be changed later from the same link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import absolute_url
from booking.models import (
    Centre,
    Evaluation,
    OutboxMessage,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import CONFIRMED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.models.workshop import KIND_COURSE, PUBLISHED, SCHEDULED
from booking.services.errors import Invalid, NotFound
from booking.services.notices.emails import notify_evaluation_request
from booking.services.plans.families import babies_on_course
from booking.services.schedule import fields as rules
from booking.services.signed_links import read_ids, sign_ids

# How long after a course's last session its families are still asked.
ASK_WITHIN = timedelta(days=14)
SALT = "course-evaluation"
HELPED_MAX = 1000
SCALE = range(1, 6)
LINK_GONE = (
    "This evaluation link is not valid. Please use the link in the email we sent you "
    "at the end of the course, exactly as it is."
)


def evaluation_key(registration_id: int) -> str:
    """The outbox dedupe key of a booking's evaluation request."""
    return f"evaluation:{registration_id}"


def evaluation_token(registration_id: int) -> str:
    """The token in an evaluation link, naming one booking."""
    return sign_ids(SALT, registration_id)


def read_evaluation_token(token: str) -> int:
    """The booking an evaluation token names; NotFound for anything else."""
    return read_ids(SALT, token, 1, LINK_GONE)[0]


def evaluation_url(registration_id: int) -> str:
    """The absolute evaluation link of one booking, for its email."""
    return absolute_url(f"/evaluate/{evaluation_token(registration_id)}")


# --- asking -----------------------------------------------------------------------------


def _last_end():
    """SQL: when the workshop's last scheduled session ends (correlated to Workshop)."""
    return (
        sa.select(sa.func.max(WorkshopSession.ends_at))
        .where(WorkshopSession.workshop_id == Workshop.id, WorkshopSession.status == SCHEDULED)
        .correlate(Workshop)
        .scalar_subquery()
    )


def _family_asked(parent_id, workshop_id) -> sa.Exists:
    """SQL: whether the family (the parent, in that workshop: twins are one family) has
    been asked already, for any of their bookings there."""
    other = aliased(Registration)
    return sa.exists().where(
        Evaluation.workshop_id == workshop_id,
        Evaluation.registration_id.in_(
            sa.select(other.id).where(
                other.parent_id == parent_id, other.workshop_id == workshop_id
            )
        ),
    )


def due_evaluations(now: datetime | None = None) -> list[int]:
    """Ids of the first confirmed booking of each family (parent) in each published
    course whose last scheduled session ended within ASK_WITHIN before `now`, for
    families not asked yet: twins' parents are asked once. Single classes are left out
    (see the module's docstring)."""
    now = now or utcnow()
    ends = WorkshopSession.ends_at.type
    last_end = _last_end()
    asked = _family_asked(Registration.parent_id, Registration.workshop_id)
    return sorted(
        db.session.scalars(
            sa.select(sa.func.min(Registration.id))
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .join(User, User.id == Registration.parent_id)
            .where(
                Registration.status == CONFIRMED,
                Workshop.status == PUBLISHED,
                Workshop.kind == KIND_COURSE,
                User.deleted_at.is_(None),
                last_end <= sa.bindparam("now", now, type_=ends),
                last_end > sa.bindparam("since", now - ASK_WITHIN, type_=ends),
                ~asked,
            )
            .group_by(Registration.parent_id, Registration.workshop_id)
        )
    )


def _still_due(registration: Registration | None, now: datetime) -> bool:
    """Whether a booking is (still) to be asked, read afresh inside the transaction."""
    if registration is None or registration.status != CONFIRMED:
        return False
    workshop = db.session.get(Workshop, registration.workshop_id, populate_existing=True)
    if workshop is None or workshop.status != PUBLISHED or not workshop.is_course:
        return False
    last_end = db.session.scalar(
        sa.select(sa.func.max(WorkshopSession.ends_at)).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.status == SCHEDULED
        )
    )
    if last_end is None or not now - ASK_WITHIN < last_end <= now:
        return False
    parent = db.session.get(User, registration.parent_id) if registration.parent_id else None
    return parent is not None and parent.deleted_at is None and bool(parent.email)


def ask_one(registration_id: int, now: datetime | None = None) -> bool:
    """Ask one family for their evaluation unless they have been asked: one Evaluation
    row and one email, in one transaction; True if queued."""
    now = now or utcnow()
    key = evaluation_key(registration_id)
    try:
        with write_transaction():
            registration = db.session.get(Registration, registration_id, populate_existing=True)
            if not _still_due(registration, now):
                return False
            asked = db.session.scalar(
                sa.select(
                    _family_asked(registration.parent_id, registration.workshop_id)
                )
            )
            queued = db.session.scalar(
                sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            )
            if asked or queued is not None:
                return False
            db.session.add(
                Evaluation(
                    registration_id=registration.id,
                    workshop_id=registration.workshop_id,
                    asked_at=now,
                )
            )
            db.session.flush()
            message = notify_evaluation_request(
                registration,
                evaluation_url(registration.id),
                babies_on_course(registration.parent_id, registration.workshop_id),
                dedupe_key=key,
            )
            if message is None:
                raise _NotSent
            db.session.flush()
            return True
    except _NotSent:
        return False
    except sa.exc.IntegrityError:
        # Another run asked this family between our check and our insert.
        return False


class _NotSent(Exception):
    """The request could not be emailed: nothing of it is kept."""


def ask_for_evaluations(now: datetime | None = None) -> int:
    """Queue the evaluation request of every family whose course has ended and who has
    not been asked yet, each once; returns how many were queued."""
    now = now or utcnow()
    return sum(1 for registration_id in due_evaluations(now) if ask_one(registration_id, now))


# --- answering --------------------------------------------------------------------------


@dataclass
class EvaluationQuestion:
    """What the evaluation page shows: the course, the first names of the family's
    babies on it ('Amy and Bea'), and the answers given so far."""

    evaluation: Evaluation
    workshop: Workshop
    centre: Centre
    babies: str

    @property
    def answered(self) -> bool:
        """Whether the family has answered (they may still change it)."""
        return self.evaluation.answered_at is not None


def evaluation_question(registration_id: int) -> EvaluationQuestion:
    """The evaluation a link names; NotFound when the family was never asked, or has
    since erased their account."""
    evaluation = db.session.scalar(
        sa.select(Evaluation)
        .where(Evaluation.registration_id == registration_id)
        .execution_options(populate_existing=True)
    )
    registration = db.session.get(Registration, registration_id)
    # A booking cancelled since it was asked (or a cancelled course) no longer speaks
    # for the course.
    if evaluation is None or registration is None or registration.status != CONFIRMED:
        raise NotFound(LINK_GONE)
    parent = db.session.get(User, registration.parent_id) if registration.parent_id else None
    if parent is None or parent.deleted_at is not None:
        raise NotFound(LINK_GONE)
    workshop = db.session.get(Workshop, evaluation.workshop_id)
    if workshop is None or workshop.status == WORKSHOP_CANCELLED:
        raise NotFound(LINK_GONE)
    return EvaluationQuestion(
        evaluation=evaluation,
        workshop=workshop,
        centre=db.session.get(Centre, workshop.centre_id),
        # One evaluation per family, asked through its first booking: about all of them.
        babies=babies_on_course(parent.id, workshop.id) or "your baby",
    )


def _confidence(raw, question: str, errors: dict, name: str) -> int | None:
    """A 1-5 answer, or None with the message under `name`."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        errors[name] = f"Choose how confident {question}, from 1 to 5."
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 2) or int(text) not in SCALE:
        errors[name] = "Choose one of the numbers from 1 (not at all) to 5 (very)."
        return None
    return int(text)


def check_answers(before, after, helped) -> tuple[dict, dict]:
    """The answers as they will be kept, and the problems by field name
    (`confidence_before`, `confidence_after`, `helped`)."""
    errors: dict[str, str] = {}
    clean = {
        "confidence_before": _confidence(
            before, "you felt before the course", errors, "confidence_before"
        ),
        "confidence_after": _confidence(after, "you feel now", errors, "confidence_after"),
    }
    text = str(helped or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > HELPED_MAX:
        errors["helped"] = (
            f"Please keep this to {HELPED_MAX} characters (it has {len(text)})."
        )
    else:
        try:  # the words may be shown publicly: nothing that hides or reverses text
            rules.readable(text, label="What helped", multiline=True)
        except rules.FieldError as exc:
            errors["helped"] = str(exc)
    clean["helped"] = text
    return clean, errors


def answer_evaluation(registration_id: int, *, before, after, helped="", public=False,
                      now: datetime | None = None) -> Evaluation:
    """Keep a family's answers (or their changed answers): confidence before and after
    (1-5), what helped (optional, up to HELPED_MAX characters) and whether their words
    may be shown publicly, without their name. Nothing is saved when anything is wrong."""
    clean, errors = check_answers(before, after, helped)
    if errors:
        raise Invalid("Please check the answers.", errors)
    with write_transaction():
        question = evaluation_question(registration_id)
        evaluation = question.evaluation
        evaluation.confidence_before = clean["confidence_before"]
        evaluation.confidence_after = clean["confidence_after"]
        evaluation.helped = clean["helped"]
        evaluation.public = bool(public)
        evaluation.answered_at = now or utcnow()
        db.session.flush()
    return evaluation
