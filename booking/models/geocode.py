"""The geocoder's cache: what a place search's lookup service answered, and when."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, UTCDateTime, utcnow


class PlaceAnswer(Base):
    """One looked-up postcode, outward code or place name.

    `key` is the normalised question ("uk-postcode:E18AA", "place:wapping"). A row
    without latitude and longitude is a remembered "not found".
    """

    __tablename__ = "place_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    country: Mapped[str | None] = mapped_column(sa.String(2))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def found(self) -> bool:
        """The service knew the place."""
        return self.latitude is not None and self.longitude is not None
