"""Centres: where classes happen."""

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.models.base import Base, UTCDateTime, utcnow


def one_line_address(*parts: str | None) -> str:
    """A centre's address, town and postcode on one line (`Centre.full_address`)."""
    return ", ".join(p for p in parts if p)


# The countries a centre may be in, with the currency its prices are in.
CURRENCIES = {"GB": "GBP", "IE": "EUR", "AU": "AUD", "NZ": "NZD", "US": "USD", "CA": "CAD"}


class Centre(Base):
    """A children's centre, family hub, clinic or studio that runs classes."""

    __tablename__ = "centre"
    __table_args__ = (
        # The bounding-box prefilter of the distance search.
        sa.Index("ix_centre_latitude_longitude", "latitude", "longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    town: Mapped[str] = mapped_column(sa.String(120), default="", index=True)
    postcode: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    country: Mapped[str] = mapped_column(sa.String(2), default="GB")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/London")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    accessibility_notes: Mapped[str] = mapped_column(sa.Text, default="")
    embed_origins: Mapped[str] = mapped_column(sa.Text, default="")
    published: Mapped[bool] = mapped_column(default=True)
    # When it was first shown to the public; never cleared, so a class published later
    # never shows again a centre an admin hid (services.catalogue.centres).
    first_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    workshops = relationship("Workshop", back_populates="centre", lazy="raise_on_sql")
    memberships = relationship("Membership", back_populates="centre", lazy="raise_on_sql")

    @property
    def tz(self) -> ZoneInfo:
        """The centre's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def currency(self) -> str:
        """The currency prices are shown in, from the centre's country."""
        return CURRENCIES.get(self.country, "GBP")

    @property
    def full_address(self) -> str:
        """Address, town and postcode on one line."""
        return one_line_address(self.address, self.town, self.postcode)

    @property
    def allowed_embed_origins(self) -> list[str]:
        """Origins allowed to frame the centre's embedded schedule."""
        return [o.strip() for o in self.embed_origins.split() if o.strip()]

    def __repr__(self) -> str:
        return f"<Centre {self.slug}>"
