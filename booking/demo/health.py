"""The demo parent's health answers (called by seed-demo, idempotent).

Leo's answers raise no flag. Ivy, born 5 weeks early, is treated for hip dysplasia:
a "yes" with details, so her booking on the first months course shows "Needs
clearance" on the instructor's roster until the instructor clears it. Answers are
given once, with consent, through the same service a parent's form uses; a baby who
already has answers is left as the parent (or a visitor trying the demo) left them.
"""

import sqlalchemy as sa

from booking.db import write_transaction
from booking.demo.data import DEMO_BABY, EARLY_BABY, EARLY_BABY_HIPS
from booking.extensions import db
from booking.models import Baby, Registration, User, Workshop
from booking.models.health import CLEARANCE
from booking.models.registration import ACTIVE
from booking.services.health.answers import record_of, save_answers
from booking.services.health.questions import Form, current_form

DEMO_PARENT = "parent@example.com"
HIPS = "hips"


def _baby(parent_id: int, name: str) -> Baby | None:
    return db.session.scalar(
        sa.select(Baby).where(Baby.parent_id == parent_id, Baby.name_key == Baby.key_for(name))
    )


def _form_for(baby_id: int) -> tuple[Form, int | None]:
    """The questions asked by the centre of the baby's latest live booking, and that
    booking's id (its answers are confirmed for it)."""
    row = db.session.execute(
        sa.select(Workshop.centre_id, Registration.id)
        .join(Registration, Registration.workshop_id == Workshop.id)
        .where(Registration.baby_id == baby_id, Registration.status.in_(ACTIVE))
        .order_by(Registration.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return current_form(None), None
    return current_form(row.centre_id), row.id


def _answers(form: Form, hips: str = "") -> dict:
    """No to every question; with `hips`, yes to the hip dysplasia question (or, for a
    centre's own questions without it, the first that needs a doctor's word)."""
    raw = {q.key: {"answer": "no"} for q in form.questions}
    if hips:
        question = form.question(HIPS) or next(
            (q for q in form.questions if q.kind == CLEARANCE), None
        )
        if question is not None:
            raw[question.key] = {"answer": "yes", "details": hips}
    return raw


def seed_health_answers() -> int:
    """Give the demo parent's babies their health answers, once; returns how many."""
    given = 0
    with write_transaction():
        parent = db.session.scalar(sa.select(User).where(User.email == DEMO_PARENT))
        if parent is None:
            return 0
        for name, hips in ((DEMO_BABY[0], ""), (EARLY_BABY[0], EARLY_BABY_HIPS)):
            baby = _baby(parent.id, name)
            if baby is None or record_of(baby.id) is not None:
                continue
            form, registration_id = _form_for(baby.id)
            save_answers(
                parent.id,
                baby.id,
                form,
                _answers(form, hips),
                "",
                consent=True,
                registration_id=registration_id,
            )
            given += 1
    return given
