"""The outbox: emails written in the same transaction as the change that caused them."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, UTCDateTime, utcnow

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
# The subject of an email whose content was removed (erasure, or the retention time).
REDACTED_SUBJECT = "(removed for privacy)"


class OutboxMessage(Base):
    """One email waiting to be sent (or already sent) by `flask outbox send`.

    Most rows are written whole. A row with a `kind` (and `ref_id`, `params`) is first a
    note of what happened, written in the change's transaction; its subject, bodies and
    invite are rendered from that note after the change committed (`booking.mail.
    deferred`), so the change holds its locks only as long as it takes to write a row.
    Until then `body_text` is NULL and the sender leaves the row alone."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
        sa.Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    # Where replies go (the centre's contact email for an email about a class); none
    # for account emails, which say that replies are not read.
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    ics: Mapped[str | None] = mapped_column(sa.Text)
    ics_method: Mapped[str | None] = mapped_column(sa.String(10))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What happened, for a row rendered after commit: "booking_confirmed" with the
    # registration's id, say, and anything the renderer needs that could change.
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    ref_id: Mapped[int | None] = mapped_column()
    params: Mapped[dict | None] = mapped_column(sa.JSON)
