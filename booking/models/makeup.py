"""Absences from one session of a course, the make-up credits they earn, and make-ups.

A parent who says in advance that they will miss one session frees that seat for
that session only (`WorkshopSession.absences`) and earns a credit for the same
week number at the same centre. Using the credit books one seat in that week of
another course (`WorkshopSession.makeups_taken`). A session's seats are
capacity - confirmed + absences - make-ups.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow


class Absence(Base):
    """A confirmed registration's baby will miss one session of its course."""

    __tablename__ = "absence"
    __table_args__ = (sa.UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration = relationship("Registration", lazy="raise_on_sql")
    session = relationship("WorkshopSession", lazy="raise_on_sql")


class MakeupCredit(Base):
    """One make-up earned by an absence: a week number at a centre, until it expires."""

    __tablename__ = "makeup_credit"
    __table_args__ = (sa.CheckConstraint("week_number >= 1", name="week_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("absence.id", ondelete="CASCADE"), unique=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    baby_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("baby.id", ondelete="SET NULL"), index=True
    )
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centre.id", ondelete="CASCADE"))
    week_number: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    absence = relationship("Absence", lazy="raise_on_sql")
    baby = relationship("Baby", lazy="raise_on_sql")
    centre = relationship("Centre", lazy="raise_on_sql")


class MakeupBooking(Base):
    """A seat in one session of another course, booked with a make-up credit."""

    __tablename__ = "makeup_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("makeup_credit.id", ondelete="CASCADE"), unique=True
    )
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    baby_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("baby.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised with each updated invite sent for a change its session's revision does not
    # count (a session added to the class makes "week 2 of 4" "week 2 of 5"): the
    # invite's SEQUENCE is the session's revision plus this, so each update outranks the
    # last, as a booking's invite_sequence does.
    invite_sequence: Mapped[int] = mapped_column(default=0, server_default="0")

    credit = relationship("MakeupCredit", lazy="raise_on_sql")
    session = relationship("WorkshopSession", lazy="raise_on_sql")
    parent = relationship("User", lazy="raise_on_sql")
    baby = relationship("Baby", lazy="raise_on_sql")
