"""Online payments, their refunds, and the payment provider's events already acted on.

A payment is one amount asked of a parent for one registration (the whole fee, or a
deposit). A refund is written as a row in the same transaction as the change that
causes it, like an email in the outbox, and carried out afterwards by
`flask payments run`, with the row's id as the provider's idempotency key.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow

# Payment purposes: the whole fee, or the deposit of a deposit workshop.
FULL = "full"
DEPOSIT = "deposit"

# Payment statuses.
OPEN = "open"  # waiting for the parent to pay
SUCCEEDED = "succeeded"  # money taken
ABANDONED = "abandoned"  # the hold ended unpaid (a late success is still honoured)

# Refund statuses.
REFUND_PENDING = "pending"  # to be carried out by the payments worker
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"  # the provider refused it for good: staff must act
AWAITING_CHOICE = "awaiting_choice"  # a cancelled session: the parent may take a make-up
WITHDRAWN = "withdrawn"  # the parent chose a make-up credit instead

# Who caused a refund.
BY_PARENT = "parent"
BY_CENTRE = "centre"
BY_STAFF = "staff"
BY_SYSTEM = "system"


class Payment(Base):
    """One amount asked of a parent online for one registration."""

    __tablename__ = "payment"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('full', 'deposit')", name="purpose_known"),
        sa.CheckConstraint(
            "status IN ('open', 'succeeded', 'abandoned')", name="status_known"
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("refunded >= 0", name="refunded_not_negative"),
        sa.CheckConstraint("refunded <= amount", name="refunded_within_amount"),
        sa.Index("ix_payment_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    workshop_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centre.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(10), default=FULL)
    amount: Mapped[int] = mapped_column()  # minor units
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(10), default=OPEN)
    refunded: Mapped[int] = mapped_column(default=0)  # minor units refunded so far
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    stripe_client_secret: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration = relationship("Registration", lazy="raise_on_sql")

    @property
    def reference(self) -> str:
        """The reference printed on receipts and shown to staff."""
        return f"PAY-{self.id:06d}"

    @property
    def provider_key(self) -> str:
        """This row's name at the provider (idempotency key and metadata): its id and
        the microsecond it was made, so a row id used again (a database restored from
        a backup, a second site on the same account) never matches an old payment."""
        return provider_key(self.id, self.created_at)

    @property
    def kept(self) -> int:
        """What the centre keeps of this payment after refunds, in minor units."""
        return self.amount - self.refunded if self.status == SUCCEEDED else 0


def provider_key(row_id: int, created_at: datetime) -> str:
    """'<id>-<microseconds since the epoch>': a row's unique name at the provider."""
    return f"{row_id}-{int(created_at.timestamp() * 1_000_000)}"


class Refund(Base):
    """Money to give back on a payment: written with its cause, carried out once."""

    __tablename__ = "refund"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'awaiting_choice', 'withdrawn')",
            name="status_known",
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint(
            "initiated_by IN ('parent', 'centre', 'staff', 'system')", name="initiated_by_known"
        ),
        sa.UniqueConstraint("payment_id", "session_id"),
        sa.Index("ix_refund_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    # A cancelled session's share of a course fee (the parent may take a make-up instead).
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="SET NULL")
    )
    amount: Mapped[int] = mapped_column()  # minor units
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    initiated_by: Mapped[str] = mapped_column(sa.String(10), default=BY_SYSTEM)
    status: Mapped[str] = mapped_column(sa.String(16), default=REFUND_PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment = relationship("Payment", lazy="raise_on_sql")

    @property
    def provider_key(self) -> str:
        """This refund's name at the provider (see `Payment.provider_key`)."""
        return provider_key(self.id, self.created_at)


class StripeEvent(Base):
    """A provider event already acted on: each event id is acted on once."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
