"""People: users, their roles at centres, instructor profiles and babies."""

import unicodedata
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow

ROLE_STAFF = "staff"
# Born this many days or more before the due date: ages are corrected from it.
PREMATURE_DAYS = 21
ROLE_INSTRUCTOR = "instructor"
MEMBERSHIP_ROLES = (ROLE_STAFF, ROLE_INSTRUCTOR)


class User(UserMixin, Base):
    """Anyone with an account. Everyone can book as a parent; roles add more."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    session_version: Mapped[int] = mapped_column(default=1)
    feed_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Bumped by "make a new link" and "stop the link": the private feed link is derived
    # from it (booking.services.accounts.feed_tokens), so the old link stops at once.
    feed_link_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships = relationship(
        "Membership", back_populates="user", lazy="selectin", cascade="all, delete-orphan"
    )
    instructor_profile = relationship(
        "InstructorProfile", back_populates="user", uselist=False, lazy="raise_on_sql"
    )
    babies = relationship("Baby", back_populates="parent", lazy="raise_on_sql")

    def get_id(self) -> str:
        """Session identity: the id and the session version, so old sessions end."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def centre_ids(self, role: str) -> set[int]:
        """Ids of the centres where the user holds a role."""
        return {m.centre_id for m in self.memberships if m.role == role}

    @property
    def is_staff(self) -> bool:
        return self.is_admin or any(m.role == ROLE_STAFF for m in self.memberships)

    @property
    def is_instructor(self) -> bool:
        return any(m.role == ROLE_INSTRUCTOR for m in self.memberships)

    def can_manage_centre(self, centre_id: int) -> bool:
        """Staff of the centre, or an admin."""
        return self.is_admin or centre_id in self.centre_ids(ROLE_STAFF)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(Base):
    """A user's role (staff or instructor) at one centre."""

    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "centre_id", "role"),
        sa.CheckConstraint("role IN ('staff', 'instructor')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    centre_id: Mapped[int] = mapped_column(
        sa.ForeignKey("centre.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", back_populates="memberships", lazy="raise_on_sql")
    centre = relationship("Centre", back_populates="memberships", lazy="raise_on_sql")


class InstructorProfile(Base):
    """What parents see about an instructor."""

    __tablename__ = "instructor_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    display_name: Mapped[str] = mapped_column(sa.String(120))
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    qualification: Mapped[str] = mapped_column(sa.String(200), default="")
    topics: Mapped[str] = mapped_column(sa.String(400), default="")

    user = relationship("User", back_populates="instructor_profile", lazy="raise_on_sql")

    @property
    def topic_slugs(self) -> list[str]:
        """The topics the instructor specialises in."""
        return [t for t in self.topics.split(";") if t]


# Characters that take no room and tell no names apart: soft hyphen, grapheme joiner,
# Mongolian vowel separator, zero-width space, direction marks, word joiner and the
# invisible operators, byte-order mark (not ZWNJ and ZWJ, which change how letters join).
_NO_ROOM = frozenset(
    "\u00ad\u034f\u180e\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
)


def eligible_age_weeks(date_of_birth: date, due_date: date | None, day: date) -> int:
    """Whole weeks of the age that decides which classes fit, on a day: from the due
    date for a baby born PREMATURE_DAYS or more before it (corrected), else from birth.
    The columns alone, so a count of many babies need not load each one."""
    if due_date is not None and (due_date - date_of_birth).days >= PREMATURE_DAYS:
        return (day - due_date).days // 7
    return (day - date_of_birth).days // 7


class BabyAges:
    """A baby's ages, from its `date_of_birth` and `due_date`: shared by `Baby` and by
    the plain rows a page reads a parent's babies as (`queries.PanelBaby`), so both
    count ages by the same rules."""

    def age_weeks_on(self, day: date) -> int:
        """Whole weeks of age on a day, counted from birth."""
        return (day - self.date_of_birth).days // 7

    @property
    def is_premature(self) -> bool:
        """Born 3 or more weeks before the due date: ages are corrected."""
        return (
            self.due_date is not None
            and (self.due_date - self.date_of_birth).days >= PREMATURE_DAYS
        )

    def corrected_age_weeks_on(self, day: date) -> int | None:
        """Whole weeks of corrected age (from the due date) on a day; None when the
        baby was not born 3 or more weeks early."""
        if not self.is_premature:
            return None
        return (day - self.due_date).days // 7

    def eligible_age_weeks_on(self, day: date) -> int:
        """The age that decides which classes fit: corrected for a baby born 3 or
        more weeks early, else from birth (`eligible_age_weeks`)."""
        return eligible_age_weeks(self.date_of_birth, self.due_date, day)


class Baby(BabyAges, Base):
    """A parent's baby: a name or nickname and a date of birth."""

    __tablename__ = "baby"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name_key", "date_of_birth"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80))
    name_key: Mapped[str] = mapped_column(sa.String(80))
    date_of_birth: Mapped[date] = mapped_column(sa.Date)
    # The day the baby was due: a baby born 3 or more weeks early has its age
    # corrected from it (PRODUCT.md booking rule 2).
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    immunisation_date: Mapped[date | None] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent = relationship("User", back_populates="babies", lazy="raise_on_sql")

    @staticmethod
    def key_for(name: str) -> str:
        """The form of a name used to recognise the same baby twice: without case,
        spaces or characters that take no room (a zero-width space), and with accents
        composed one way ("Zoë" typed as e and a combining diaeresis is "Zoë"). The
        joiners that change how Persian or Indic letters join stay: they tell names
        apart. (Migration 0011 brought the keys saved before to this form.)"""
        composed = unicodedata.normalize("NFC", name)
        visible = "".join(ch for ch in composed if ch not in _NO_ROOM)
        return " ".join(visible.split()).casefold()

    @staticmethod
    def anonymised_key_sql() -> sa.ColumnElement:
        """SQL for the name_key an anonymised baby has ('erased-<id>'): kept for counts
        by age only, never again a parent's baby to list, edit or book."""
        return sa.literal("erased-") + sa.cast(Baby.id, sa.String)

    def anonymised_key(self) -> str:
        """`anonymised_key_sql` for this baby."""
        return f"erased-{self.id}"

    @property
    def is_anonymised(self) -> bool:
        """Anonymised (account erased, or past the retention time)."""
        return self.name_key == self.anonymised_key()

