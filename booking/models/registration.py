"""Registrations (one place for one baby) and attendance."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
# A place held while the parent pays: after booking a paid class, or offered from the
# waiting list. It counts against capacity (it is one of `Workshop.confirmed_count`'s
# places) until it is paid (confirmed) or its hold ends (cancelled).
PENDING_PAYMENT = "pending_payment"
REGISTRATION_STATUSES = (CONFIRMED, WAITLISTED, PENDING_PAYMENT, CANCELLED)
# Statuses that hold one of the workshop's places.
HOLDS_PLACE = (CONFIRMED, PENDING_PAYMENT)
# Statuses of a live registration: at most one per baby and workshop (rule 4).
ACTIVE = (CONFIRMED, WAITLISTED, PENDING_PAYMENT)

PRESENT = "present"
ABSENT = "absent"

ACTIVE_WHERE = sa.text("status IN ('confirmed', 'waitlisted', 'pending_payment')")


class Registration(Base):
    """One place (or waiting-list entry) for one baby with one adult in one workshop."""

    __tablename__ = "registration"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('confirmed', 'waitlisted', 'pending_payment', 'cancelled')",
            name="status_known",
        ),
        sa.Index(
            "uq_registration_active_baby",
            "workshop_id",
            "baby_id",
            unique=True,
            sqlite_where=ACTIVE_WHERE,
            postgresql_where=ACTIVE_WHERE,
        ),
        sa.Index("ix_registration_workshop_status", "workshop_id", "status", "waitlisted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop.id", ondelete="CASCADE"))
    baby_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("baby.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20))
    held_place: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The version of the health-and-safety text agreed to when booking.
    consent_key: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    # When the parent answered or confirmed the baby's health questions for this
    # booking, and the revision of the answers they confirmed.
    health_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health_revision: Mapped[int | None]
    # The instructor (or staff) cleared an answer that needs a doctor's word:
    # when, by whom, their note, and which answers they cleared (a fingerprint, so
    # a changed answer needs clearing again).
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    clearance_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    cleared_fingerprint: Mapped[str] = mapped_column(
        sa.String(64), default="", server_default=""
    )
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    invite_sequence: Mapped[int] = mapped_column(default=0)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The session the first reminder was about, and its revision then: moved (or given
    # another room) since, it is reminded of again.
    reminder_session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="SET NULL")
    )
    reminder_revision: Mapped[int | None]
    # While pending_payment: when the held (or offered) place goes if still unpaid.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set when the pending place was offered from the waiting list (not booked).
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff marked the fee (or the rest after a deposit) as paid at the centre.
    paid_at_centre_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How much that was, in minor units (kept when the place moves to a class of another
    # price); None for a mark made before it was recorded: the class's fee at the centre.
    paid_at_centre_minor: Mapped[int | None]
    # Of it, what was paid for the class the place moved from: undoing a mark made here
    # for the rest leaves that standing.
    paid_at_centre_moved_minor: Mapped[int | None]
    # For a place moved here: what it had paid online and kept (less refunds made or on
    # their way) when it moved, which is what counts towards this class's price; None for
    # a place booked here, whose refunds later (goodwill, a cancelled week) owe nothing.
    paid_online_moved_minor: Mapped[int | None]

    workshop = relationship("Workshop", lazy="raise_on_sql")
    baby = relationship("Baby", lazy="raise_on_sql")
    parent = relationship("User", foreign_keys=[parent_id], lazy="raise_on_sql")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def holds_place(self) -> bool:
        """Whether the registration holds one of the workshop's places."""
        return self.status in HOLDS_PLACE

    def was_booked_by(self, session_ends_at: datetime) -> bool:
        """Whether it held its place when a session ended: a family who joined a course
        later (or was promoted, or paid, after it) was not at that week."""
        return self.confirmed_at is None or self.confirmed_at <= session_ends_at

    @staticmethod
    def booked_by(session_ends_at) -> sa.ColumnElement[bool]:
        """`was_booked_by` in SQL (`session_ends_at` a column, such as
        WorkshopSession.ends_at, or a time)."""
        return sa.or_(
            Registration.confirmed_at.is_(None), Registration.confirmed_at <= session_ends_at
        )

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"


class Attendance(Base):
    """Whether a registration's baby attended one session."""

    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("registration_id", "session_id"),
        sa.CheckConstraint("status IN ('present', 'absent')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(10))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
