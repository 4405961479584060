"""Invitations: an admin's emailed offer of a role, used once or withdrawn."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow
from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF

ROLE_PARENT, ROLE_ADMIN = "parent", "admin"
INVITATION_ROLES = (ROLE_PARENT, ROLE_INSTRUCTOR, ROLE_STAFF, ROLE_ADMIN)
CENTRE_ROLES = (ROLE_INSTRUCTOR, ROLE_STAFF)


class Invitation(Base):
    """One invitation to a role, sent to an email address by an admin.

    Its emailed link is consumed by setting `used_at` once, or stopped by `revoked_at`
    (withdrawn by an admin). Instructors and staff are invited to a centre, so an
    invitation goes with its centre (ON DELETE CASCADE): a centre role without the
    centre means nothing. The inviting and the accepting accounts may be erased
    (SET NULL).
    """

    __tablename__ = "invitation"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('parent', 'instructor', 'staff', 'admin')", name="role_known"
        ),
        sa.CheckConstraint(
            "(role IN ('instructor', 'staff') AND centre_id IS NOT NULL)"
            " OR (role IN ('parent', 'admin') AND centre_id IS NULL)",
            name="centre_for_centre_roles",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    centre_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("centre.id", ondelete="CASCADE")
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    centre = relationship("Centre", lazy="joined")
    invited_by = relationship("User", foreign_keys=[invited_by_id], lazy="joined")

    # Not stored: how many waiting invitations this one replaced when it was sent.
    replaced = 0

    @property
    def role_text(self) -> str:
        """The role as a phrase: "an instructor at Bristol Hub", "an admin"."""
        if self.role == ROLE_PARENT:
            return "a parent who books classes"
        if self.role == ROLE_ADMIN:
            return "an admin"
        noun = "an instructor" if self.role == ROLE_INSTRUCTOR else "a member of staff"
        return f"{noun} at {self.centre.name}"

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.role}>"
