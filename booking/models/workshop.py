"""Workshops (courses and single classes) and their sessions."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow

KIND_COURSE = "course"
KIND_SINGLE = "single"
KINDS = (KIND_COURSE, KIND_SINGLE)

DRAFT = "draft"
PUBLISHED = "published"
CANCELLED = "cancelled"
WORKSHOP_STATUSES = (DRAFT, PUBLISHED, CANCELLED)

# How the fee is paid (PRODUCT.md): nothing to pay, all at the centre, all online
# when booking, or a deposit online and the rest at the centre.
PAY_FREE = "free"
PAY_AT_CENTRE = "at_centre"
PAY_ONLINE = "online"
PAY_DEPOSIT = "deposit"
PAYMENT_MODES = (PAY_FREE, PAY_AT_CENTRE, PAY_ONLINE, PAY_DEPOSIT)
ONLINE_MODES = (PAY_ONLINE, PAY_DEPOSIT)

SCHEDULED = "scheduled"
SESSION_STATUSES = (SCHEDULED, CANCELLED)

workshop_topic = sa.Table(
    "workshop_topic",
    Base.metadata,
    sa.Column(
        "workshop_id",
        sa.ForeignKey("workshop.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("topic", sa.String(40), primary_key=True, index=True),
)


class Workshop(Base):
    """A bookable offering at a centre: a course of sessions or a single session."""

    __tablename__ = "workshop"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('course', 'single')", name="kind_known"),
        sa.CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status_known"),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("confirmed_count >= 0", name="confirmed_not_negative"),
        sa.CheckConstraint("confirmed_count <= capacity", name="confirmed_within_capacity"),
        sa.CheckConstraint("min_age_weeks >= 0", name="min_age_not_negative"),
        sa.CheckConstraint("min_age_weeks <= max_age_weeks", name="age_range_ordered"),
        sa.CheckConstraint("held_claimed >= 0", name="held_claimed_not_negative"),
        sa.CheckConstraint("held_claimed <= held_places", name="held_claimed_within_held"),
        sa.CheckConstraint("late_join_until >= 1", name="late_join_positive"),
        sa.CheckConstraint(
            "payment_mode IN ('free', 'at_centre', 'online', 'deposit')", name="payment_mode_known"
        ),
        sa.CheckConstraint("deposit IS NULL OR deposit > 0", name="deposit_positive"),
        sa.CheckConstraint("refund_fee >= 0", name="refund_fee_not_negative"),
        sa.Index("ix_workshop_status_first_starts_at", "status", "first_starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centre.id"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10), default=KIND_COURSE)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    what_to_bring: Mapped[str] = mapped_column(sa.Text, default="")
    capacity: Mapped[int] = mapped_column(default=8)
    confirmed_count: Mapped[int] = mapped_column(default=0)
    min_age_weeks: Mapped[int] = mapped_column(default=6)
    max_age_weeks: Mapped[int] = mapped_column(default=52)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), default=Decimal("0.00"))
    cancellation_cutoff_hours: Mapped[int] = mapped_column(default=24)
    payment_mode: Mapped[str] = mapped_column(
        sa.String(10), default=PAY_AT_CENTRE, server_default=PAY_AT_CENTRE
    )
    # Minor units (pence, cents) of the centre's currency.
    deposit: Mapped[int | None] = mapped_column()
    # Kept back from a parent's refund when they cancel before the cut-off.
    refund_fee: Mapped[int] = mapped_column(default=0, server_default="0")
    # The plan template the sessions' plans were copied from ("" when written by hand).
    plan_template: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    status: Mapped[str] = mapped_column(sa.String(10), default=DRAFT)
    # Cancelled while a draft: it was not shown to the public then, so its cancellation
    # is not either (a published class cancelled stays on its page and in the feeds).
    cancelled_while_draft: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    min_places: Mapped[int | None] = mapped_column()
    decision_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_confirmed: Mapped[bool] = mapped_column(default=False)
    held_places: Mapped[int] = mapped_column(default=0)
    held_claimed: Mapped[int] = mapped_column(default=0)
    # The places staff chose to hold, which a copy of the workshop holds again: when the
    # unclaimed ones are released, `held_places` drops to those claimed, this stays.
    held_set: Mapped[int] = mapped_column(default=0, server_default="0")
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_join_until: Mapped[int] = mapped_column(default=1)
    first_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre = relationship("Centre", back_populates="workshops", lazy="raise_on_sql")
    instructor = relationship("User", lazy="raise_on_sql")
    sessions = relationship(
        "WorkshopSession",
        back_populates="workshop",
        order_by="WorkshopSession.number",
        lazy="raise_on_sql",
        cascade="all, delete-orphan",
    )

    @property
    def held_unclaimed(self) -> int:
        """Held places not yet claimed with a referral code."""
        return self.held_places - self.held_claimed

    @property
    def places_left(self) -> int:
        """Places the public can still book (rule 11)."""
        return max(0, self.capacity - self.confirmed_count - self.held_unclaimed)

    @property
    def is_full(self) -> bool:
        """No place left for the public: unclaimed held places count as taken (rule 11),
        so staff and parents see the same answer."""
        return self.places_left == 0

    def at_risk(self, confirmed: int) -> bool:
        """Published, below its minimum and not confirmed to run: it may be cancelled at
        its decision time. `confirmed`: its confirmed places, as the decision counts them
        (not those held while families pay, which `confirmed_count` includes)."""
        return (
            self.status == PUBLISHED
            and self.min_places is not None
            and not self.run_confirmed
            and confirmed < self.min_places
        )

    @property
    def price_minor(self) -> int:
        """The price in minor units (pence, cents)."""
        return int((self.price or 0) * 100)

    @property
    def online_amount(self) -> int:
        """What is paid online when booking, in minor units: the price, the deposit, or 0."""
        if self.payment_mode == PAY_ONLINE:
            return self.price_minor
        if self.payment_mode == PAY_DEPOSIT:
            return min(self.deposit or 0, self.price_minor)
        return 0

    @property
    def pays_online(self) -> bool:
        """Whether booking a place means paying online (the whole fee or a deposit)."""
        return self.payment_mode in ONLINE_MODES and self.online_amount > 0

    @property
    def is_course(self) -> bool:
        return self.kind == KIND_COURSE

    @property
    def has_public_page(self) -> bool:
        """Shown to the public (its centre aside): published, or cancelled once it was
        (its page and the feeds then say so)."""
        return self.status == PUBLISHED or (
            self.status == CANCELLED and not self.cancelled_while_draft
        )

    @staticmethod
    def has_public_page_sql() -> sa.ColumnElement[bool]:
        """`has_public_page` in SQL."""
        return sa.or_(
            Workshop.status == PUBLISHED,
            sa.and_(Workshop.status == CANCELLED, Workshop.cancelled_while_draft.is_(False)),
        )

    def __repr__(self) -> str:
        return f"<Workshop {self.id} {self.title!r}>"


class WorkshopSession(Base):
    """One meeting of a workshop, stored in UTC; a course's sessions are numbered."""

    __tablename__ = "workshop_session"
    __table_args__ = (
        sa.UniqueConstraint("workshop_id", "number"),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name="status_known"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("absences >= 0", name="absences_not_negative"),
        sa.CheckConstraint("makeups_taken >= 0", name="makeups_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    room: Mapped[str] = mapped_column(sa.String(120), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default=SCHEDULED)
    revision: Mapped[int] = mapped_column(default=0)
    absences: Mapped[int] = mapped_column(default=0, server_default="0")
    makeups_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    # The session's plan: what this week teaches ("Week 2: tummy, for wind and colic"),
    # and the home-practice sheet families get after it (booking.services.plans).
    plan_title: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    plan_covers: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    plan_practice: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the centre cancelled it (None while it is on, and for sessions cancelled
    # before this was kept, whose updated_at says it): a family who pays for a held
    # place is offered a share of each week cancelled since they were asked to pay.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workshop = relationship("Workshop", back_populates="sessions", lazy="raise_on_sql")

    @property
    def is_cancelled(self) -> bool:
        return self.status == CANCELLED

    def __repr__(self) -> str:
        return f"<WorkshopSession {self.workshop_id}#{self.number}>"
