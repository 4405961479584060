"""What families carry home: the week's home-practice sheets, and course evaluations.

- `PracticeSheet`: the home-practice sheet one family got after one session (or a
  make-up of that week), kept as it was sent so the whole routine can be found months
  later even if the plan is edited afterwards. `dedupe_key` makes each sheet once.
- `Evaluation`: one family's evaluation of a course: confidence massaging their baby
  before and after (1-5), what helped, and whether their words may be shown publicly.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, UTCDateTime, utcnow


class PracticeSheet(Base):
    """The home-practice sheet of one week, as one family received it."""

    __tablename__ = "practice_sheet"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "practice:<registration id>:<session id>" or "practice:makeup:<make-up id>".
    dedupe_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    baby_id: Mapped[int | None] = mapped_column(sa.ForeignKey("baby.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="SET NULL")
    )
    # The session whose plan the sheet holds (the one made up, for a make-up).
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="SET NULL")
    )
    workshop_title: Mapped[str] = mapped_column(sa.String(200))
    centre_name: Mapped[str] = mapped_column(sa.String(200), default="")
    week_number: Mapped[int]
    weeks: Mapped[int] = mapped_column(default=1)
    session_day: Mapped[date]
    title: Mapped[str] = mapped_column(sa.String(120))
    covers: Mapped[str] = mapped_column(sa.Text, default="")
    practice: Mapped[str] = mapped_column(sa.Text, default="")
    next_title: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evaluation(Base):
    """One family's evaluation of one course they took."""

    __tablename__ = "evaluation"
    __table_args__ = (
        sa.CheckConstraint(
            "confidence_before IS NULL OR confidence_before BETWEEN 1 AND 5",
            name="before_in_range",
        ),
        sa.CheckConstraint(
            "confidence_after IS NULL OR confidence_after BETWEEN 1 AND 5",
            name="after_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    # When the request was queued (one email per family), and when it was answered.
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confidence_before: Mapped[int | None]
    confidence_after: Mapped[int | None]
    helped: Mapped[str] = mapped_column(sa.Text, default="")
    public: Mapped[bool] = mapped_column(default=False)
