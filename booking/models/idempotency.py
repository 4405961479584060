"""Idempotency keys: the first response to a keyed API request, kept for replays."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """One `Idempotency-Key` used by one user: the request's fingerprint and, once the
    request has succeeded, the response to replay (status, body, Location).

    A row whose `status_code` is still None is a request in progress.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def completed(self) -> bool:
        """True once the first request's response has been stored."""
        return self.status_code is not None
