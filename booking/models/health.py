"""What an instructor must know before touching a baby: health questions and answers.

Health answers are special-category data (GDPR Art. 9). They live only here, are shown
only to the instructor of a class the baby is booked on and the staff of that class's
centre, and never reach an email, a feed, the API's lists or a log line.

- `HealthForm`: a centre's own version of the questions (the product's default set
  lives in code, `booking.services.health.questions`); every change is a new version.
- `HealthRecord`: one baby's answers, each kept with the question as it was asked (so
  a later change of the questions never changes what a parent said), and the version
  of the health-and-safety text the parent consented to.
- `HealthConsent`: the parent's consent to share the answers with one centre.
- `SessionReadiness`: the parent's answer to "Ready for Thursday?" for one session.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow

# What a "yes" to a question means for the class.
NOT_TODAY = "not_today"  # no massage while it lasts: watch and practise on a doll
CLEARANCE = "clearance"  # a doctor's word first: the instructor clears the booking
ALLERGY = "allergy"  # oils and creams to avoid
TELL = "tell"  # something the instructor should know
QUESTION_KINDS = (NOT_TODAY, CLEARANCE, ALLERGY, TELL)

# Answers to "Ready for <day>?" before one session.
READY_WELL = "well"
READY_UNWELL = "unwell"
READY_IMMUNISED = "immunised"
READINESS = (READY_WELL, READY_UNWELL, READY_IMMUNISED)


class HealthForm(Base):
    """One version of a centre's own health questions and health-and-safety note."""

    __tablename__ = "health_form"
    __table_args__ = (
        sa.UniqueConstraint("centre_id", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(
        sa.ForeignKey("centre.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    # [{"key", "text", "kind", "flag"}, ...] in the order they are asked.
    questions: Mapped[list] = mapped_column(sa.JSON)
    safety_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HealthRecord(Base):
    """A baby's health answers, as the parent last gave or confirmed them."""

    __tablename__ = "health_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    baby_id: Mapped[int] = mapped_column(
        sa.ForeignKey("baby.id", ondelete="CASCADE"), unique=True
    )
    # [{"key", "text", "kind", "flag", "yes", "details"}, ...]
    answers: Mapped[list] = mapped_column(sa.JSON)
    other: Mapped[str] = mapped_column(sa.Text, default="")
    # The questions (product or centre version) last answered, e.g. "product-1".
    form_key: Mapped[str] = mapped_column(sa.String(40))
    # The health-and-safety text the parent agreed to, and when.
    consent_key: Mapped[str] = mapped_column(sa.String(60))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Goes up whenever an answer changes; a booking confirmed at one revision shows
    # the instructor whether anything changed since.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    baby = relationship("Baby", lazy="raise_on_sql")


class HealthConsent(Base):
    """A parent's explicit consent to share a baby's health answers with one centre (the
    instructors of the baby's classes there and its staff), to one version of the text.

    No row for a centre: its instructors and staff see none of the answers. The row
    with no centre is the consent to keep answers given outside any booking.
    """

    __tablename__ = "health_consent"
    __table_args__ = (sa.UniqueConstraint("baby_id", "centre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    baby_id: Mapped[int] = mapped_column(
        sa.ForeignKey("baby.id", ondelete="CASCADE"), index=True
    )
    centre_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("centre.id", ondelete="CASCADE"), index=True
    )
    consent_key: Mapped[str] = mapped_column(sa.String(60))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SessionReadiness(Base):
    """The parent's answer to "Ready for <day>?" for one session of a booking."""

    __tablename__ = "session_readiness"
    __table_args__ = (
        sa.UniqueConstraint("registration_id", "session_id"),
        sa.CheckConstraint("status IN ('well', 'unwell', 'immunised')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(10))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
