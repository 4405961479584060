"""The demo shows courses as they really run: an absence and a make-up, a doll day,
and a workshop that `run-decisions` cancels for too few bookings."""

import sqlalchemy as sa

from booking.demo import seed_demo
from booking.extensions import db
from booking.models import Absence, Baby, MakeupBooking, OutboxMessage, Workshop
from booking.services.decisions import run_decisions


def test_demo_makeup_immunisation_and_at_risk_workshop(ctx, runner):
    seed_demo()
    seed_demo()
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1
    assert db.session.scalar(
        sa.select(sa.func.count(Baby.id)).where(Baby.immunisation_date.is_not(None))
    ) == 1
    result = runner.invoke(args=["run-decisions"])
    assert result.exit_code == 0, result.output
    assert "Cancelled below their minimum: 1" in result.output
    db.session.expire_all()
    at_risk = db.session.scalar(
        sa.select(Workshop).where(Workshop.title == "Baby massage: weekend course")
    )
    assert at_risk.status == "cancelled"
    mail = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Class cancelled"))
    )
    assert "instead" in mail.body_text
    assert run_decisions().cancelled == []
